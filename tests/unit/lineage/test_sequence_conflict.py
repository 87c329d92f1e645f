"""A run's producer numbers are claimed once: a second event claiming one is a conflict,
refused and shown as a finding, never folded over the first (issue 12: the metric at step 1
changed from 1.5 to 77.0 with no finding)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import cognify_events as ev
from cognify_lineage import dag, sealing, sequence
from cognify_lineage.model import Annotation

from tests.unit.lineage.script import T0, Script, training


def rival(first: ev.MetricsLogged, loss: float) -> ev.MetricsLogged:
    """Another event (a new id, other content) claiming `first`'s seq."""
    p = first.payload
    payload = p.model_copy(update={"metrics": {**p.metrics, "loss": loss}})
    return first.model_copy(update={"event_id": uuid.uuid4(), "payload": payload})


def test_a_number_already_folded_is_a_conflict() -> None:
    s = Script("ws-1", "run-1")
    stored = dag.fold_all(training(s))
    first = s.metrics(1, 1.5)
    state = dag.fold(stored, first)
    second = rival(first, 77.0)
    found = sequence.conflicts([second], state.runs)
    assert list(found) == [0]
    assert found[0].startswith("sequence-conflict: run 'run-1' already has an event with seq ")
    assert str(second.event_id) in found[0]


def test_a_number_claimed_twice_in_one_batch_keeps_the_first_claim() -> None:
    s = Script("ws-1", "run-1")
    first = s.metrics(1, 1.5)
    second = rival(first, 77.0)
    found = sequence.conflicts([first, s.metrics(2, 1.4), second], {})
    assert found == {2: sequence.conflict_reason(second)}


def test_positions_refused_for_another_reason_claim_nothing() -> None:
    s = Script("ws-1", "run-1")
    first = s.metrics(1, 1.5)
    second = rival(first, 77.0)
    assert sequence.conflicts([first, second], {}, skip=[True, False]) == {}


def test_a_late_event_filling_a_gap_is_no_conflict_and_other_runs_do_not_count() -> None:
    s, t = Script("ws-1", "run-1"), Script("ws-1", "run-2")
    early = s.metrics(1, 1.5)
    s.seq += 3  # numbers 1..3 are lost for now
    after_gap = s.metrics(5, 1.1)
    state = dag.fold_all([s.started(), after_gap])
    late = early.model_copy(update={"seq": 2})
    other = t.started()  # run-2's seq 0 while run-1 has one too
    assert sequence.conflicts([late, other], state.runs) == {}


def test_the_fold_keeps_the_first_claim_and_a_replay_changes_nothing() -> None:
    s = Script("ws-1", "run-1")
    first = s.metrics(1, 1.5)
    state = dag.fold_all([*training(s), first])
    once = dag.fold(state, rival(first, 77.0))
    assert once.runs["run-1"].metrics[("loss", 1)].value == 1.5
    assert once == state
    assert dag.fold(state, first) == state


def test_a_reviewers_annotation_of_the_finding_is_seeing_it() -> None:
    event_id = str(uuid.uuid4())
    detail = {"seq": 7, "type": "metrics.logged"}
    unseen = sequence.conflict_finding(event_id, T0, detail, [])
    assert (unseen.id, unseen.kind, unseen.resolved_at) == (
        f"sequence-conflict:{event_id}",
        "sequence-conflict",
        None,
    )
    elsewhere = Annotation("ann-1", "ckpt_step_100", "Dana", "reviewer", "fine", T0)
    note = Annotation(
        "ann-2", unseen.id, "Dana", "reviewer", "a retry; kept 1.5", T0 + timedelta(minutes=5)
    )
    assert sequence.conflict_finding(event_id, T0, detail, [elsewhere]).resolved_at is None
    seen = sequence.conflict_finding(event_id, T0, detail, [elsewhere, note])
    assert seen.resolved_at == note.time
    assert seen.resolution == {
        "seen_by": "Dana",
        "role": "reviewer",
        "annotation_id": "ann-2",
        "note": "a retry; kept 1.5",
    }


def test_a_refusal_is_known_by_its_reason() -> None:
    s = Script("ws-1", "run-1")
    first = s.metrics(1, 1.5)
    conflict = sequence.conflict_reason(rival(first, 77.0))
    assert sealing.refusal_kind("metrics.logged", conflict) == "sequence-conflict"
    assert sealing.refusal_kind("metrics.logged", sealing.reason(first)) == "event-after-seal"
    assert sealing.refusal_kind("run.sealed", f"... {sealing.STALE}") == "stale-seal"
