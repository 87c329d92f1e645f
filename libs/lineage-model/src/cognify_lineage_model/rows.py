"""Rows of lineage's projection -> `model` values (pure: the queries stay with each reader).

A row is anything indexed by column name (an `asyncpg.Record`, a dict). The columns are
those of lineage's published read contract, the views of schema `lineage_read`
(docs/spec/trust.md, "PostgreSQL roles"): lineage reads its own tables with them
(`cognify_lineage.projection`), the exporter reads the views (`cognify_exporter.views`),
and both get the same `Run` from the same snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from .findings import EVENT_AFTER_SEAL, SEQUENCE_CONFLICT, STALE_SEAL
from .model import Annotation, Approval, Finding, MetricPoint, Node, Run, iso


class Row(Protocol):
    def __getitem__(self, column: str, /) -> Any: ...


# The columns each mapping reads (a reader may select more, never fewer).
RUN_COLUMNS = (
    "run_id",
    "workspace_id",
    "project",
    "last_event_at",
    "status",
    "name",
    "tags",
    "started_at",
    "sealed_at",
    "doc",
)
NODE_COLUMNS = (
    "run_id",
    "node_id",
    "ordinal",
    "type",
    "hash",
    "hash_status",
    "hash_reason",
    "node_time",
    "attrs",
)
EDGE_COLUMNS = ("run_id", "from_id", "to_id", "ordinal")
FINDING_COLUMNS = (
    "run_id",
    "finding_id",
    "kind",
    "subject",
    "detail",
    "opened_at",
    "resolved_at",
    "resolution",
)
POINT_COLUMNS = ("run_id", "name", "step", "value", "epoch", "point_time")
ANNOTATION_COLUMNS = (
    "run_id",
    "annotation_id",
    "node_id",
    "author_name",
    "author_role",
    "body",
    "created_at",
)
# in store order (the position of each decision's event)
APPROVAL_COLUMNS = (
    "event_id",
    "run_id",
    "decision",
    "reviewer_name",
    "reviewer_role",
    "comment",
    "decided_at",
    "lineage_digest",
)
# `body_sha256` is computed by the query: 'sha256:' || encode(sha256(body), 'hex')
REFUSAL_COLUMNS = (
    "event_id",
    "type",
    "producer",
    "seq",
    "event_time",
    "reason",
    "source_topic",
    "source_partition",
    "source_offset",
    "refused_at",
)


def runs_from_rows(
    run_rows: Iterable[Row],
    nodes: Iterable[Row] = (),
    edges: Iterable[Row] = (),
    findings: Iterable[Row] = (),
    points: Iterable[Row] = (),
    notes: Iterable[Row] = (),
    approvals: Iterable[Row] = (),
) -> dict[str, Run]:
    """The runs of `run_rows`, each with its rows of the other tables (rows of a run not in
    `run_rows` are ignored). `approvals` must come in store order. JSON columns are decoded
    values (the readers' pools decode json and jsonb)."""
    runs: dict[str, dict[str, Any]] = {}
    for r in run_rows:
        doc = r["doc"]
        runs[r["run_id"]] = {
            "run_id": r["run_id"],
            "workspace_id": r["workspace_id"],
            "project": r["project"],
            "last_event_at": r["last_event_at"],
            "status": r["status"],
            "name": r["name"],
            "tags": r["tags"],
            "started_at": r["started_at"],
            "sealed_at": r["sealed_at"],
            "info": doc["info"],
            "seq_high": doc["seq_high"],
            "gaps": tuple((lo, hi) for lo, hi in doc["gaps"]),
            "nodes": {},
            "edges": {},
            "findings": {},
            "metrics": {},
            "annotations": {},
            "approvals": [],
        }
    for r in nodes:
        if (run := runs.get(r["run_id"])) is not None:
            run["nodes"][r["node_id"]] = Node(
                r["type"],
                r["node_id"],
                r["ordinal"],
                r["node_time"],
                r["hash"],
                r["hash_status"],
                r["hash_reason"],
                r["attrs"],
            )
    for r in edges:
        if (run := runs.get(r["run_id"])) is not None:
            run["edges"][(r["from_id"], r["to_id"])] = r["ordinal"]
    for r in findings:
        if (run := runs.get(r["run_id"])) is not None:
            run["findings"][r["finding_id"]] = Finding(
                r["finding_id"],
                r["kind"],
                r["subject"],
                r["opened_at"],
                r["detail"],
                r["resolved_at"],
                r["resolution"],
            )
    for r in points:
        if (run := runs.get(r["run_id"])) is not None:
            point = MetricPoint(r["name"], r["step"], r["value"], r["epoch"], r["point_time"])
            run["metrics"][(r["name"], r["step"])] = point
    for r in notes:
        if (run := runs.get(r["run_id"])) is not None:
            run["annotations"][r["annotation_id"]] = annotation_from_row(r)
    for r in approvals:
        if (run := runs.get(r["run_id"])) is not None:
            run["approvals"].append(
                Approval(
                    str(r["event_id"]),
                    r["decision"],
                    r["reviewer_name"],
                    r["reviewer_role"],
                    r["comment"],
                    r["decided_at"],
                    r["lineage_digest"],
                )
            )
    for fields in runs.values():
        fields["approvals"] = tuple(fields["approvals"])
    return {run_id: Run(**fields) for run_id, fields in runs.items()}


def annotation_from_row(r: Row) -> Annotation:
    return Annotation(
        r["annotation_id"],
        r["node_id"],
        r["author_name"],
        r["author_role"],
        r["body"],
        r["created_at"],
    )


# What lineage writes in `refused_events.reason` (cognify_lineage.sequence and .sealing): a
# sequence conflict's reason starts with CONFLICT_PREFIX; a stale seal's (a `run.sealed`)
# ends with STALE.
CONFLICT_PREFIX = f"{SEQUENCE_CONFLICT}: "
SEALED_BY = "run.sealed"
STALE = "the seal is stale"


def is_conflict(reason: str) -> bool:
    return reason.startswith(CONFLICT_PREFIX)


def is_stale_seal(type_: str, why: str) -> bool:
    """Was a refusal (its event type and reason) that of a stale seal?"""
    return type_ == SEALED_BY and why.endswith(STALE)


def refusal_kind(type_: str, why: str) -> str:
    """A refusal's finding kind, from its event type and reason: `stale-seal`,
    `sequence-conflict` or `event-after-seal`."""
    if is_stale_seal(type_, why):
        return STALE_SEAL
    return SEQUENCE_CONFLICT if is_conflict(why) else EVENT_AFTER_SEAL


def conflict_finding(
    event_id: str, opened_at: datetime, detail: Mapping[str, object], notes: Iterable[Annotation]
) -> Finding:
    """The `sequence-conflict` finding of a refused event, resolved by the first reviewer's
    annotation of it (`notes`: the run's annotations)."""
    finding_id = f"{SEQUENCE_CONFLICT}:{event_id}"
    seen_by = [n for n in notes if n.node_id == finding_id]
    first = min(seen_by, key=lambda n: (n.time, n.id), default=None)
    if first is None:
        return Finding(finding_id, SEQUENCE_CONFLICT, event_id, opened_at, dict(detail))
    resolution = {
        "seen_by": first.author_name,
        "role": first.author_role,
        "annotation_id": first.id,
        "note": first.text,
    }
    return Finding(
        finding_id, SEQUENCE_CONFLICT, event_id, opened_at, dict(detail), first.time, resolution
    )


def findings_from_refusals(rows: Sequence[Row], notes: Iterable[Annotation] = ()) -> list[Finding]:
    """The findings of a run's refused events (`rows`: REFUSAL_COLUMNS and `body_sha256`, in
    refusal order); a sequence conflict is resolved by a reviewer's annotation of it
    (`notes`: the run's annotations of `sequence-conflict:` findings, or all of them)."""
    notes = list(notes)
    out: list[Finding] = []
    for r in rows:
        event_id = str(r["event_id"])
        detail: dict[str, object] = {
            "event_id": event_id,
            "type": r["type"],
            "producer": r["producer"],
            "seq": r["seq"],
            "event_time": iso(r["event_time"]),
            "reason": r["reason"],
            "body_sha256": r["body_sha256"],
            "topic": r["source_topic"],
            "partition": r["source_partition"],
            "offset": r["source_offset"],
        }
        if is_conflict(r["reason"]):
            out.append(conflict_finding(event_id, r["refused_at"], detail, notes))
            continue
        kind = refusal_kind(r["type"], r["reason"])
        out.append(Finding(f"{kind}:{event_id}", kind, event_id, r["refused_at"], detail))
    return out
