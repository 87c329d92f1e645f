"""The `json` package: the lineage graph in the audit-trail seed's shape, every hash, the
head of the run's event chain and the seal, as deterministic bytes (pure). Layout:
docs/spec/package.md (its nodes follow docs/spec/lineage-graph.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from cognify_events import DocField, ExportTemplate

from . import compliance
from .report import Report
from .templates import sections

FORMAT = "cognify-audit-package/v1"


def document(report: Report, template: ExportTemplate) -> dict[str, Any]:
    graph = report.graph
    return {
        "format": FORMAT,
        "template": template.value,
        "sections": sections(template),
        "run_id": report.run["run_id"],
        "status": "AUDIT_SEALED",
        "sealed_at": report.seal.sealed_at,
        "run": report.run,
        "system": report.system,
        "nodes": graph["nodes"],
        "edges": graph["edges"],
        "datasets": report.datasets,
        "configs": report.configs,
        "checkpoints": report.checkpoints,
        "evaluations": report.evaluations,
        "model": model(report),
        "metrics": {
            name: {
                "points": len(points),
                "first": {"step": points[0][0], "value": points[0][1]},
                "last": {"step": points[-1][0], "value": points[-1][1]},
                "min": min(v for _, v in points),
                "max": max(v for _, v in points),
            }
            for name, points in report.metrics.items()
        },
        # logged as NaN or an infinity: no points above, never missing (package.md)
        "nonfinite_metrics": report.nonfinite_metrics,
        "findings": report.findings,
        "annotations": report.annotations,
        "approvals": report.approvals,
        "access_log": report.access,
        # every field the organisation may supply: its text or "not supplied"
        "documentation": {f.value: report.doc(f.value) for f in DocField},
        # the version used: who set each field, when, in which change (orgdocs.py)
        "documentation_version": report.orgdocs.json(),
        # the template's own sections, field by field, each citing its source
        "compliance": compliance.json(report, template),
        "run_notes": report.notes,
        "hashes": hashes(report),
        "chain": {"head": report.seal.chain_head, "length": report.seal.event_count},
        "seal": report.seal.json(),
    }


def model(report: Report) -> dict[str, Any] | None:
    """The model node, with its OMS signature (`oms_signature`) where the seal made one."""
    if report.model is None or report.model_signature is None:
        return report.model
    return {**report.model, "oms_signature": report.model_signature.json()}


def hashes(report: Report) -> dict[str, str | None]:
    """Every hash in the package, by node id (null where the hash is a recorded gap)."""
    out = {n["id"]: n["hash"] for n in report.graph["nodes"]}
    out["chain_head"] = report.seal.chain_head
    return dict(sorted(out.items()))


def render(report: Report, template: ExportTemplate) -> bytes:
    text = json.dumps(
        document(report, template), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode()
