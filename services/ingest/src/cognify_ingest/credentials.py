"""API keys and what each role may do (pure: no I/O).

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
from enum import StrEnum

from cognify_events.signing import signing_key

_KEY = re.compile(r"^cgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class Role(StrEnum):
    WRITER = "writer"  # the SDK: training events only
    REVIEWER = "reviewer"  # read, annotate, approve/reject, request a seal, document diffs
    ADMIN = "admin"  # everything, including retention and key management


# Event types a key may sign for the raw topic or POST /v1/events. Everything else is made
# by the services or by the API on a reviewer's behalf, never accepted from outside.
TRAINING_EVENTS = frozenset(
    {
        "run.started",
        "run.config_captured",
        "run.system_info",
        "run.heartbeat",
        "metrics.logged",
        "evaluation.recorded",
        "run.ended",
        "dataset.registered",
        "checkpoint.saved",
        "model.registered",
        "run.seal_requested",  # cognify.export_audit() in the SDK
    }
)


class Action(StrEnum):
    READ = "read"
    WRITE_EVENTS = "write-events"
    REVIEW = "review"  # annotate, approve, reject, request seal, document a dataset diff
    ADMINISTER = "administer"  # retention, keys


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.WRITER: frozenset({Action.READ, Action.WRITE_EVENTS}),
    Role.REVIEWER: frozenset({Action.READ, Action.REVIEW}),
    Role.ADMIN: frozenset(Action),
}


def may(role: Role, action: Action) -> bool:
    return action in ALLOWED[role]


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


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: one key of one workspace."""

    key_id: str
    workspace_id: str
    role: Role
    label: str

    @property
    def actor(self) -> str:
        return self.label or f"key:{self.key_id}"
