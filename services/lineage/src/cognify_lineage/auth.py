"""Who is calling the read API: bearer keys of the `api_keys` table (pure: no I/O).

The key format and hashing are cognify_access.keys, shared with ingest (which issues keys)
and the exporter. Every role of a workspace may read that workspace.
"""

from __future__ import annotations

from dataclasses import dataclass

from cognify_access.keys import key_id_of, matches
from cognify_events import AccessRecorded, AccessRecordedPayload, Producer

__all__ = ["Principal", "access", "key_id_of", "matches"]

ROLES = ("writer", "reviewer", "admin")
WORKSPACE_PROJECT = "workspace"  # the project of workspace-level events (run_id is null)


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
