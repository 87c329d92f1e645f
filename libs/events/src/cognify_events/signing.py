"""HMAC-SHA256 signatures that let ingest reject forged events.

The key is derived from the workspace API key (`signing_key`), so the server can store the
derived key instead of the API key itself: a stolen database then cannot be used to call the
API, only (as any symmetric scheme allows) to verify. The signed bytes are the canonical JSON
of the event object without its `signature` member: keys sorted, no insignificant whitespace,
non-ASCII kept as UTF-8 (docs/spec/events.md). The verifier recomputes them from the JSON
object it received, so nothing depends on how the producer ordered or spaced its output.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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


def canonical_bytes(obj: dict[str, Any]) -> bytes:
    body = {k: v for k, v in obj.items() if k != "signature"}
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(body, 0)).encode()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature_for(obj: dict[str, Any], key: bytes) -> str:
    return PREFIX + hmac.new(key, canonical_bytes(obj), hashlib.sha256).hexdigest()


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
