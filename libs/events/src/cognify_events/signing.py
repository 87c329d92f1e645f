"""HMAC-SHA256 signatures that let ingest reject forged events.

The signed bytes are the canonical JSON of the event object without its `signature` member:
keys sorted, no insignificant whitespace, non-ASCII kept as UTF-8 (docs/spec/events.md). The
verifier recomputes them from the JSON object it received, so nothing depends on how the
producer happened to order or space its output.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, TypeVar

from .base import EventBase

PREFIX = "hmac-sha256:"
E = TypeVar("E", bound=EventBase)


def canonical_bytes(obj: dict[str, Any]) -> bytes:
    body = {k: v for k, v in obj.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature_for(obj: dict[str, Any], key: str) -> str:
    digest = hmac.new(key.encode(), canonical_bytes(obj), hashlib.sha256).hexdigest()
    return PREFIX + digest


def sign(event: E, key: str) -> E:
    obj = event.model_dump(mode="json")
    return event.model_copy(update={"signature": signature_for(obj, key)})


def verify(obj: dict[str, Any], key: str) -> bool:
    """True when `obj` (a parsed event) carries a valid signature made with `key`."""
    claimed = obj.get("signature")
    if not isinstance(claimed, str):
        return False
    return hmac.compare_digest(claimed, signature_for(obj, key))
