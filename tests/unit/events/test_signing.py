"""HMAC signatures: what ingest uses to reject forged events."""

from __future__ import annotations

import json
from typing import Any

import cognify_events as ev
from cognify_events import signing
from cognify_events.codec import encode
from cognify_events.signing import canonical_bytes
from hypothesis import given
from hypothesis import strategies as st

from .samples import all_samples

KEY = "cgk_writer_secret"


def _signed_wire_object() -> dict[str, object]:
    signed = ev.sign(all_samples()[4], KEY)
    return json.loads(encode(signed))  # type: ignore[arg-type, no-any-return]


def test_a_signed_event_verifies_with_its_key_after_the_wire() -> None:
    assert ev.verify(_signed_wire_object(), signing.signing_key(KEY))


def test_a_wrong_key_or_a_changed_field_fails_verification() -> None:
    obj = _signed_wire_object()
    assert not ev.verify(obj, signing.signing_key("another-key"))
    tampered = json.loads(json.dumps(obj))
    tampered["payload"]["metrics"]["loss"] = 0.01
    assert not ev.verify(tampered, signing.signing_key(KEY))


def test_an_unsigned_event_does_not_verify() -> None:
    obj = json.loads(encode(all_samples()[4]))  # type: ignore[arg-type]
    assert obj["signature"] is None
    assert not ev.verify(obj, signing.signing_key(KEY))


def test_verification_does_not_depend_on_key_order_or_spacing() -> None:
    obj = _signed_wire_object()
    reordered = json.loads(json.dumps(dict(reversed(list(obj.items()))), indent=3))
    assert ev.verify(reordered, signing.signing_key(KEY))


def test_the_signature_vector_from_the_spec_holds() -> None:
    # docs/spec/events.md, "Signature test vector".
    obj = {"b": 1, "a": "é", "signature": None}
    key = signing.signing_key("key")
    assert key.hex() == "08e934d8df4a7f5975f5f72ba26669c1e8a4777a03263691f0e35c714efa4381"
    assert signing.canonical_bytes(obj) == '{"a":"é","b":1}'.encode()
    assert signing.signature_for(obj, key) == (
        "hmac-sha256:718e6b50f295894fe64df7d2ee2ad0cd289189fb49a57251d7e686da078c02a0"
    )


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _VALUES, max_size=6))
def test_canonical_bytes_are_the_documented_json_dumps(obj: dict[str, Any]) -> None:
    """docs/spec/events.md: json.dumps(sort_keys, compact separators, UTF-8) without the
    signature member; the cached C encoder must be exactly that."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes({**obj, "signature": "x"}) == expected.encode()
