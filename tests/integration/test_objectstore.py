"""MinIO, for real: Object Lock in COMPLIANCE mode refuses deletes and overwrites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cognify_objectstore import ObjectStore, ObjectStoreError, RetentionRefused, StoredObject


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


def test_a_read_says_which_version_it_read_and_can_ask_for_exactly_one(
    store: ObjectStore, unique: str
) -> None:
    """What the hasher pins a chunked job's source with: the version a GET read (from its
    response), GETs of one version id, and GETs of the current object only while its ETag
    is still the one given."""
    key = f"tests/{unique}/train.jsonl"
    first = store.put(key, b'{"a": 1}\n')
    second = store.put(key, b'{"a": 22}\n', overwrite=True)
    assert first.version_id and second.version_id and first.etag != second.etag
    with store.stream(key) as read:
        assert b"".join(read) == b'{"a": 22}\n'
    assert read.version == StoredObject(key, second.version_id, second.etag)
    assert store.stat(key) == StoredObject(key, second.version_id, second.etag, 10)
    assert store.stat(f"tests/{unique}/absent") is None

    with store.stream(key, version_id=first.version_id, offset=2, length=3) as read:
        assert b"".join(read) == b'a":'  # a ranged read of the older version
    assert read.version.version_id == first.version_id
    with store.stream(key, if_match=second.etag, offset=6) as read:
        assert b"".join(read) == b"22}\n"
    with pytest.raises(ObjectStoreError) as refused:
        store.stream(key, if_match=first.etag, offset=6)
    assert refused.value.code == "PreconditionFailed"

    store.delete_version(key, first.version_id)  # no retention on it
    with pytest.raises(ObjectStoreError) as gone:
        store.stream(key, version_id=first.version_id)
    assert gone.value.code == "NoSuchVersion"
