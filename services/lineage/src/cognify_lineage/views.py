"""The read API's bodies as models, for its OpenAPI (pure).

They document what `api.py` returns (built by `graph` and `queries`); they do not filter
it: each allows members it does not name, so a member added to a view is an addition, not
a break. The lineage graph's own schema is the spec's (docs/spec/lineage-graph.schema.json).
schemathesis checks every answer against these (tests/integration/test_schemathesis.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cognify_access.responses import inline_refs
from pydantic import BaseModel, ConfigDict, Field
from pydantic import JsonValue as Json

_LINEAGE_SCHEMA = "lineage-graph.schema.json"


class View(BaseModel):
    model_config = ConfigDict(extra="allow")


class Page(View):
    limit: int
    offset: int


class RunRow(View):
    run_id: str
    project: str
    name: str | None
    status: str = Field(description="running completed failed interrupted abandoned AUDIT_SEALED")
    tags: dict[str, str]
    started_at: str | None
    last_event_at: str
    sealed_at: str | None


class ListedRun(RunRow):
    ended_at: str | None
    approval: str = Field(description="approved, rejected, or pending (no decision yet)")
    open_findings: int


class RunList(Page):
    runs: list[ListedRun]
    total: int = Field(description="how many runs match the filters in all")


class AccessEntry(View):
    event_id: str
    actor: str
    role: str
    action: str
    object_id: str
    address: str | None
    allowed: bool
    time: str


class AccessLog(Page):
    workspace_id: str
    entries: list[AccessEntry]
    total: int


class Finding(View):
    id: str
    kind: str
    subject: str | None
    opened_at: str
    detail: dict[str, Json]
    resolved_at: str | None
    resolution: dict[str, Json] | None


class Gap(View):
    from_: int = Field(alias="from")
    to: int


class SealRefusal(View):
    """The exporter's latest refusal to seal the run (`run.seal_refused`)."""

    reasons: list[str]
    request_id: str | None  # the run.seal_requested it answers
    requested_by: str
    at: str
    event_id: str


class RunSummary(RunRow):
    """The run with its findings; the members after `sequence_gaps` (system, end, review,
    seal, ...) are what the run's events recorded."""

    workspace_id: str
    seq_high: int | None
    sequence_gaps: list[Gap]
    findings: list[Finding]
    seal_refused: SealRefusal | None = None  # null: no seal of the run was refused


class Findings(View):
    run_id: str
    findings: list[Finding]


class Point(View):
    step: int
    value: float
    epoch: float | None
    time: str


class MetricSeries(View):
    run_id: str
    series: dict[str, list[Point]]


class Chain(View):
    valid: bool
    length: int
    head: str | None
    broken_event_id: str | None
    broken_index: int | None
    reason: str | None
    message: str
    checked_at: str | None = Field(
        default=None,
        description="when this verification read the chain (the run page's may be kept up "
        "to 15 s while the run does not change; GET .../chain verifies afresh)",
    )


class AnchorDifference(View):
    index: int
    exact: bool
    last_agreeing_index: int
    anchored_at: str
    reason: str
    event_id: str | None
    seq: int | None
    type: str | None


class Anchors(View):
    """The chain compared with the heads lineage anchored in Object Lock storage."""

    checked: bool = Field(description="false: the anchors could not be read")
    valid: bool | None
    segments: int
    anchored_length: int
    anchored_head: str | None
    last_anchored_at: str | None
    first_difference: AnchorDifference | None
    problems: list[str]
    message: str


class ChainWithAnchors(Chain):
    anchors: Anchors | None = None


class ChainStatus(View):
    run_id: str
    chain: ChainWithAnchors


class AnchorKey(View):
    key_id: str
    algorithm: str
    public_key_pem: str
    public_key_b64: str
    trusted: list[str]
    development: bool = Field(description="true: the development key, which proves nothing")


class StoredEvent(View):
    index: int
    event_id: str
    hash: str
    prev_hash: str
    event: Json = Field(description="the event as stored (its JSON)")


class EventPage(View):
    run_id: str
    chain: ChainWithAnchors
    total: int
    events: list[StoredEvent]


class Person(View):
    name: str
    role: str


class Annotation(View):
    annotation_id: str
    node_id: str
    author: Person
    text: str
    time: str


class Annotations(View):
    run_id: str
    annotations: list[Annotation]


class Reviewer(Person):
    key_id: str | None = Field(None, description="the API key the decision was made with")


class ReviewedChain(View):
    head: str
    length: int


class Approval(View):
    event_id: str
    decision: str
    reviewer: Reviewer
    comment: str | None
    time: str
    reviewed_chain: ReviewedChain | None = Field(
        None, description="the run's chain as the decision was taken (null: not recorded)"
    )
    stale: bool | None = Field(
        None,
        description="true: the run changed since by more than reviews, and the decision no "
        "longer counts; null: recorded before decisions named the chain",
    )
    stale_reason: str | None = None
    lineage_digest: str | None = Field(
        None, description="the run's lineage digest as folded just before the decision"
    )
    lineage_changed: bool | None = Field(
        None, description="true: the run's lineage graph is not the one decided on"
    )


class Approvals(View):
    run_id: str
    lineage_digest: str | None = Field(None, description="the run's lineage digest now")
    approvals: list[Approval]


@cache
def lineage_schema() -> dict[str, Any]:
    """The lineage graph's JSON Schema (the spec's), shipped with the package."""
    text = (Path(__file__).parent / _LINEAGE_SCHEMA).read_text()
    return inline_refs(json.loads(text))
