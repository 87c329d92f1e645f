"""`PATCH /v2/workspaces/{workspace_id}/documentation`: the organisation's documentation of
the workspace, as a `documentation.updated` fact (pure: no I/O).

A body names the fields to change: a string sets one, `null` clears it; fields not named
are unchanged. Who changed it comes from the admin key (its holder), never from the body.
Ingest keeps no copy: the document is the fold of the workspace's events in lineage's
store (docs/spec/events.md, "documentation.updated"), which the exporter reads at a seal.
"""

from __future__ import annotations

from typing import Annotated

from cognify_access.records import WORKSPACE_PROJECT
from cognify_events import DocField, DocumentationUpdated, DocumentationUpdatedPayload, Producer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .commands import Body, identity
from .credentials import Principal

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16_384)]
URL = Annotated[str, StringConstraints(pattern=r"^https?://[!-~]{1,2000}$")]


class DocumentationPatch(Body):
    """Each member optional; a string sets the field, null clears it. Text the event could
    not hold (a NUL, a lone surrogate) is a 422 here, like every command body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intended_use: Text | None = None
    known_limitations: Text | None = None
    deployment_restrictions: Text | None = None
    acceptable_use_policy: Text | None = None
    data_source_categories: Text | None = None
    human_oversight: Text | None = None
    risk_management: Text | None = None
    standards_applied: Text | None = None
    declaration_of_conformity: Text | None = None
    post_market_monitoring: Text | None = None
    phi_handling: Text | None = None
    incident_policy_url: URL | None = None
    encryption_at_rest: Text | None = None


class DocumentationChanged(BaseModel):
    event_id: str
    set: Annotated[list[str], Field(description="fields given new text")]
    cleared: list[str]
    updated_by: str


def changes(body: DocumentationPatch) -> tuple[dict[DocField, str], list[DocField]] | str:
    """The fields set and cleared, or why the body changes nothing."""
    named = body.model_fields_set
    if not named:
        return "name at least one field (a string sets it, null clears it)"
    given = body.model_dump()
    set_ = {DocField(k): given[k] for k in sorted(named) if given[k] is not None}
    cleared = [DocField(k) for k in sorted(named) if given[k] is None]
    return set_, cleared


def documentation_updated(
    p: Principal, set_: dict[DocField, str], cleared: list[DocField], producer: Producer
) -> DocumentationUpdated:
    return DocumentationUpdated(
        workspace_id=p.workspace_id,
        project=WORKSPACE_PROJECT,
        run_id=None,
        producer=producer,
        payload=DocumentationUpdatedPayload(
            set=set_, cleared=cleared, updated_by=identity(p).name, key_id=p.key_id
        ),
    )
