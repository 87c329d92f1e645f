"""The lineage fold: `fold(state, event) -> state` (pure: no I/O, no clock).

This is the specification of the projection. The PostgreSQL adapter applies exactly this
function to the events it stores; `rebuild` replays the store through it again; the tests
compare the tables with `fold_all` of the same events. Time only enters through the event
(`event.time`) and through `sweep(state, now, timeout)`, the abandonment rule, which the
service calls periodically.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from cognify_events import (
    AccessRecorded,
    AnnotationAdded,
    CheckpointSaved,
    ConfigCaptured,
    DatasetChanged,
    DatasetDiffDocumented,
    DatasetProvenanceIncomplete,
    DatasetRegistered,
    EvaluationRecorded,
    Event,
    ExportCompleted,
    HashComputed,
    HashFailed,
    Heartbeat,
    MetricsLogged,
    ModelRegistered,
    ProducerKind,
    RunApproved,
    RunEnded,
    RunRejected,
    RunSealed,
    RunStarted,
    SealRefused,
    SealRequested,
    SystemInfoCaptured,
)
from cognify_lineage_model import graph
from cognify_lineage_model.model import (
    ABANDONED,
    RUNNING,
    SEALED,
    Access,
    Annotation,
    Approval,
    DatasetKey,
    DatasetRoot,
    Finding,
    MetricPoint,
    Projection,
    Run,
    evolve,
    iso,
)

from . import nodes, provenance, sealing, sequence


def fold(state: Projection, event: Event) -> Projection:
    return fold_all((event,), state)


def fold_all(events: Iterable[Event], state: Projection | None = None) -> Projection:
    """Fold events in order. The result equals folding them one at a time; the batch keeps
    its own copies of the run and dataset maps instead of a new Projection per event."""
    state = state or Projection()
    runs = dict(state.runs)
    datasets: dict[DatasetKey, DatasetRoot] = dict(state.datasets)  # the only cross-run state
    access = list(state.access)
    owned: dict[str, dict[tuple[str, int], MetricPoint]] = {}  # metric maps made by this batch
    for event in events:
        if isinstance(event, AccessRecorded):
            access.append(_access(event))
            continue
        if event.run_id is None:  # other workspace-level facts (retention): the store only
            continue
        run = runs.get(event.run_id) or Run(
            event.run_id, event.workspace_id, event.project, last_event_at=event.time
        )
        if run.status == SEALED and not sealing.allowed_after_seal(event):
            continue  # read-only after the seal (sealing.py); the adapter never stores these
        high, seq = run.seq_high, event.seq
        if seq is not None and high is not None and seq <= high and sequence.seen(run, seq):
            continue  # a conflict (sequence.py): the first claim stands; the adapter refuses it
        if isinstance(event, MetricsLogged):  # first: nearly every event of a run is one
            run = _observe(run, event, metrics=_points(run, event, owned))
            if event.payload.nonfinite_metrics:
                run = nodes.nonfinite_metrics(run, event.payload)
        elif isinstance(event, DatasetRegistered | HashComputed):
            run = _fold_artifact(_observe(run, event), event, datasets)
        else:
            run = _fold_run(_observe(run, event), event)
        runs[run.run_id] = run
    return evolve(state, runs=runs, datasets=datasets, access=tuple(access))


def _access(event: AccessRecorded) -> Access:
    p = event.payload
    return Access(
        str(event.event_id),
        event.workspace_id,
        p.actor,
        p.role,
        p.action,
        p.object_id,
        p.address,
        p.allowed,
        event.time,
    )


def sweep(state: Projection, now: datetime, timeout: timedelta) -> Projection:
    """Runs still `running` with no event for `timeout` become `abandoned`."""
    stale = {
        run_id: evolve(run, status=ABANDONED)
        for run_id, run in state.runs.items()
        if run.status == RUNNING and run.last_event_at < now - timeout
    }
    return evolve(state, runs={**state.runs, **stale}) if stale else state


def dataset_keys(events: Iterable[Event], runs: dict[str, Run]) -> set[DatasetKey]:
    """The dataset roots a batch may read or change, for the adapter to load beforehand."""
    keys: set[DatasetKey] = set()
    registered: dict[tuple[str, str], DatasetKey] = {}
    for e in events:
        if isinstance(e, DatasetRegistered):
            key = (e.workspace_id, e.payload.name, e.payload.source_uri or "")
            registered[(e.run_id or "", e.payload.dataset_id)] = key
            keys.add(key)
        elif isinstance(e, HashComputed) and e.payload.target.value == "dataset":
            found = registered.get((e.run_id or "", e.payload.target_id))
            run = runs.get(e.run_id or "")
            found = found or (nodes.dataset_key(run, e.payload.target_id) if run else None)
            if found is not None:
                keys.add(found)
    return keys


def _points(
    run: Run, event: MetricsLogged, owned: dict[str, dict[tuple[str, int], MetricPoint]]
) -> dict[tuple[str, int], MetricPoint]:
    """The run's metric map with the event's points. A map this batch already copied (and
    that only the batch's latest version of the run holds) is updated in place instead of
    copied once more per event."""
    metrics = owned.get(run.run_id)
    if metrics is None or metrics is not run.metrics:
        metrics = owned[run.run_id] = dict(run.metrics)
    p, when = event.payload, event.time
    for name, value in p.metrics.items():
        metrics[(name, p.step)] = MetricPoint(name, p.step, value, p.epoch, when)
    return metrics


def _observe(run: Run, event: Event, **changes: object) -> Run:
    """What every event of a run says: it is alive (an SDK event revives an abandoned run),
    and where it sits in the producer's sequence; with `changes` of the event's own."""
    if event.time > run.last_event_at:
        changes["last_event_at"] = event.time
    if event.producer.kind is ProducerKind.SDK and run.status == ABANDONED:
        changes["status"] = RUNNING
    seq = event.seq
    if seq is not None and run.seq_high is not None and seq == run.seq_high + 1:
        changes["seq_high"] = seq  # the usual case: the next number, no gap to update
        seq = None
    run = evolve(run, **changes) if changes else run
    return run if seq is None else sequence.saw(run, seq, event.time)


def _fold_artifact(
    run: Run, event: DatasetRegistered | HashComputed, datasets: nodes.Datasets
) -> Run:
    if isinstance(event, DatasetRegistered):
        return nodes.dataset(run, event, datasets)
    return nodes.hash_computed(run, event, datasets)


def _fold_run(run: Run, e: Event) -> Run:
    match e:
        case RunStarted(payload=p):
            info = {
                **run.info,
                "sdk_version": p.sdk_version,
                "started_by": p.started_by,
                "host": p.host,
            }
            return evolve(run, name=p.run_name, tags=dict(p.tags), started_at=e.time, info=info)
        case ConfigCaptured():
            return nodes.config(run, e)
        case SystemInfoCaptured(payload=p):
            return evolve(run, info={**run.info, "system": p.model_dump(mode="json")})
        case Heartbeat(payload=p):
            beat = {"last_heartbeat_at": iso(e.time), "step": p.step}
            return evolve(run, info={**run.info, **beat})
        case EvaluationRecorded():
            return nodes.evaluation(run, e)
        case CheckpointSaved():
            return nodes.checkpoint(run, e)
        case ModelRegistered():
            return nodes.model(run, e)
        case HashFailed():
            return nodes.hash_failed(run, e)
        case RunEnded(payload=p):
            end = {**p.model_dump(mode="json"), "ended_at": iso(e.time)}
            run = evolve(run, info={**run.info, "end": end})
            if p.last_seq is not None:
                run = sequence.saw_tail(run, p.last_seq, e.time)
            return run if run.status == SEALED else evolve(run, status=p.status.value)
        case DatasetChanged(payload=p):
            detail = p.model_dump(mode="json")
            finding = Finding(
                f"dataset-changed:{p.dataset_id}", "dataset-changed", p.dataset_id, e.time, detail
            )
            return run if finding.id in run.findings else nodes.put_finding(run, finding)
        case DatasetDiffDocumented(payload=p):
            open_ = run.findings.get(f"dataset-changed:{p.dataset_id}")
            if open_ is None:
                return run
            resolution = {"description": p.description, "documented_by": p.documented_by}
            return nodes.put_finding(run, evolve(open_, resolved_at=e.time, resolution=resolution))
        case DatasetProvenanceIncomplete():
            return provenance.incomplete(run, e)
        case AnnotationAdded(payload=p):
            if p.annotation_id in run.annotations:
                return run
            note = Annotation(
                p.annotation_id, p.node_id, p.author.name, p.author.role, p.text, e.time
            )
            run = evolve(run, annotations={**run.annotations, note.id: note})
            return provenance.annotated(run, note)
        case RunApproved(payload=p) | RunRejected(payload=p):
            decision = "approved" if isinstance(e, RunApproved) else "rejected"
            approval = Approval(
                str(e.event_id),
                decision,
                p.reviewer.name,
                p.reviewer.role,
                p.comment,
                e.time,
                graph.digest(run),
            )
            review = {
                "decision": decision,
                "reviewer": p.reviewer.name,
                "role": p.reviewer.role,
                "at": iso(e.time),
            }
            return evolve(
                run, approvals=(*run.approvals, approval), info={**run.info, "review": review}
            )
        case SealRequested(payload=p):
            request = {**p.model_dump(mode="json"), "at": iso(e.time)}
            return evolve(run, info={**run.info, "seal_requested": request})
        case SealRefused(payload=p):
            return _seal_refused(run, e, p.request_id)
        case RunSealed(payload=p):
            seal = p.model_dump(mode="json")
            run = _refusals_answered(run, e.time)
            return evolve(
                run, status=SEALED, sealed_at=p.sealed_at, info={**run.info, "seal": seal}
            )
        case ExportCompleted(payload=p):
            exports = [*run.info.get("exports", []), p.model_dump(mode="json")]
            return evolve(run, info={**run.info, "exports": exports})
        case _:  # hash.job_requested and anything newer: stored, nothing to fold
            return run


def _seal_refused(run: Run, e: SealRefused, request_id: object) -> Run:
    """The exporter would not seal: the run shows the latest refusal (`seal_refused`) and
    a `seal-refused` finding per refusal, resolved when the run is sealed. It does not
    block a later seal: the reasons it names do, for as long as they hold."""
    refusal = {**e.payload.model_dump(mode="json"), "at": iso(e.time), "event_id": str(e.event_id)}
    subject = str(request_id) if request_id is not None else str(e.event_id)
    finding = Finding(f"seal-refused:{e.event_id}", "seal-refused", subject, e.time, refusal)
    run = evolve(run, info={**run.info, "seal_refused": refusal})
    return run if finding.id in run.findings else nodes.put_finding(run, finding)


def _refusals_answered(run: Run, when: datetime) -> Run:
    for f in list(run.findings.values()):
        if f.kind == "seal-refused" and f.resolved_at is None:
            run = nodes.put_finding(
                run, evolve(f, resolved_at=when, resolution={"by": "run.sealed"})
            )
    return run
