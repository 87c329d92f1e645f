"""From a sealed run to the report every format renders (pure: no I/O, no clock).

The inputs are what the event store and the projection hold at the seal: the run as
lineage folded it, the run's stored events up to the seal's `event_count` (only the types
the report quotes: configurations, datasets, evaluations, start, system), the access log
up to the seal, the workspace's documentation and the seal itself. Nothing written after
the seal (exports, later reads) enters a report, so the same sealed run always gives the
same report, and the same bytes in every deterministic format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cognify_events as ev
from cognify_lineage_model.graph import finding_json, lineage
from cognify_lineage_model.model import Run, evolve, iso, json_safe

from . import approvals
from .encryption import Reading
from .oms import ModelSignature
from .orgdocs import OrgDocs
from .orgdocs import fold as fold_docs
from .templates import NOT_SUPPLIED

Json = Any
DOC_FIELDS = (
    "intended_use",
    "known_limitations",
    "deployment_restrictions",
    "acceptable_use_policy",
    "phi_handling",
    "encryption_at_rest",
    "incident_policy_url",
)


@dataclass(frozen=True)
class Seal:
    event_id: str
    sealed_at: str
    sealed_by: str
    chain_head: str
    event_count: int
    key_id: str

    def json(self) -> dict[str, Json]:
        return {
            "event_id": self.event_id,
            "sealed_at": self.sealed_at,
            "sealed_by": self.sealed_by,
            "chain_head": self.chain_head,
            "event_count": self.event_count,
            "key_id": self.key_id,
        }


@dataclass(frozen=True)
class Report:
    run: dict[str, Json]
    system: dict[str, Json]
    graph: dict[str, Json]
    datasets: list[dict[str, Json]]
    configs: list[dict[str, Json]]
    checkpoints: list[dict[str, Json]]
    evaluations: list[dict[str, Json]]
    model: dict[str, Json] | None
    metrics: dict[str, list[tuple[int, float]]]
    findings: list[dict[str, Json]]
    annotations: list[dict[str, Json]]
    approvals: list[dict[str, Json]]
    access: list[dict[str, Json]]
    documentation: dict[str, str]
    seal: Seal
    notes: list[str] = field(default_factory=list)
    # Training metrics logged as NaN or an infinity (a diverged loss), by name: where each
    # was first and last seen non-finite, its value there ("nan", "inf", "-inf") and how
    # many logs said so, as lineage keeps them (the run's `nonfinite_metrics`); they are no
    # metric points, so without this every format would leave them out.
    nonfinite_metrics: dict[str, dict[str, Json]] = field(default_factory=dict)
    orgdocs: OrgDocs = field(default_factory=OrgDocs)  # with versions and who set each
    # Attached by the exporter after `build` (not from the event store): what the S3 API
    # states about the buckets' encryption when the package is rendered (encryption.py),
    # and the sealed model's OMS signature stored beside the packages (modelsig.py).
    encryption: tuple[Reading, ...] = ()
    model_signature: ModelSignature | None = None

    def doc(self, name: str) -> str:
        return self.documentation.get(name) or NOT_SUPPLIED


def build(
    run: Run,
    events: Iterable[ev.EventBase],
    seal: Seal,
    documentation: Mapping[str, str | None],
    access: Iterable[Mapping[str, Json]] = (),
    orgdocs: OrgDocs | None = None,
    stale: Mapping[str, str] | None = None,
) -> Report:
    """`orgdocs`: the organisation documentation folded from its events (orgdocs.py);
    without it, `documentation` (the legacy table's row) is cited as such. `stale`: the
    decisions (by event id) that no longer counted at the seal, and why (freshness.py)."""
    orgdocs = orgdocs or fold_docs((), {k: documentation.get(k) for k in DOC_FIELDS})
    quoted = _quoted(events)
    # Exports are appended to the run after the seal; they are not part of what was sealed.
    sealed_run = evolve(run, info={k: v for k, v in run.info.items() if k != "exports"})
    nodes = sorted(run.nodes.values(), key=lambda n: n.ordinal)
    graph = lineage(sealed_run)

    def node_fields(n: Any) -> dict[str, Json]:
        out = {"id": n.id, "hash": n.hash, "hash_status": n.hash_status, "time": iso(n.time)}
        if n.hash_reason:
            out["hash_error"] = n.hash_reason
        # The exact object version an s3:// artifact was hashed over (`version-id:…`,
        # `etag:…` or `objects-sha256:…`, docs/spec/hashing.md); absent for local paths.
        if n.attrs.get("source_version") is not None:
            out["source_version"] = n.attrs["source_version"]
        return out

    datasets = []
    for n in (n for n in nodes if n.type == "dataset"):
        reg = quoted.datasets.get(n.id)
        p = reg.payload if reg else None
        datasets.append(
            {
                **node_fields(n),
                "name": n.attrs.get("name"),
                "version": n.attrs.get("version"),
                "role": n.attrs.get("role"),
                "source_uri": n.attrs.get("source_uri"),
                "record_count": n.attrs.get("record_count"),
                "format": n.attrs.get("format"),
                "schema_version": n.attrs.get("schema_version"),
                "provenance": json_safe(dict(p.provenance)) if p else {},
                "provenance_warnings": list(p.provenance_warnings) if p else [],
            }
        )
    configs = []
    for n in (n for n in nodes if n.type == "config"):
        cfg = quoted.configs.get(n.id)
        body = cfg.payload.model_dump(mode="json", exclude={"config_id"}) if cfg else {}
        configs.append({**node_fields(n), **json_safe(body)})
    checkpoints = [
        {
            **node_fields(n),
            "step": n.attrs.get("step"),
            "path": n.attrs.get("path"),
            "total_bytes": n.attrs.get("total_bytes"),
            "files": n.attrs.get("files"),
            **_manifest(quoted, n),
        }
        for n in nodes
        if n.type == "checkpoint"
    ]
    checkpoints.sort(key=lambda c: (c["step"] or 0, c["id"]))
    evaluations = []
    for n in (n for n in nodes if n.type == "eval"):
        rec = quoted.evaluations.get(n.id)
        evaluations.append(
            {
                **node_fields(n),
                "source": n.attrs.get("source"),
                "step": n.attrs.get("step"),
                "benchmark_name": n.attrs.get("benchmark_name"),
                "benchmark_version": n.attrs.get("benchmark_version"),
                "eval_dataset_id": n.attrs.get("eval_dataset_id"),
                "checkpoint_id": _checkpoint_parent(run, n.id),
                "checkpoint_match": n.attrs.get("checkpoint_match"),
                "metrics": dict(n.attrs.get("metrics") or {}),
                "notes": rec.payload.notes if rec else None,
            }
        )
    models = [n for n in nodes if n.type == "model"]
    model = None
    if models:
        m = models[-1]
        model = {
            **node_fields(m),
            "path": m.attrs.get("path"),
            "checkpoint_id": m.attrs.get("checkpoint_id"),
            **_manifest(quoted, m),
        }
    series: dict[str, list[tuple[int, float]]] = {}
    for (name, step), point in sorted(run.metrics.items()):
        series.setdefault(name, []).append((step, point.value))
    start = quoted.started.payload if quoted.started else None
    end = dict(run.info.get("end") or {})
    summary = {
        "run_id": run.run_id,
        "workspace_id": run.workspace_id,
        "project": run.project,
        "name": run.name,
        "tags": dict(sorted(run.tags.items())),
        "status": "AUDIT_SEALED",
        "started_at": iso(run.started_at) if run.started_at else None,
        "started_by": start.started_by if start else None,
        "host": start.host if start else None,
        "sdk_version": start.sdk_version if start else None,
        "ended_at": end.get("ended_at"),
        "end_status": end.get("status"),
        "global_step": end.get("global_step"),
        "error_type": end.get("error_type"),
        "sequence_gaps": [{"from": lo, "to": hi} for lo, hi in run.gaps],
    }
    system = quoted.system.payload.model_dump(mode="json") if quoted.system else {}
    notes = [e["notes"] for e in evaluations if e["notes"]]
    return Report(
        run=summary,
        system=system,
        graph=graph,
        datasets=datasets,
        configs=configs,
        checkpoints=checkpoints,
        evaluations=evaluations,
        model=model,
        metrics=series,
        findings=[
            finding_json(f)
            for f in sorted(run.findings.values(), key=lambda f: (f.opened_at, f.id))
        ],
        annotations=[
            {
                "annotation_id": a.id,
                "node_id": a.node_id,
                "author": {"name": a.author_name, "role": a.author_role},
                "author_key_id": _note_key(quoted, a.id),
                "event_id": _note_event(quoted, a.id),
                "text": a.text,
                "time": iso(a.time),
            }
            for a in sorted(run.annotations.values(), key=lambda a: (a.time, a.id))
        ],
        approvals=[
            approvals.entry(
                a.event_id,
                a.decision,
                a.reviewer_name,
                a.reviewer_role,
                iso(a.time),
                a.comment,
                quoted.decisions.get(a.event_id),
                (stale or {}).get(a.event_id),
                a.lineage_digest,
            )
            for a in run.approvals
        ],
        access=[dict(a) for a in access],
        documentation={k: v.text for k, v in sorted(orgdocs.fields.items())},
        seal=seal,
        notes=notes,
        nonfinite_metrics=_nonfinite(run),
        orgdocs=orgdocs,
    )


def _nonfinite(run: Run) -> dict[str, dict[str, Json]]:
    seen = run.info.get("nonfinite_metrics") or {}
    keys = ("first_step", "first_value", "last_step", "last_value", "count")
    return {str(name): {k: seen[name].get(k) for k in keys} for name in sorted(seen)}


def _checkpoint_parent(run: Run, node_id: str) -> str | None:
    for a, b in sorted(run.edges, key=lambda e: run.edges[e]):
        if b == node_id and a in run.nodes and run.nodes[a].type == "checkpoint":
            return a
    return None


@dataclass
class _Quoted:
    started: ev.RunStarted | None = None
    system: ev.SystemInfoCaptured | None = None
    configs: dict[str, ev.ConfigCaptured] = field(default_factory=dict)
    datasets: dict[str, ev.DatasetRegistered] = field(default_factory=dict)
    evaluations: dict[str, ev.EvaluationRecorded] = field(default_factory=dict)
    hashes: dict[str, ev.HashComputed] = field(default_factory=dict)  # the last, by target
    decisions: dict[str, ev.RunApproved | ev.RunRejected] = field(default_factory=dict)
    notes: dict[str, ev.AnnotationAdded] = field(default_factory=dict)  # by annotation id


def _note_key(quoted: _Quoted, annotation_id: str) -> str | None:
    note = quoted.notes.get(annotation_id)
    return note.payload.author.key_id if note is not None else None


def _note_event(quoted: _Quoted, annotation_id: str) -> str | None:
    note = quoted.notes.get(annotation_id)
    return str(note.event_id) if note is not None else None


def _quoted(events: Iterable[ev.EventBase]) -> _Quoted:
    q = _Quoted()
    for e in events:
        match e:
            case ev.RunStarted():
                q.started = e
            case ev.SystemInfoCaptured():
                q.system = e
            case ev.ConfigCaptured():
                q.configs[e.payload.config_id] = e
            case ev.DatasetRegistered():
                q.datasets[e.payload.dataset_id] = e
            case ev.EvaluationRecorded():
                q.evaluations[e.payload.eval_id] = e
            case ev.HashComputed():
                q.hashes[e.payload.target_id] = e
            case ev.RunApproved() | ev.RunRejected():
                q.decisions[str(e.event_id)] = e
            case ev.AnnotationAdded():
                q.notes[e.payload.annotation_id] = e
    return q


def _manifest(quoted: _Quoted, n: Any) -> dict[str, Json]:
    """The files a checkpoint's (or the model's) hash was computed from, as the hasher
    listed them (docs/spec/package.md): only when its result is the node's current hash."""
    result = quoted.hashes.get(n.id)
    if result is None or result.payload.hash != n.hash or not result.payload.files:
        return {}
    return {
        "manifest": [f.model_dump(mode="json", exclude_none=True) for f in result.payload.files]
    }


QUOTED_TYPES = (
    "run.started",
    "run.system_info",
    "run.config_captured",
    "dataset.registered",
    "evaluation.recorded",
    "hash.computed",  # the files of each checkpoint's manifest
    "annotation.added",  # who noted it, with which key
    "run.approved",  # who decided with which key, on which state of the run
    "run.rejected",
)
