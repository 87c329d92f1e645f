"""API keys (pure: no I/O).

A key is `cgk_<key_id>_<secret>`: `key_id` (12 hex characters) names the row in `api_keys`
so a lookup needs no scan; `secret` is 32 random bytes, URL-safe base64. The server keeps
only `key_hash` (hex SHA-256 of the whole key, for HTTP auth) and the event signing key
(`cognify_events.signing.signing_key(key)`, itself a hash, for verifying signatures).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from cognify_events.signing import signing_key

_KEY = re.compile(r"^cgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    key_hash: str
    signing_key_hex: str


def issue() -> IssuedKey:
    key_id = secrets.token_hex(6)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    key = f"cgk_{key_id}_{secret}"
    return IssuedKey(key, key_id, key_hash(key), signing_key(key).hex())


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key, None for anything else."""
    match = _KEY.match(key)
    return match[1] if match else None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(key_hash(key), stored_hash)
