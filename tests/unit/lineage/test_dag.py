"""The lineage fold, with no database: the DAG of a scripted run and every rule around it."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import cognify_events as ev
import jsonschema
from cognify_lineage import dag, graph
from cognify_lineage.model import Projection

from .script import EXPECTED_EDGES, EXPECTED_NODES, Script, hash_results, root, training

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "docs/spec/lineage-graph.schema.json").read_text()
)


def test_a_scripted_run_folds_into_the_expected_dag() -> None:
    s = Script("ws-a", "run-1")
    run = dag.fold_all(training(s)).runs["run-1"]
    assert [
        (n.type, n.id) for n in sorted(run.nodes.values(), key=lambda n: n.ordinal)
    ] == EXPECTED_NODES
    assert set(run.edges) == EXPECTED_EDGES
    assert run.status == "completed" and run.name == "discharge-summary"
    assert run.nodes["ds_notes_v3"].hash == root(1)
    assert run.nodes["ckpt_step_100"].hash_status == "pending"
    assert run.nodes["ds_extra_v1"].hash_status == "pending"
    assert run.nodes["cfg_lora_r16"].hash_status == "computed"
    assert run.gaps == () and run.findings == {}
    assert run.metrics[("loss", 150)].value == 0.9 and len(run.metrics) == 6


def test_the_lineage_json_has_the_seed_shape_and_validates() -> None:
    s = Script("ws-a", "run-1")
    run = dag.fold_all([*training(s), *hash_results(s)]).runs["run-1"]
    doc = graph.lineage(run)
    jsonschema.validate(doc, SCHEMA)
    assert doc["run_id"] == "run-1" and doc["sealed_at"] is None
    ckpt = next(n for n in doc["nodes"] if n["id"] == "ckpt_step_200")
    assert ckpt == {**ckpt, "type": "checkpoint", "hash": root(5), "step": 200}
    assert {(e["from"], e["to"]) for e in doc["edges"]} == EXPECTED_EDGES


def test_hash_results_after_the_run_ended_fill_their_nodes() -> None:
    s = Script("ws-a", "run-1")
    run = dag.fold_all([*training(s), *hash_results(s)]).runs["run-1"]
    assert run.status == "completed"
    assert all(n.hash_status == "computed" and n.hash for n in run.nodes.values())
    assert run.nodes["ds_extra_v1"].attrs["record_count"] == 100


def test_the_version_of_an_s3_source_hashed_is_kept_on_the_node() -> None:
    """hash.computed of an s3:// source names the version hashed: the node keeps it, and
    the lineage JSON (and so the JSON package's nodes) shows it; local paths show none."""
    s = Script("ws-a", "run-1")
    version = "version-id:3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    objects = "objects-sha256:" + "c4" * 32
    run = dag.fold_all(
        [
            *training(s),
            s.hashed(ev.HashTarget.DATASET, "ds_extra_v1", root(9), version),
            s.hashed(ev.HashTarget.CHECKPOINT, "ckpt_step_100", root(4), objects),
        ]
    ).runs["run-1"]
    assert run.nodes["ds_extra_v1"].attrs["source_version"] == version
    assert run.nodes["ckpt_step_100"].attrs["source_version"] == objects
    assert "source_version" not in run.nodes["ds_notes_v3"].attrs
    doc = graph.lineage(run)
    jsonschema.validate(doc, SCHEMA)
    shown = {n["id"]: n.get("source_version") for n in doc["nodes"]}
    assert shown["ds_extra_v1"] == version and shown["ckpt_step_100"] == objects
    assert shown["ds_notes_v3"] is None


def test_a_later_hash_without_a_version_does_not_keep_the_earlier_one() -> None:
    """The version on a node is the one its current hash was computed over: a later result
    from a source with no version (a local path) leaves none behind."""
    s = Script("ws-a", "run-1")
    run = dag.fold_all(
        [
            *training(s),
            s.hashed(ev.HashTarget.DATASET, "ds_extra_v1", root(9), "etag:0123abcd"),
            s.hashed(ev.HashTarget.DATASET, "ds_extra_v1", root(9)),
        ]
    ).runs["run-1"]
    assert "source_version" not in run.nodes["ds_extra_v1"].attrs
    assert run.nodes["ds_extra_v1"].hash == root(9)


def test_a_failed_hash_is_an_explicit_gap_in_the_evidence() -> None:
    s = Script("ws-a", "run-1")
    run = dag.fold_all(
        [*training(s), s.hash_failed(ev.HashTarget.CHECKPOINT, "ckpt_step_100")]
    ).runs["run-1"]
    node = run.nodes["ckpt_step_100"]
    assert (node.hash, node.hash_status) == (None, "failed")
    assert "no longer exists" in (node.hash_reason or "")
    assert run.findings["hash-failed:ckpt_step_100"].kind == "hash-failed"
    jsonschema.validate(graph.lineage(run), SCHEMA)


def test_a_gap_in_sequence_numbers_is_shown_until_a_late_event_fills_it() -> None:
    s = Script("ws-a", "run-1")
    events = training(s)
    late = events.pop(6)  # seq 6 arrives last
    run = dag.fold_all(events).runs["run-1"]
    assert run.gaps == ((6, 6),)
    assert run.findings["sequence-gap:6-6"].detail == {"from": 6, "to": 6, "missing": 1}
    run = dag.fold_all([late], Projection(runs={"run-1": run})).runs["run-1"]
    assert run.gaps == () and run.findings == {}


def test_a_lost_tail_is_a_gap_too() -> None:
    s = Script("ws-a", "run-1")
    events: list[ev.Event] = [s.started(), s.heartbeat(1), s.ended(last_seq=5)]
    run = dag.fold_all(events).runs["run-1"]
    assert run.gaps == ((3, 5),) and run.seq_high == 5


def test_a_dataset_registered_again_with_another_root_needs_a_documented_diff() -> None:
    a, b = Script("ws-a", "run-1"), Script("ws-a", "run-2")
    state = dag.fold_all([a.started(), a.dataset("ds_notes_v3", merkle_root=root(1))])
    state = dag.fold_all([b.started(), b.dataset("ds_notes_v4", merkle_root=root(9))], state)
    finding = state.runs["run-2"].findings["dataset-changed:ds_notes_v4"]
    assert finding.detail["previous_root"] == root(1) and finding.detail["new_root"] == root(9)
    assert finding.detail["previous_run_id"] == "run-1" and finding.resolved_at is None
    diff = ev.DatasetDiffDocumented(
        **b.env(ev.Producer(kind=ev.ProducerKind.API, id="api"), numbered=False),
        payload=ev.DatasetDiffDocumentedPayload(
            dataset_id="ds_notes_v4", description="dedup", documented_by="ana"
        ),
    )
    resolved = dag.fold(state, diff).runs["run-2"].findings["dataset-changed:ds_notes_v4"]
    assert resolved.resolved_at is not None and resolved.resolution == {
        "description": "dedup",
        "documented_by": "ana",
    }


def test_a_root_computed_by_the_hasher_is_compared_too_and_other_workspaces_do_not_count() -> None:
    a, b, c = Script("ws-a", "run-1"), Script("ws-a", "run-2"), Script("ws-b", "run-3")
    state = dag.fold_all(
        [
            a.started(),
            a.dataset("d1", name="extra", source_uri="/x"),
            a.hashed(ev.HashTarget.DATASET, "d1", root(3)),
        ]
    )
    state = dag.fold_all(
        [c.started(), c.dataset("d3", name="extra", source_uri="/x", merkle_root=root(7))], state
    )
    assert state.runs["run-3"].findings == {}
    state = dag.fold_all(
        [
            b.started(),
            b.dataset("d2", name="extra", source_uri="/x"),
            b.hashed(ev.HashTarget.DATASET, "d2", root(4)),
        ],
        state,
    )
    assert "dataset-changed:d2" in state.runs["run-2"].findings
    same = Script("ws-a", "run-4")
    state = dag.fold_all(
        [same.started(), same.dataset("d4", name="extra", source_uri="/x", merkle_root=root(4))],
        state,
    )
    assert state.runs["run-4"].findings == {}


def test_a_sealed_run_stays_sealed() -> None:
    s = Script("ws-a", "run-1")
    state = dag.fold_all([*training(s), s.sealed(root(8), 15)])
    run = state.runs["run-1"]
    assert run.status == "AUDIT_SEALED" and run.sealed_at is not None
    assert graph.lineage(run)["sealed_at"].endswith("Z")


def test_a_silent_run_is_abandoned_and_revived_by_its_next_event() -> None:
    s = Script("ws-a", "run-1")
    state = dag.fold_all([s.started(), s.heartbeat(1)])
    last = state.runs["run-1"].last_event_at
    assert dag.sweep(state, last + timedelta(minutes=5), timedelta(minutes=10)) == state
    swept = dag.sweep(state, last + timedelta(minutes=11), timedelta(minutes=10))
    assert swept.runs["run-1"].status == "abandoned"
    assert dag.fold(swept, s.heartbeat(2)).runs["run-1"].status == "running"
    ended = dag.fold(swept, s.ended())
    assert ended.runs["run-1"].status == "completed"
    assert dag.sweep(ended, last + timedelta(days=1), timedelta(minutes=10)) == ended


def test_reviews_are_recorded() -> None:
    s = Script("ws-a", "run-1")
    api = ev.Producer(kind=ev.ProducerKind.API, id="api")
    who = ev.Reviewer(name="Dr. Ortiz", role="compliance officer")
    events = [
        *training(s),
        ev.AnnotationAdded(
            **s.env(api, numbered=False),
            payload=ev.AnnotationAddedPayload(
                annotation_id="ann-1", node_id="ds_notes_v3", author=who, text="de-identified"
            ),
        ),
        ev.RunRejected(
            **s.env(api, numbered=False), payload=ev.DecisionPayload(reviewer=who, comment="eval?")
        ),
        ev.RunApproved(**s.env(api, numbered=False), payload=ev.DecisionPayload(reviewer=who)),
    ]
    run = dag.fold_all(events).runs["run-1"]
    assert run.annotations["ann-1"].node_id == "ds_notes_v3"
    assert [a.decision for a in run.approvals] == ["rejected", "approved"]
    assert run.info["review"]["decision"] == "approved"


def test_access_records_are_kept_per_workspace() -> None:
    access = ev.AccessRecorded(
        workspace_id="ws-a",
        project="workspace",
        run_id=None,
        producer=ev.Producer(kind=ev.ProducerKind.API, id="api"),
        payload=ev.AccessRecordedPayload(
            actor="ana",
            role="reviewer",
            action="run.read",
            object_id="run:run-1",
            address="10.0.0.1",
        ),
    )
    state = dag.fold(Projection(), access)
    assert state.runs == {} and state.access[0].object_id == "run:run-1"


def test_folding_never_changes_the_state_it_is_given() -> None:
    s = Script("ws-a", "run-1")
    events = training(s)
    before = dag.fold_all(events[:8])
    snapshot = copy.deepcopy(before)
    after = dag.fold_all([*events[8:], *hash_results(s)], before)
    assert before == snapshot and after != before


def test_folding_in_batches_equals_folding_one_event_at_a_time() -> None:
    """The adapter folds poll batches onto the stored state: any split gives the same state."""
    a, b = Script("ws-1", "run-a"), Script("ws-1", "run-b")
    access = ev.AccessRecorded(
        workspace_id="ws-1",
        project="workspace",
        run_id=None,
        producer=ev.Producer(kind=ev.ProducerKind.API, id="api-1"),
        payload=ev.AccessRecordedPayload(
            actor="ana", role="reviewer", action="run.read", object_id="run:run-a"
        ),
    )
    events = [*training(a), *hash_results(a), access, b.started(), b.metrics(1, 0.5)]
    one_by_one = Projection()
    for event in events:
        one_by_one = dag.fold(one_by_one, event)
    assert dag.fold_all(events) == one_by_one
    for split in range(len(events) + 1):
        first = dag.fold_all(events[:split])
        assert dag.fold_all(events[split:], first) == one_by_one, split
    assert len(one_by_one.access) == 1 and set(one_by_one.runs) == {"run-a", "run-b"}


def test_metric_points_of_interleaved_runs_fold_alike_in_any_split() -> None:
    """The batch updates its own copy of a run's metric map in place: no state handed in or
    handed out may see a later event's points, whatever the split and the interleaving."""
    a, b = Script("ws-1", "run-a"), Script("ws-1", "run-b")
    events: list[ev.Event] = [a.started(), b.started()]
    for step in range(1, 6):
        events += [a.metrics(step, 1 / step), b.metrics(step, 2 / step)]
    events.append(a.metrics(3, 9.0))  # the same step again: the point is replaced
    one_by_one = [Projection()]
    for event in events:
        one_by_one.append(dag.fold(one_by_one[-1], event))
    snapshots = copy.deepcopy(one_by_one)
    for split in range(len(events) + 1):
        first = dag.fold_all(events[:split])
        assert first == snapshots[split]
        assert dag.fold_all(events[split:], first) == snapshots[-1], split
        assert first == snapshots[split], split  # the later batch did not touch it
    assert one_by_one == snapshots
    assert snapshots[-1].runs["run-a"].metrics[("loss", 3)].value == 9.0
    assert len(snapshots[-1].runs["run-b"].metrics) == 10  # loss and lr at 5 steps
