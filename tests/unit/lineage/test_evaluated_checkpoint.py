"""Which checkpoint an evaluation evaluated, the dataset schema version and the model's file
count, folded with no database (docs/spec/lineage.md)."""

from __future__ import annotations

import cognify_events as ev
from cognify_lineage import dag
from cognify_lineage.model import Run

from .script import Script, root


def trainer_eval(s: Script, step: int, named: str | None) -> ev.EvaluationRecorded:
    """As the Trainer callback reports it: before the save at the same step, naming the
    last checkpoint saved so far."""
    return ev.EvaluationRecorded(
        **s.env(),
        payload=ev.EvaluationRecordedPayload(
            eval_id=f"eval_trainer_step_{step}",
            source=ev.EvaluationSource.TRAINER,
            step=step,
            metrics={"eval_loss": 1.0 / step},
            checkpoint_id=named,
        ),
    )


def benchmark(s: Script, eval_id: str, named: str | None, step: int | None) -> ev.Event:
    return ev.EvaluationRecorded(
        **s.env(),
        payload=ev.EvaluationRecordedPayload(
            eval_id=eval_id,
            source=ev.EvaluationSource.BENCHMARK,
            step=step,
            metrics={"accuracy": 0.9},
            benchmark_name="medqa",
            checkpoint_id=named,
        ),
    )


def trainer_run(s: Script) -> list[ev.Event]:
    """eval_steps=10, save_steps=10 and an eval at step 25 with no save: the Trainer's
    order, evaluate then save."""
    return [
        s.started(),
        s.config(),
        s.dataset("ds_notes_v3", merkle_root=root(1)),
        trainer_eval(s, 10, None),
        s.checkpoint(10),
        trainer_eval(s, 20, "ckpt_step_10"),
        s.checkpoint(20),
        trainer_eval(s, 25, "ckpt_step_20"),
        s.ended(),
    ]


def checkpoint_edges(run: Run) -> set[tuple[str, str]]:
    return {(a, b) for a, b in run.edges if run.nodes[a].type == "checkpoint" and b != a}


def test_a_trainer_eval_is_of_the_checkpoint_saved_at_its_step_after_it() -> None:
    run = dag.fold_all(trainer_run(Script("ws-a", "run-1"))).runs["run-1"]
    evals = {(a, b) for a, b in checkpoint_edges(run) if b.startswith("eval_")}
    assert evals == {
        ("ckpt_step_10", "eval_trainer_step_10"),
        ("ckpt_step_20", "eval_trainer_step_20"),
        ("ckpt_step_20", "eval_trainer_step_25"),
    }
    matches = {
        n.id: (n.attrs["evaluated_checkpoint"], n.attrs["checkpoint_match"])
        for n in run.nodes.values()
        if n.type == "eval"
    }
    assert matches == {
        "eval_trainer_step_10": ("ckpt_step_10", "same_step"),
        "eval_trainer_step_20": ("ckpt_step_20", "same_step"),
        "eval_trainer_step_25": ("ckpt_step_20", "earlier_step"),
    }


def test_a_moved_edge_leaves_no_stale_edge_and_ordinals_stay_unique() -> None:
    run = dag.fold_all(trainer_run(Script("ws-a", "run-1"))).runs["run-1"]
    assert ("ckpt_step_10", "eval_trainer_step_20") not in run.edges
    assert len(set(run.edges.values())) == len(run.edges)


def test_an_eval_before_any_checkpoint_has_none_until_its_step_is_saved() -> None:
    s = Script("ws-a", "run-1")
    events = trainer_run(s)
    before = dag.fold_all(events[:4]).runs["run-1"]
    assert not [e for e in before.edges if e[1] == "eval_trainer_step_10"]
    assert "evaluated_checkpoint" not in before.nodes["eval_trainer_step_10"].attrs


def test_a_later_checkpoint_does_not_take_an_earlier_eval() -> None:
    s = Script("ws-a", "run-1")
    events = [*trainer_run(s)[:-1], s.checkpoint(30)]
    run = dag.fold_all(events).runs["run-1"]
    assert run.nodes["eval_trainer_step_25"].attrs["evaluated_checkpoint"] == "ckpt_step_20"
    assert not [e for e in run.edges if e[0] == "ckpt_step_30" and e[1].startswith("eval")]


def test_a_benchmark_naming_a_checkpoint_keeps_it_even_when_later_ones_exist() -> None:
    s = Script("ws-a", "run-1")
    events = [
        *trainer_run(s)[:-1],
        benchmark(s, "bench_early", "ckpt_step_10", 40),
        benchmark(s, "bench_ahead", "ckpt_step_50", None),  # names one saved later
        s.checkpoint(50),
    ]
    run = dag.fold_all(events).runs["run-1"]
    assert ("ckpt_step_10", "bench_early") in run.edges
    assert run.nodes["bench_early"].attrs["checkpoint_match"] == "named"
    assert ("ckpt_step_50", "bench_ahead") in run.edges
    assert ("ckpt_step_20", "bench_ahead") not in run.edges


def test_batches_and_single_events_fold_the_moved_edges_alike() -> None:
    events = trainer_run(Script("ws-a", "run-1"))
    whole = dag.fold_all(events)
    state = dag.fold_all(events[:5])
    for e in events[5:]:
        state = dag.fold(state, e)
    assert state.runs["run-1"].edges == whole.runs["run-1"].edges
    assert state.runs["run-1"].nodes == whole.runs["run-1"].nodes


def with_payload(e: ev.Event, **changes: object) -> ev.Event:
    return e.model_copy(update={"payload": e.payload.model_copy(update=changes)})


def test_dataset_nodes_carry_a_schema_version() -> None:
    s = Script("ws-a", "run-1")
    declared = with_payload(
        s.dataset("ds_a", merkle_root=root(1)), provenance={"schema_version": "3"}
    )
    described = with_payload(
        s.dataset("ds_b", name="b", merkle_root=root(2)), record_schema={"text": "string"}
    )
    bare = s.dataset("ds_c", name="c", merkle_root=root(3))
    run = dag.fold_all([s.started(), declared, described, bare]).runs["run-1"]
    assert run.nodes["ds_a"].attrs["schema_version"] == "3"
    version = run.nodes["ds_b"].attrs["schema_version"]
    assert isinstance(version, str) and version.startswith("sha256:") and len(version) == 71
    assert run.nodes["ds_c"].attrs["schema_version"] is None


def test_the_model_node_counts_the_files_the_hasher_read() -> None:
    s = Script("ws-a", "run-1")
    files = [ev.FileHash(path=f"f{i}.bin", size=i, sha256=f"{i:064x}") for i in range(3)]
    hashed = with_payload(
        s.hashed(ev.HashTarget.MODEL, "model_final", root(6)), files=files, bytes_hashed=3
    )
    run = dag.fold_all([s.started(), s.checkpoint(10), s.model("ckpt_step_10"), hashed])
    node = run.runs["run-1"].nodes["model_final"]
    assert node.attrs["files"] == 3 and node.attrs["bytes_hashed"] == 3
