"""MinIO, for real: Object Lock in COMPLIANCE mode refuses deletes and overwrites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cognify_objectstore import ObjectStore, RetentionRefused


def test_the_audit_bucket_has_object_lock(store: ObjectStore) -> None:
    assert store.object_lock_enabled()


def test_a_locked_object_cannot_be_deleted_or_overwritten_before_retention_ends(
    store: ObjectStore, unique: str
) -> None:
    key = f"tests/{unique}/package.json"
    until = datetime.now(UTC) + timedelta(days=1)
    stored = store.put(key, b'{"sealed": true}', "application/json", retain_until=until)
    assert stored.version_id
    mode, retain_until = store.retention(key, stored.version_id) or ("", None)
    assert mode == "COMPLIANCE" and retain_until is not None
    assert abs((retain_until - until).total_seconds()) < 2

    # Overwrite: the store refuses a write over an existing key.
    with pytest.raises(RetentionRefused, match="refused to overwrite"):
        store.put(key, b'{"sealed": false}', "application/json")

    # Delete: permanently deleting the locked version is refused by Object Lock.
    with pytest.raises(RetentionRefused, match="refused by Object Lock"):
        store.delete_version(key, stored.version_id)

    assert store.get(key, stored.version_id) == b'{"sealed": true}'
    assert store.get(key) == b'{"sealed": true}'


def test_even_an_unconditional_overwrite_leaves_the_locked_version_intact(
    store: ObjectStore, unique: str
) -> None:
    key = f"tests/{unique}/package.pdf"
    until = datetime.now(UTC) + timedelta(days=1)
    original = store.put(key, b"%PDF original", retain_until=until)
    # A client that skips the condition only adds a version; the locked bytes stay.
    newer = store.put(key, b"%PDF forged", overwrite=True)
    assert newer.version_id != original.version_id
    assert store.get(key, original.version_id) == b"%PDF original"
    with pytest.raises(RetentionRefused):
        store.delete_version(key, original.version_id)  # type: ignore[arg-type]
