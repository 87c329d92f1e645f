"""The read API recognises exactly the keys ingest issues."""

from __future__ import annotations

from cognify_ingest import credentials
from cognify_lineage import auth


def test_the_read_side_parses_and_matches_keys_as_ingest_issues_them() -> None:
    issued = credentials.issue()
    assert auth.key_id_of(issued.key) == credentials.key_id_of(issued.key) == issued.key_id
    assert auth.matches(issued.key, issued.key_hash)
    assert not auth.matches(issued.key + "x", issued.key_hash)
    assert auth.key_id_of("cgk_short_secret") is None
    assert set(auth.ROLES) == {r.value for r in credentials.Role}
