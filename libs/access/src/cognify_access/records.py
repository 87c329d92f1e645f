"""The access record every service writes for each API use (the audit system auditing itself)."""

from __future__ import annotations

from typing import Protocol

from cognify_events import AccessRecorded, AccessRecordedPayload, Producer

WORKSPACE_PROJECT = "workspace"  # the project of workspace-level events (run_id is null)


class Caller(Protocol):
    @property
    def workspace_id(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str: ...


def access_recorded(
    p: Caller, action: str, object_id: str, address: str | None, allowed: bool, producer: Producer
) -> AccessRecorded:
    """A workspace-level record (never in a run's chain, which a seal has fixed): who did
    what to which object, from where, and whether it was allowed."""
    return AccessRecorded(
        workspace_id=p.workspace_id,
        project=WORKSPACE_PROJECT,
        run_id=None,
        producer=producer,
        payload=AccessRecordedPayload(
            actor=p.actor,
            role=str(p.role),
            action=action,
            object_id=object_id[:256],
            address=address,
            allowed=allowed,
        ),
    )
