"""HMAC-SHA256 signatures that let ingest reject forged events.

The key is derived from the workspace API key (`signing_key`), so the server can store the
derived key instead of the API key itself: a stolen database then cannot be used to call the
API, only (as any symmetric scheme allows) to verify. The signed bytes are the canonical JSON
of the event object without its `signature` member: keys sorted, no insignificant whitespace,
non-ASCII kept as UTF-8 (docs/spec/events.md). The verifier recomputes them from the JSON
object it received, so nothing depends on how the producer ordered or spaced its output.

When the Rust accelerator of cognify-hashing (`cognify_hashing_native`, built with this
workspace) is installed, it writes the same bytes and computes the HMAC several times faster
(ingest checks a signature on every event); whatever it does not handle goes to `json`. The
variable `COGNIFY_HASHING_NATIVE=0` turns it off, as for hashing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, TypeVar

from .base import EventBase

PREFIX = "hmac-sha256:"
_DERIVATION = b"cognify-event-signing-v1:"
E = TypeVar("E", bound=EventBase)


def signing_key(api_key: str) -> bytes:
    """The HMAC key for events signed with `api_key`: SHA-256 of a fixed prefix and the key."""
    return hashlib.sha256(_DERIVATION + api_key.encode()).digest()


def _unsupported(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# `json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, with the C
# encoder built once instead of on every call (ingest computes this for every event).
_C_ENCODER = (
    None
    if c_make_encoder is None
    else c_make_encoder(None, _unsupported, encode_basestring, None, ":", ",", True, False, True)
)


try:
    import cognify_hashing_native as _native
except ImportError:  # the optional accelerator is not installed: json and hmac do it all
    _native = None  # type: ignore[assignment]
if os.environ.get("COGNIFY_HASHING_NATIVE", "1") == "0":
    _native = None  # type: ignore[assignment]


def canonical_bytes(obj: dict[str, Any]) -> bytes:
    """The signed bytes of an event object: everything but its `signature` member."""
    if _native is not None:
        body = _native.event_signing_body(obj)
        if body is not None:
            return body
    return python_canonical_bytes(obj)


def python_canonical_bytes(obj: dict[str, Any]) -> bytes:
    """`canonical_bytes` by the standard library alone: the definition."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(body, 0)).encode()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    if _native is not None:
        return _native.hmac_sha256(key, message)
    return hmac.digest(key, message, "sha256")


def signature_for(obj: dict[str, Any], key: bytes) -> str:
    return signature_of(canonical_bytes(obj), key)


def signature_of(body: bytes, key: bytes) -> str:
    """The signature of an event's canonical bytes (`canonical_bytes`) under `key`."""
    return PREFIX + hmac_sha256(key, body).hex()


def sign(event: E, api_key: str) -> E:
    obj = event.model_dump(mode="json")
    return event.model_copy(update={"signature": signature_for(obj, signing_key(api_key))})


def verify(obj: dict[str, Any], key: bytes) -> bool:
    """True when `obj` (a parsed event) carries a valid signature made with `key`, the
    derived signing key (`signing_key(api_key)`)."""
    claimed = obj.get("signature")
    if not isinstance(claimed, str):
        return False
    return hmac.compare_digest(claimed, signature_for(obj, key))
