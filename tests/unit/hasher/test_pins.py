"""The version a chunked s3:// job was planned from: how it is written, read back, and
compared with what the store holds when a chunk runs (pure: no store)."""

from __future__ import annotations

import pytest
from cognify_events import HashChunkRequestedPayload, HashTarget
from cognify_hasher import pins
from cognify_hasher.pins import Pin
from cognify_objectstore import StoredObject

V1 = "b2b7f26d-922e-4424-a56b-3f582251d7aa"
V2 = "b1dc9984-b476-4751-b919-89f9148c93af"
E1 = "4588ff3797b78d819d858fa3bdd82b09"
E2 = "0b34ee47b333ff0dc3caafcdcb1650f8"


def test_a_version_id_is_pinned_before_an_etag() -> None:
    assert pins.of_object(StoredObject("k", V1, E1)) == Pin(pins.VERSION_ID, V1)
    assert pins.of_object(StoredObject("k", None, E1)) == Pin(pins.ETAG, E1)
    assert pins.of_object(StoredObject("k", None, None)) is None


def test_a_pin_round_trips_through_its_text_and_says_what_to_ask_for() -> None:
    for pin in (Pin(pins.VERSION_ID, V1), Pin(pins.ETAG, E1), Pin(pins.OBJECTS, "ab" * 32)):
        assert Pin.parse(str(pin)) == pin
        payload = _payload(str(pin))  # the event accepts every form the hasher writes
        assert payload.source_version == str(pin)
    assert str(Pin(pins.VERSION_ID, V1)) == f"version-id:{V1}"
    assert (Pin(pins.VERSION_ID, V1).version_id, Pin(pins.VERSION_ID, V1).if_match) == (V1, None)
    assert (Pin(pins.ETAG, E1).version_id, Pin(pins.ETAG, E1).if_match) == (None, E1)
    assert (Pin(pins.OBJECTS, "ab").version_id, Pin(pins.OBJECTS, "ab").if_match) == (None, None)
    for bad in ("", "version-id:", "md5:abc", V1):
        with pytest.raises(ValueError, match="not a source version"):
            Pin.parse(bad)


def test_a_changed_object_is_stale_with_the_reason() -> None:
    pinned = Pin(pins.VERSION_ID, V1)
    assert pins.stale(pinned, StoredObject("k", V1, E1, 10)) is None
    assert pins.stale(pinned, StoredObject("k", V2, E1, 10)) == (
        f"version {V1} is no longer current; it is now {V2}"
    )
    assert pins.stale(pinned, StoredObject("k", None, E1, 10)) == (
        f"version {V1} is no longer current; it is now unversioned"
    )
    tagged = Pin(pins.ETAG, E1)
    assert pins.stale(tagged, StoredObject("k", V2, E1, 10)) is None  # the same bytes
    assert pins.stale(tagged, StoredObject("k", None, E2, 10)) == (
        f"ETag {E1} is no longer current; it is now {E2}"
    )
    assert "is now one object" in (
        pins.stale(Pin(pins.OBJECTS, "ab"), StoredObject("k", V1, E1)) or ""
    )
    assert pins.changed("s3://b/k", "why") == "s3://b/k changed after the job was planned (why)"


def test_the_objects_of_a_prefix_are_pinned_by_key_and_version_in_key_order() -> None:
    a, b = Pin(pins.VERSION_ID, V1), Pin(pins.ETAG, E1)
    one = pins.of_objects([("state.json", a), ("data-00000-of-00001.arrow", b)])
    assert one.kind == pins.OBJECTS and len(one.value) == 64
    assert one == pins.of_objects([("data-00000-of-00001.arrow", b), ("state.json", a)])
    assert one != pins.of_objects([("state.json", b), ("data-00000-of-00001.arrow", a)])
    assert one != pins.of_objects([("state.json", a)]), "an object gone"
    assert one != pins.of_objects([("state.json", a), ("data-00000-of-00001.arrow", b), ("x", b)])
    # Key order is byte order (as listings and manifests sort): "Z" before "a".
    assert pins.of_objects([("a", a), ("Z", b)]) == pins.of_objects([("Z", b), ("a", a)])


def _payload(version: str) -> HashChunkRequestedPayload:
    return HashChunkRequestedPayload(
        job_id="job-1",
        plan_id="ab" * 8,
        chunk_index=0,
        chunk_count=2,
        target=HashTarget.DATASET,
        target_id="ds-1",
        source_uri="s3://b/k.jsonl",
        record_offset=0,
        record_count=4,
        source_version=version,
    )
