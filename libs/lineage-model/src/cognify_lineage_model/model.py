"""The lineage projection as values: what `dag.fold` produces and the tables hold.

Frozen dataclasses; mappings are never changed in place (the fold copies what it changes),
so a state can be kept, compared and folded further without surprises. Everything in
`attrs`, `detail` and `info` is plain JSON (strings for times), so that the PostgreSQL
adapter stores and loads it without loss and `load == fold` can be checked with `==`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

Json = Any  # a JSON-native value: None, bool, int, float (finite), str, list, dict
DatasetKey = tuple[str, str, str]  # (workspace_id, name, source_uri or "")

SEALED = "AUDIT_SEALED"
RUNNING = "running"
ABANDONED = "abandoned"


T = TypeVar("T")


def evolve(value: T, **changes: Any) -> T:
    """`dataclasses.replace` for these frozen dataclasses (none has an __init__ or
    __post_init__ of its own), without running __init__: the fold makes a few per event,
    and replace's cost (about 9 us each) was the largest part of the fold."""
    new = object.__new__(type(value))
    new.__dict__.update(value.__dict__)
    new.__dict__.update(changes)
    return new


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_safe(value: Any) -> Json:
    """NaN and infinities (a diverged loss) are not JSON: keep them, as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


@dataclass(frozen=True)
class Node:
    type: str  # dataset config checkpoint eval model
    id: str
    ordinal: int  # order of first appearance, the order of `nodes` in the graph JSON
    time: datetime
    hash: str | None = None
    hash_status: str = "pending"  # pending computed failed
    hash_reason: str | None = None
    attrs: Mapping[str, Json] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    id: str  # e.g. dataset-changed:<dataset_id>, sequence-gap:<from>-<to>
    kind: str  # dataset-changed sequence-gap hash-failed hash-mismatch
    subject: str
    opened_at: datetime
    detail: Mapping[str, Json] = field(default_factory=dict)
    resolved_at: datetime | None = None
    resolution: Mapping[str, Json] | None = None


class MetricPoint(NamedTuple):
    """A tuple, not a dataclass: the fold makes one per metric per event (the hottest path),
    and a frozen dataclass costs several times as much to build."""

    name: str
    step: int
    value: float
    epoch: float | None
    time: datetime


@dataclass(frozen=True)
class Annotation:
    id: str
    node_id: str
    author_name: str
    author_role: str
    text: str
    time: datetime


@dataclass(frozen=True)
class Approval:
    event_id: str
    decision: str  # approved rejected
    reviewer_name: str
    reviewer_role: str
    comment: str | None
    time: datetime
    lineage_digest: str | None = None  # the graph decided on (graph.digest), as folded


@dataclass(frozen=True)
class Access:
    event_id: str
    workspace_id: str
    actor: str
    role: str
    action: str
    object_id: str
    address: str | None
    allowed: bool
    time: datetime


@dataclass(frozen=True)
class DatasetRoot:
    root: str
    run_id: str
    dataset_id: str


@dataclass(frozen=True)
class Run:
    run_id: str
    workspace_id: str
    project: str
    last_event_at: datetime
    status: str = RUNNING
    name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    started_at: datetime | None = None
    sealed_at: datetime | None = None
    info: Mapping[str, Json] = field(default_factory=dict)  # system, end, review, seal, ...
    seq_high: int | None = None  # highest producer sequence number seen
    gaps: tuple[tuple[int, int], ...] = ()  # missing sequence numbers, inclusive ranges
    nodes: Mapping[str, Node] = field(default_factory=dict)
    edges: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (from, to) -> ordinal
    findings: Mapping[str, Finding] = field(default_factory=dict)
    metrics: Mapping[tuple[str, int], MetricPoint] = field(default_factory=dict)
    annotations: Mapping[str, Annotation] = field(default_factory=dict)
    approvals: tuple[Approval, ...] = ()


@dataclass(frozen=True)
class Projection:
    runs: Mapping[str, Run] = field(default_factory=dict)
    datasets: Mapping[DatasetKey, DatasetRoot] = field(default_factory=dict)
    access: tuple[Access, ...] = ()
