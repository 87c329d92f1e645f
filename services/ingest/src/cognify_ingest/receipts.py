"""What ingest's HTTP API answers when it accepts something, as models for its OpenAPI, and
the JSON Schema of the body `POST /v1/events` takes (pure).

The models document what `http.py` returns; they do not filter it (members they do not
name are allowed). schemathesis checks every answer against them
(tests/integration/test_schemathesis.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cognify_access.responses import inline_refs
from cognify_events import ExportFormat, ExportTemplate
from cognify_events.schema import schemas
from pydantic import BaseModel, ConfigDict, Field


class Receipt(BaseModel):
    model_config = ConfigDict(extra="allow")
    event_id: str = Field(description="the id of the event that records the request")


class EventAccepted(Receipt):
    accepted: bool


class AnnotationAdded(Receipt):
    annotation_id: str


class Decided(Receipt):
    decision: str = Field(description="run.approved or run.rejected")
    time: str


class SealRequested(Receipt):
    status: str


class Holder(BaseModel):
    """The person who holds a key (`issue-key --name --title [--email]`)."""

    model_config = ConfigDict(extra="allow")
    person_id: str
    name: str
    title: str
    email: str | None


class WhoAmI(BaseModel):
    """The key that made the request: its workspace, role and holder (null for a machine
    key, which has only a label)."""

    model_config = ConfigDict(extra="allow")
    workspace_id: str
    role: str = Field(description="writer, reviewer or admin")
    key_id: str
    label: str
    person: Holder | None
    compliance_tier: str = Field(
        description="the workspace's: standard, healthcare, finance, eu_ai_act"
    )
    required_provenance: list[str] = Field(
        description="the dataset provenance fields the workspace's tier requires"
    )


class TierChanged(BaseModel):
    """The workspace's tier after `PUT /v2/workspaces/{ws}/tier`; `event_id` and
    `changed_by` are null when it already was that tier (nothing changed, nothing recorded
    but the access)."""

    compliance_tier: str
    previous_tier: str
    required_provenance: list[str]
    event_id: str | None
    changed_by: str | None


class RetentionSettings(BaseModel):
    model_config = ConfigDict(extra="allow")
    retention_years: int
    archive_after_days: int
    auto_export_on_seal: bool
    auto_export_format: ExportFormat
    floor_years: int
    auto_export_template: ExportTemplate
    template_floor_years: int


@cache
def event_body_schema() -> dict[str, Any]:
    """One signed event, of any type (docs/events/*.json, inlined): what ingest admits
    once its signature, workspace and run check out."""
    events = [inline_refs(s) for name, s in sorted(schemas().items()) if name != "index.json"]
    return {
        "description": "one event (docs/events/), signed with the writer key's signing key",
        "oneOf": events,
    }
