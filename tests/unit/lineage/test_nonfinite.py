"""NaN and infinities a run logged (a diverged loss, a benchmark that blew up) are in the
fold, by name: no metric point (those are numbers) but the run's `nonfinite_metrics` and the
evaluation node's."""

from __future__ import annotations

import cognify_events as ev
from cognify_lineage import dag, graph

from tests.unit.lineage.script import Script


def _diverged(s: Script, step: int, value: str) -> ev.MetricsLogged:
    return ev.MetricsLogged(
        **s.env(),
        payload=ev.MetricsLoggedPayload(
            step=step, metrics={"lr": 1e-5}, nonfinite_metrics={"loss": value}
        ),
    )


def test_a_diverged_loss_shows_where_it_began_and_ended_and_how_often() -> None:
    s = Script("ws-1", "run-1")
    evs: list[ev.Event] = [
        s.started(),
        s.metrics(10, 1.5),
        _diverged(s, 20, "nan"),
        _diverged(s, 30, "inf"),
    ]
    run = dag.fold_all(evs).runs["run-1"]
    assert run.info["nonfinite_metrics"] == {
        "loss": {
            "first_step": 20,
            "first_value": "nan",
            "last_step": 30,
            "last_value": "inf",
            "count": 2,
        }
    }
    assert graph.summary(run)["nonfinite_metrics"]["loss"]["count"] == 2
    assert sorted(run.metrics) == [("loss", 10), ("lr", 10), ("lr", 20), ("lr", 30)]
    state = None
    for e in evs:
        state = dag.fold_all([e], state)
    assert state == dag.fold_all(evs)


def test_an_evaluation_keeps_its_nonfinite_results_on_its_node() -> None:
    s = Script("ws-1", "run-1")
    benchmark = ev.EvaluationRecorded(
        **s.env(),
        payload=ev.EvaluationRecordedPayload(
            eval_id="eval_medqa_2024.1_1",
            source=ev.EvaluationSource.BENCHMARK,
            metrics={"accuracy": 0.81},
            nonfinite_metrics={"auroc": "nan"},
            benchmark_name="medqa",
            benchmark_version="2024.1",
        ),
    )
    run = dag.fold_all([s.started(), benchmark, s.evaluation(10)]).runs["run-1"]
    node = graph.node_json(run.nodes["eval_medqa_2024.1_1"])
    assert node["metrics"] == {"accuracy": 0.81} and node["nonfinite_metrics"] == {"auroc": "nan"}
    assert "nonfinite_metrics" not in run.nodes["eval_step_10"].attrs
