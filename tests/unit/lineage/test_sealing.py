"""A sealed run is read-only: which events are refused after the seal (sealing.py), and the
fold that never lets one change a sealed run."""

from __future__ import annotations

from typing import Any

import cognify_events as ev
import pytest
from cognify_events.catalog import BY_TYPE
from cognify_lineage import dag, sealing

from tests.unit.events.samples import all_samples
from tests.unit.lineage.script import EXPORTER, Script, root, training

RUN = "run-1"
SAMPLES: list[Any] = all_samples()
ALLOWED = {"export.completed", "access.recorded", "retention.updated"}


def _of_run(event: ev.EventBase, run_id: str | None = RUN) -> Any:
    return event.model_copy(update={"run_id": run_id})


def test_the_samples_cover_every_event_type() -> None:
    assert {e.type for e in SAMPLES} == set(BY_TYPE)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_only_the_services_facts_about_a_sealed_run_are_allowed_after_its_seal(
    event: Any,
) -> None:
    assert sealing.allowed_after_seal(_of_run(event)) is (event.type in ALLOWED)
    assert sealing.allowed_after_seal(_of_run(event, None))  # no run: nothing to seal


def test_events_after_a_seal_in_the_store_are_refused_with_the_reason() -> None:
    s = Script("ws-a", RUN)
    late: list[Any] = [s.metrics(300, 0.1), s.ended(ev.RunStatus.FAILED), s.sealed(root(9), 3)]
    export = _export(s)
    verdicts = sealing.refusals([*late, export], {RUN})
    assert sorted(verdicts) == [0, 1, 2]
    assert verdicts[0] == (
        f"run_id: run {RUN!r} is sealed (AUDIT_SEALED); "
        "a metrics.logged event may not be added after the seal"
    )
    assert "run.ended event may not be added" in verdicts[1]
    assert verdicts[2] == (
        f"run_id: run {RUN!r} is already sealed (AUDIT_SEALED); a second run.sealed is refused"
    )


def test_a_seal_in_the_same_batch_closes_the_run_for_what_follows_it() -> None:
    s, other = Script("ws-a", RUN), Script("ws-a", "run-2")
    events: list[Any] = [
        s.metrics(1, 1.0),
        other.metrics(1, 1.0),
        s.sealed(root(9), 1),
        _export(s),
        other.metrics(2, 0.9),
        s.metrics(2, 0.5),
        _of_run(_sample("access.recorded"), None),
        _of_run(_sample("access.recorded")),
    ]
    assert sorted(sealing.refusals(events, set())) == [5]
    assert sealing.refusals(events[:3], set()) == {}
    assert sealing.refusals([], {RUN}) == {}


def test_the_fold_never_changes_a_sealed_run_except_by_what_is_allowed() -> None:
    s = Script("ws-a", RUN)
    events: list[Any] = [*training(s), s.sealed(root(8), 15)]
    before = dag.fold_all(events)
    sealed = before.runs[RUN]
    reviewer = ev.Producer(kind=ev.ProducerKind.API, id="api")
    who = ev.Reviewer(name="Dana", role="compliance")
    late: list[Any] = [
        s.metrics(300, 0.1),
        s.checkpoint(300),
        s.ended(ev.RunStatus.FAILED),
        s.hashed(ev.HashTarget.CHECKPOINT, "ckpt_step_200", root(77)),
        ev.AnnotationAdded(
            **s.env(reviewer, numbered=False),
            payload=ev.AnnotationAddedPayload(
                annotation_id="a", node_id="ckpt_step_200", author=who, text="late"
            ),
        ),
        ev.RunRejected(**s.env(reviewer, numbered=False), payload=ev.DecisionPayload(reviewer=who)),
        s.sealed(root(9), 30),
    ]
    after = dag.fold_all(late, before)
    assert after.runs[RUN] == sealed
    export = _export(s)
    exported = dag.fold(after, export).runs[RUN]
    assert exported.status == "AUDIT_SEALED" and len(exported.info["exports"]) == 1
    assert exported.metrics == sealed.metrics and exported.nodes == sealed.nodes


def _sample(kind: str) -> Any:
    return next(e for e in SAMPLES if e.type == kind)


def _export(s: Script) -> ev.ExportCompleted:
    return ev.ExportCompleted(
        **s.env(EXPORTER, numbered=False),
        payload=ev.ExportCompletedPayload(
            format=ev.ExportFormat.JSON,
            template=ev.ExportTemplate.DEFAULT,
            bucket="b",
            object_key="k",
            package_hash=root(5),
            size=1,
        ),
    )
