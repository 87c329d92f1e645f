"""API keys: the format, what is stored, and what each role may do."""

from __future__ import annotations

import hashlib

from cognify_events.signing import signing_key
from cognify_ingest.credentials import TRAINING_EVENTS, Action, Role, issue, key_id_of, matches, may


def test_a_key_has_the_documented_format_and_is_stored_only_hashed() -> None:
    issued = issue()
    prefix, key_id, secret = issued.key.split("_", 2)
    assert prefix == "cgk" and len(key_id) == 12 and int(key_id, 16) >= 0 and len(secret) == 43
    assert key_id_of(issued.key) == issued.key_id == key_id
    assert issued.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.signing_key_hex == signing_key(issued.key).hex()
    assert issued.key not in (issued.key_hash, issued.signing_key_hex)
    assert matches(issued.key, issued.key_hash) and not matches(issue().key, issued.key_hash)


def test_malformed_keys_have_no_id() -> None:
    for bad in ["", "cgk_", "cgk_0123456789ab_short", "xyz_0123456789ab_" + "a" * 43, "Bearer x"]:
        assert key_id_of(bad) is None


def test_roles() -> None:
    assert may(Role.WRITER, Action.WRITE_EVENTS) and not may(Role.WRITER, Action.REVIEW)
    assert may(Role.REVIEWER, Action.REVIEW) and not may(Role.REVIEWER, Action.WRITE_EVENTS)
    assert not may(Role.REVIEWER, Action.ADMINISTER)
    assert all(may(Role.ADMIN, a) for a in Action)
    assert all(may(r, Action.READ) for r in Role)
    assert "hash.computed" not in TRAINING_EVENTS and "run.sealed" not in TRAINING_EVENTS
