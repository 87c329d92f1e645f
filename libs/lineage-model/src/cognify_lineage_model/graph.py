"""JSON views of a folded run (pure): the lineage graph in the audit-trail seed's shape
(docs/spec/lineage-graph.schema.json) and the run summary the read API lists."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .model import Finding, Node, Run, iso


def node_json(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": node.type,
        "id": node.id,
        "hash": node.hash,
        "timestamp": iso(node.time),
        "hash_status": node.hash_status,
    }
    if node.hash_reason is not None:
        out["hash_error"] = node.hash_reason
    out.update({k: v for k, v in node.attrs.items() if k not in out and v is not None})
    return out


def lineage(run: Run) -> dict[str, Any]:
    nodes = sorted(run.nodes.values(), key=lambda n: n.ordinal)
    edges = sorted(run.edges.items(), key=lambda kv: kv[1])
    return {
        "run_id": run.run_id,
        "status": run.status,
        "sealed_at": iso(run.sealed_at) if run.sealed_at else None,
        "nodes": [node_json(n) for n in nodes],
        "edges": [{"from": a, "to": b} for (a, b), _ in edges],
    }


def digest(run: Run) -> str:
    """The lineage digest: SHA-256 of the run's graph (its nodes and edges as `lineage`
    gives them), as canonical JSON (sorted keys, no whitespace, UTF-8). It changes with any
    node, hash, hash status, attribute or edge, and not with the run's status or seal.
    Spec: docs/spec/lineage.md, "Lineage digest"."""
    graph = lineage(run)
    body = {"nodes": graph["nodes"], "edges": graph["edges"]}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
        "subject": f.subject,
        "opened_at": iso(f.opened_at),
        "detail": dict(f.detail),
        "resolved_at": iso(f.resolved_at) if f.resolved_at else None,
        "resolution": dict(f.resolution) if f.resolution is not None else None,
    }


def summary(run: Run, lineage_digest: str | None = None) -> dict[str, Any]:
    """The run's summary; `lineage_digest` is `digest(run)` when the caller has it."""
    return {
        "run_id": run.run_id,
        "workspace_id": run.workspace_id,
        "project": run.project,
        "name": run.name,
        "status": run.status,
        "tags": dict(run.tags),
        "started_at": iso(run.started_at) if run.started_at else None,
        "last_event_at": iso(run.last_event_at),
        "sealed_at": iso(run.sealed_at) if run.sealed_at else None,
        "seq_high": run.seq_high,
        "sequence_gaps": [{"from": lo, "to": hi} for lo, hi in run.gaps],
        "lineage_digest": lineage_digest or digest(run),
        **dict(run.info),
    }
