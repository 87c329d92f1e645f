"""Who is calling the read API: bearer keys of the `api_keys` table (pure: no I/O).

The key format and hashing are ingest's (cognify_ingest.credentials, where keys are issued);
the read side repeats the few lines it needs rather than depend on the ingest service, and
a unit test keeps the two in agreement. Every role of a workspace may read that workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from cognify_events import AccessRecorded, AccessRecordedPayload, Producer

_KEY = re.compile(r"^cgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
ROLES = ("writer", "reviewer", "admin")
WORKSPACE_PROJECT = "workspace"  # the project of workspace-level events (run_id is null)


def key_id_of(key: str) -> str | None:
    match = _KEY.match(key)
    return match[1] if match else None


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(key.encode()).hexdigest(), stored_hash)


@dataclass(frozen=True)
class Principal:
    key_id: str
    workspace_id: str
    role: str
    label: str

    @property
    def actor(self) -> str:
        return self.label or f"key:{self.key_id}"

    @property
    def may_read(self) -> bool:
        return self.role in ROLES


def access(
    p: Principal,
    action: str,
    object_id: str,
    address: str | None,
    allowed: bool,
    producer: Producer,
) -> AccessRecorded:
    """A workspace-level access record (never in a run's chain, which a seal has fixed)."""
    return AccessRecorded(
        workspace_id=p.workspace_id,
        project=WORKSPACE_PROJECT,
        run_id=None,
        producer=producer,
        payload=AccessRecordedPayload(
            actor=p.actor,
            role=p.role,
            action=action,
            object_id=object_id[:256],
            address=address,
            allowed=allowed,
        ),
    )
