"""Datasets whose provenance falls short of the workspace's compliance tier (pure: no I/O).

Ingest checks each `dataset.registered` against the tier of its workspace and emits
`dataset.provenance_incomplete` naming the missing fields (cognify_events.provenance). The
run shows it as a `provenance-incomplete` finding (`provenance-incomplete:<dataset_id>`)
that blocks the seal until a reviewer has seen it: annotated it, as a sequence conflict is
(`annotation.added` whose `node_id` is the finding's id). docs/spec/lineage.md, "Findings".
"""

from __future__ import annotations

from cognify_events import DatasetProvenanceIncomplete
from cognify_lineage_model.findings import PROVENANCE_INCOMPLETE
from cognify_lineage_model.model import Annotation, Finding, Run, evolve

from .nodes import put_finding

INCOMPLETE = PROVENANCE_INCOMPLETE


def finding_id(dataset_id: str) -> str:
    return f"{INCOMPLETE}:{dataset_id}"


def incomplete(run: Run, e: DatasetProvenanceIncomplete) -> Run:
    """The finding of a dataset registered without the provenance its tier requires (the
    first such fact per dataset stands; a redelivery changes nothing)."""
    p = e.payload
    fid = finding_id(p.dataset_id)
    if fid in run.findings:
        return run
    detail = {
        "dataset_id": p.dataset_id,
        "name": p.name,
        "tier": p.tier,
        "missing": list(p.missing),
        "registered_by_event": p.requested_by_event,
    }
    finding = Finding(fid, INCOMPLETE, p.dataset_id, e.time, detail)
    notes = [n for n in run.annotations.values() if n.node_id == fid]
    first = min(notes, key=lambda n: (n.time, n.id), default=None)
    return put_finding(run, finding if first is None else _seen(finding, first))


def annotated(run: Run, note: Annotation) -> Run:
    """A reviewer's note on an open `provenance-incomplete` finding resolves it."""
    finding = run.findings.get(note.node_id)
    if finding is None or finding.kind != INCOMPLETE or finding.resolved_at is not None:
        return run
    return put_finding(run, _seen(finding, note))


def _seen(finding: Finding, note: Annotation) -> Finding:
    resolution = {
        "seen_by": note.author_name,
        "role": note.author_role,
        "annotation_id": note.id,
        "note": note.text,
    }
    return evolve(finding, resolved_at=note.time, resolution=resolution)
