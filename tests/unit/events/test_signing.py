"""HMAC signatures: what ingest uses to reject forged events."""

from __future__ import annotations

import hmac
import json
import random
import struct
from types import ModuleType
from typing import Any

import cognify_events as ev
import pytest
from cognify_events import signing
from cognify_events.codec import encode
from cognify_events.signing import canonical_bytes
from hypothesis import given
from hypothesis import strategies as st

from .samples import all_samples

KEY = "cgk_writer_secret"


def _accelerator() -> ModuleType | None:
    """The Rust module `cognify_events.signing` signs with: its private `_native`, or None."""
    native: ModuleType | None = vars(signing)["_native"]
    return native


def _signed_wire_object() -> dict[str, object]:
    signed = ev.sign(all_samples()[4], KEY)
    obj: dict[str, object] = json.loads(encode(signed))
    return obj


def test_a_signed_event_verifies_with_its_key_after_the_wire() -> None:
    assert ev.verify(_signed_wire_object(), signing.signing_key(KEY))


def test_a_wrong_key_or_a_changed_field_fails_verification() -> None:
    obj = _signed_wire_object()
    assert not ev.verify(obj, signing.signing_key("another-key"))
    tampered = json.loads(json.dumps(obj))
    tampered["payload"]["metrics"]["loss"] = 0.01
    assert not ev.verify(tampered, signing.signing_key(KEY))


def test_an_unsigned_event_does_not_verify() -> None:
    obj = json.loads(encode(all_samples()[4]))
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


def test_the_rust_accelerator_signs_here() -> None:
    """The workspace builds cognify_hashing_native: ingest's hot path must not silently fall
    back to the slower standard library."""
    assert _accelerator() is not None


@given(st.dictionaries(st.text(), _VALUES, max_size=6))
def test_the_accelerator_writes_the_standard_library_bytes(obj: dict[str, Any]) -> None:
    accel = _accelerator()
    assert accel is not None
    native = accel.event_signing_body({**obj, "signature": "x"})
    assert native == signing.python_canonical_bytes({**obj, "signature": "x"})


def test_the_accelerator_writes_every_kind_of_double_as_repr() -> None:
    """Python's repr of a double (shortest round trip, fixed notation for exponents -4..15,
    then d.ddde+XX) on random bit patterns and the edges of each notation."""
    accel = _accelerator()
    assert accel is not None
    rng = random.Random(20261124)
    doubles = [
        struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(50_000)
    ]
    doubles += [rng.uniform(-1e6, 1e6) for _ in range(20_000)]
    doubles += [
        0.0,
        -0.0,
        1.0,
        -1.5,
        1e-4,
        9.999e-5,
        1e-5,
        1e15,
        9999999999999998.0,
        1e16,
        1e22,
        1e-310,
        5e-324,
        1.7976931348623157e308,
        0.1,
        2e-5,
        123456789.125,
        float("nan"),
        float("inf"),
        float("-inf"),
    ]
    for value in doubles:
        assert accel.event_signing_body({"v": value}) == b'{"v":%s}' % json.dumps(value).encode(), (
            value
        )


def test_values_beyond_plain_json_go_to_the_standard_library() -> None:
    class Text(str):
        pass

    accel = _accelerator()
    assert accel is not None
    assert accel.event_signing_body({"a": Text("x")}) is None
    assert accel.event_signing_body({"a": "\ud800"}) is None  # a lone surrogate
    assert canonical_bytes({"a": Text("x"), "signature": "s"}) == b'{"a":"x"}'
    with pytest.raises(UnicodeEncodeError):  # as json.dumps(...).encode() has always done
        canonical_bytes({"a": "\ud800"})
    with pytest.raises(TypeError):
        canonical_bytes({"a": object()})


@given(st.binary(max_size=200), st.binary(max_size=2000))
def test_hmac_is_the_standard_librarys(key: bytes, message: bytes) -> None:
    assert signing.hmac_sha256(key, message) == hmac.digest(key, message, "sha256")
