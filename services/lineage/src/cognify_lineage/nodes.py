"""How artifact events become lineage nodes and edges (pure: no I/O).

Nodes: dataset, config, checkpoint, eval, model. Edges: every training input (a dataset
whose role is not `eval`, and every config) -> every checkpoint; checkpoint -> eval (the
checkpoint whose weights were evaluated, `evaluated_checkpoint`, moved when a checkpoint of
the evaluation's own step arrives after it); checkpoint -> model; and an eval dataset ->
the evaluations that name it. Each node has a
hash and a hash status: `computed` (from the SDK or the hasher), `pending` (a hash job is
out) or `failed` with the reason (the evidence is missing, and the audit shows it).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cognify_events import (
    CheckpointSaved,
    ConfigCaptured,
    DatasetRegistered,
    EvaluationRecorded,
    HashComputed,
    HashFailed,
    MetricsLoggedPayload,
    ModelRegistered,
)
from cognify_lineage_model.model import (
    DatasetKey,
    DatasetRoot,
    Finding,
    Json,
    Node,
    Run,
    evolve,
    json_safe,
)

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
Datasets = dict[DatasetKey, DatasetRoot]


def content_hash(obj: Json) -> str:
    """`sha256:` + SHA-256 of canonical JSON: the hash of a node that is its own content
    (a configuration, an evaluation)."""
    body = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def put_node(run: Run, node: Node) -> Run:
    old = run.nodes.get(node.id)
    if old is not None:  # a node seen before (a placeholder, a re-registration) keeps its place
        node = evolve(node, ordinal=old.ordinal, attrs={**old.attrs, **node.attrs})
        if old.hash_status == "computed" and node.hash_status != "computed":
            node = evolve(node, hash=old.hash, hash_status="computed", hash_reason=None)
    return evolve(run, nodes={**run.nodes, node.id: node})


def new_node(run: Run, type_: str, id_: str, when: datetime, **kw: Any) -> Node:
    old = run.nodes.get(id_)
    return Node(type_, id_, old.ordinal if old else len(run.nodes), when, **kw)


def add_edges(run: Run, pairs: list[tuple[str, str]]) -> Run:
    fresh = [p for p in dict.fromkeys(pairs) if p not in run.edges and p[0] != p[1]]
    if not fresh:
        return run
    edges = dict(run.edges)
    # past the highest ordinal, not the count: a moved edge (_link_evaluation) can leave a hole
    after = max(edges.values(), default=-1) + 1
    for i, pair in enumerate(fresh):
        edges[pair] = after + i
    return evolve(run, edges=edges)


def put_finding(run: Run, finding: Finding) -> Run:
    return evolve(run, findings={**run.findings, finding.id: finding})


def _inputs(run: Run) -> list[str]:
    return [
        n.id
        for n in sorted(run.nodes.values(), key=lambda n: n.ordinal)
        if n.type == "config" or (n.type == "dataset" and n.attrs.get("role") != "eval")
    ]


def _checkpoints(run: Run) -> list[Node]:
    found = [n for n in run.nodes.values() if n.type == "checkpoint"]
    return sorted(found, key=lambda n: (n.attrs.get("step", 0), n.ordinal))


def evaluated_checkpoint(run: Run, ev: Node) -> tuple[str | None, str | None]:
    """The checkpoint whose weights an evaluation saw, and how it was chosen
    (docs/spec/lineage.md, "Which checkpoint an evaluation evaluated"):

    - `named`: a benchmark evaluation (`cognify.eval`) that names a known checkpoint;
    - `same_step`: the checkpoint saved at the evaluation's step, before or after it (the
      Trainer evaluates before it saves, so the eval at step 20 is of `ckpt_step_20`, whose
      event comes next; a Trainer eval's `checkpoint_id` is the SDK's last saved one, which
      is older, and is not trusted over the step);
    - `earlier_step`: no checkpoint at that step, the latest one before it (the evaluated
      weights were never saved; this is the checkpoint they descend from);
    - `latest`: an evaluation with no step, the latest checkpoint when it was recorded.
    """
    named = ev.attrs.get("named_checkpoint_id")
    step = ev.attrs.get("step")
    if ev.attrs.get("source") != "trainer" and isinstance(named, str) and named in run.nodes:
        return named, "named"
    if not isinstance(step, int):
        latest = _checkpoint_for(run, named if isinstance(named, str) else None, None)
        return latest, ("named" if latest == named else "latest") if latest else None
    before = [c for c in _checkpoints(run) if c.attrs.get("step", 0) <= step]
    if not before:
        return None, None
    match = "same_step" if before[-1].attrs.get("step", 0) == step else "earlier_step"
    return before[-1].id, match


def _link_evaluation(run: Run, ev: Node) -> Run:
    """Point the evaluation's checkpoint edge at its evaluated checkpoint; an edge from
    another checkpoint is moved (it keeps its ordinal), never left beside it."""
    source, match = evaluated_checkpoint(run, ev)
    old = ev.attrs.get("evaluated_checkpoint")
    if source is None or (old == source and ev.attrs.get("checkpoint_match") == match):
        return run
    attrs = {**ev.attrs, "evaluated_checkpoint": source, "checkpoint_match": match}
    run = evolve(run, nodes={**run.nodes, ev.id: evolve(ev, attrs=attrs)})
    stale = (old, ev.id) if isinstance(old, str) else None
    if stale is not None and stale in run.edges and old != source:
        edges = {k: v for k, v in run.edges.items() if k != stale}
        if (source, ev.id) not in edges:
            edges[(source, ev.id)] = run.edges[stale]
        return evolve(run, edges=edges)
    return add_edges(run, [(source, ev.id)])


def _relink_evaluations(run: Run, step: int, checkpoint_id: str) -> Run:
    """A checkpoint arrived: the evaluations it may now be the evaluated checkpoint of
    (those at or after its step, or naming it) are linked again."""
    for n in [n for n in run.nodes.values() if n.type == "eval"]:
        at = n.attrs.get("step")
        if (isinstance(at, int) and at >= step) or n.attrs.get("named_checkpoint_id") == (
            checkpoint_id
        ):
            run = _link_evaluation(run, run.nodes[n.id])
    return run


def _checkpoint_for(run: Run, checkpoint_id: str | None, step: int | None) -> str | None:
    """The checkpoint an evaluation or model came from: the named one, else the latest at
    or before the step, else the latest."""
    if checkpoint_id is not None and checkpoint_id in run.nodes:
        return checkpoint_id
    candidates = _checkpoints(run)
    if step is not None:
        candidates = [c for c in candidates if c.attrs.get("step", 0) <= step]
    return candidates[-1].id if candidates else None


def config(run: Run, e: ConfigCaptured) -> Run:
    p = e.payload
    given = p.config_hash if p.config_hash and _HASH.match(p.config_hash) else None
    digest = given or content_hash(json_safe(p.model_dump(mode="json", exclude={"config_hash"})))
    attrs = {
        "model_type": p.model_type,
        "parameter_count": p.parameter_count,
        "trainable_parameter_count": p.trainable_parameter_count,
        "optimizer": p.optimizer,
        "lr_scheduler": p.lr_scheduler,
        "peft": p.peft_config is not None,
    }
    node = new_node(run, "config", p.config_id, e.time, hash=digest, hash_status="computed")
    run = put_node(run, evolve(node, attrs=attrs))
    return add_edges(run, [(p.config_id, c.id) for c in _checkpoints(run)])


def dataset(run: Run, e: DatasetRegistered, datasets: Datasets) -> Run:
    p = e.payload
    attrs = {
        "name": p.name,
        "version": p.version,
        "role": p.role,
        "source_uri": p.source_uri,
        "record_count": p.record_count,
        "format": p.format,
        "provenance_warnings": list(p.provenance_warnings),
        "schema_version": schema_version(p.provenance, p.record_schema),
    }
    if p.merkle_root is not None:
        status, reason = "computed", None
    elif p.source_uri:
        status, reason = "pending", None
    else:
        status, reason = "failed", "no Merkle root from the SDK and no source to hash"
    node = new_node(run, "dataset", p.dataset_id, e.time, hash=p.merkle_root, hash_status=status)
    run = put_node(run, evolve(node, hash_reason=reason, attrs=attrs))
    if p.role != "eval":
        run = add_edges(run, [(p.dataset_id, c.id) for c in _checkpoints(run)])
    if p.merkle_root is not None:
        run = dataset_root(run, datasets, p.dataset_id, p.merkle_root, e.time)
    return run


def schema_version(provenance: Mapping[str, Any], record_schema: Mapping[str, Any]) -> str | None:
    """The dataset's schema version: the one its owner declared (`provenance` or the record
    schema's `schema_version`), else `sha256:` of the canonical record schema, so the same
    columns give the same version and a changed column shows; None with no schema at all."""
    for source in (provenance, record_schema):
        declared = source.get("schema_version")
        if isinstance(declared, str | int) and not isinstance(declared, bool):
            return str(declared)[:128]
    return content_hash(json_safe(dict(record_schema))) if record_schema else None


def dataset_key(run: Run, dataset_id: str) -> DatasetKey | None:
    node = run.nodes.get(dataset_id)
    if node is None or node.type != "dataset" or "name" not in node.attrs:
        return None
    return (run.workspace_id, str(node.attrs["name"]), str(node.attrs.get("source_uri") or ""))


def dataset_root(run: Run, datasets: Datasets, dataset_id: str, root: str, when: datetime) -> Run:
    """Record a dataset's root; a different root than the latest known one for the same
    name and source is a dataset-changed finding that needs a documented diff."""
    key = dataset_key(run, dataset_id)
    if key is None:
        return run
    previous = datasets.get(key)
    if previous is not None and previous.root != root:
        detail = {
            "name": key[1],
            "source_uri": key[2] or None,
            "previous_root": previous.root,
            "new_root": root,
            "previous_run_id": previous.run_id,
            "previous_dataset_id": previous.dataset_id,
        }
        run = put_finding(
            run,
            Finding(f"dataset-changed:{dataset_id}", "dataset-changed", dataset_id, when, detail),
        )
    datasets[key] = DatasetRoot(root, run.run_id, dataset_id)
    return run


def checkpoint(run: Run, e: CheckpointSaved) -> Run:
    p = e.payload
    attrs = {"step": p.step, "path": p.path, "total_bytes": p.total_bytes, "files": len(p.files)}
    run = put_node(run, evolve(new_node(run, "checkpoint", p.checkpoint_id, e.time), attrs=attrs))
    run = add_edges(run, [(i, p.checkpoint_id) for i in _inputs(run)])
    return _relink_evaluations(run, p.step, p.checkpoint_id)


def model(run: Run, e: ModelRegistered) -> Run:
    p = e.payload
    status = "computed" if p.model_hash else "pending"
    node = new_node(run, "model", p.model_id, e.time, hash=p.model_hash, hash_status=status)
    attrs = {"path": p.path, "checkpoint_id": p.checkpoint_id, "files": len(p.files)}
    run = put_node(run, evolve(node, attrs=attrs))
    source = _checkpoint_for(run, p.checkpoint_id, None)
    return add_edges(run, [(source, p.model_id)] if source else [])


def nonfinite_metrics(run: Run, p: MetricsLoggedPayload) -> Run:
    """A logged NaN or infinity (a diverged loss) is no metric point (those are numbers):
    the run's `nonfinite_metrics` keeps, per metric name, where it was first and last seen
    non-finite, with the value ("nan", "inf", "-inf"), and how many logs said so."""
    seen = dict(run.info.get("nonfinite_metrics") or {})
    step = p.step
    for name, value in p.nonfinite_metrics.items():
        before = seen.get(name)
        if before is None:
            seen[name] = {
                "first_step": step,
                "first_value": value,
                "last_step": step,
                "last_value": value,
                "count": 1,
            }
        else:
            seen[name] = {
                **before,
                "last_step": step,
                "last_value": value,
                "count": before["count"] + 1,
            }
    return evolve(run, info={**run.info, "nonfinite_metrics": seen})


def evaluation(run: Run, e: EvaluationRecorded) -> Run:
    p = e.payload
    attrs = {
        "source": p.source.value,
        "step": p.step,
        "metrics": json_safe(dict(p.metrics)),
        "benchmark_name": p.benchmark_name,
        "benchmark_version": p.benchmark_version,
        "eval_dataset_id": p.eval_dataset_id,
        "named_checkpoint_id": p.checkpoint_id,
    }
    if p.nonfinite_metrics:  # NaN or infinity by name: "nan", "inf", "-inf"
        attrs["nonfinite_metrics"] = dict(p.nonfinite_metrics)
    digest = content_hash(json_safe(p.model_dump(mode="json")))
    node = new_node(run, "eval", p.eval_id, e.time, hash=digest, hash_status="computed")
    run = put_node(run, evolve(node, attrs=attrs))
    run = _link_evaluation(run, run.nodes[p.eval_id])
    if p.eval_dataset_id is not None and p.eval_dataset_id in run.nodes:
        run = add_edges(run, [(p.eval_dataset_id, p.eval_id)])
    return run


def hash_computed(run: Run, e: HashComputed, datasets: Datasets) -> Run:
    p = e.payload
    old = run.nodes.get(p.target_id)
    base = old or new_node(run, p.target.value, p.target_id, e.time)
    attrs: dict[str, Json] = {"algorithm": p.algorithm, "bytes_hashed": p.bytes_hashed}
    if p.record_count is not None and base.attrs.get("record_count") is None:
        attrs["record_count"] = p.record_count
    if p.files:  # the files the hasher read: what the SDK may not have listed (a model)
        attrs["files"] = len(p.files)
    if p.record_schema and base.attrs.get("schema_version") is None and base.type == "dataset":
        attrs["schema_version"] = schema_version({}, p.record_schema)
    if p.source_version is not None:  # the s3:// version hashed: what an auditor fetches
        attrs["source_version"] = p.source_version
    if old is not None and old.hash_status == "computed" and old.hash != p.hash:
        attrs["sdk_hash"] = old.hash
        detail = {"reported": old.hash, "computed": p.hash}
        run = put_finding(
            run,
            Finding(f"hash-mismatch:{p.target_id}", "hash-mismatch", p.target_id, e.time, detail),
        )
    node = evolve(base, hash=p.hash, hash_status="computed", hash_reason=None)
    kept = {k: v for k, v in base.attrs.items() if k != "source_version"}  # this hash's only
    run = evolve(run, nodes={**run.nodes, p.target_id: evolve(node, attrs={**kept, **attrs})})
    failed = run.findings.get(f"hash-failed:{p.target_id}")
    if failed is not None and failed.resolved_at is None:
        resolution = {"by": "hash.computed", "hash": p.hash}
        run = put_finding(run, evolve(failed, resolved_at=e.time, resolution=resolution))
    if p.target.value == "dataset":
        run = dataset_root(run, datasets, p.target_id, p.hash, e.time)
    return run


def hash_failed(run: Run, e: HashFailed) -> Run:
    p = e.payload
    base = run.nodes.get(p.target_id) or new_node(run, p.target.value, p.target_id, e.time)
    if base.hash_status == "computed":  # a late failure of a retried job changes nothing
        return run
    node = evolve(base, hash_status="failed", hash_reason=p.reason)
    run = evolve(run, nodes={**run.nodes, p.target_id: node})
    detail = {"target": p.target.value, "reason": p.reason, "job_id": p.job_id}
    return put_finding(
        run, Finding(f"hash-failed:{p.target_id}", "hash-failed", p.target_id, e.time, detail)
    )
