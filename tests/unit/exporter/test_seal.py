"""Whether a run can be sealed, and exactly why not."""

from __future__ import annotations

import cognify_events as ev
from cognify_exporter.seal import Policy, reasons

from tests.unit.lineage.script import Script, hash_results, root, training

from .fixtures import approval, events, folded


def test_an_ended_hashed_approved_run_is_sealable() -> None:
    assert reasons(folded(events(Script("ws-1", "run-1"))), Policy()) == []


def test_a_running_run_is_refused_because_it_has_not_ended() -> None:
    s = Script("ws-1", "run-1")
    evs = [e for e in events(s) if not isinstance(e, ev.RunEnded)]
    assert reasons(folded(evs), Policy()) == [
        "run not ended: status is running (no run.ended event yet)"
    ]


def test_a_pending_hash_job_is_named() -> None:
    s = Script("ws-1", "run-1")
    evs = [*training(s), *hash_results(s)[:2], approval(s)]
    assert reasons(folded(evs), Policy()) == [
        "hash job pending: checkpoint ckpt_step_200 has no hash result and no recorded gap",
        "hash job pending: model model_final has no hash result and no recorded gap",
    ]


def test_a_recorded_gap_is_not_a_pending_job() -> None:
    s = Script("ws-1", "run-1")
    results = hash_results(s)
    evs = [
        *training(s),
        *results[:2],
        s.hash_failed(ev.HashTarget.CHECKPOINT, "ckpt_step_200"),
        results[3],
        approval(s),
    ]
    assert reasons(folded(evs), Policy()) == []


def test_an_undocumented_dataset_change_is_named_with_both_roots() -> None:
    s = Script("ws-1", "run-1")
    changed = ev.DatasetChanged(
        **s.env(numbered=False),
        payload=ev.DatasetChangedPayload(
            dataset_id="ds_notes_v3", name="notes", previous_root=root(9), new_root=root(1)
        ),
    )
    assert reasons(folded([*events(s), changed]), Policy()) == [
        f"undocumented dataset change: ds_notes_v3 changed from {root(9)} to {root(1)} "
        "without a documented diff"
    ]


def test_a_missing_approval_is_refused_by_the_default_policy() -> None:
    s = Script("ws-1", "run-1")
    evs = [e for e in events(s) if not isinstance(e, ev.RunApproved)]
    assert reasons(folded(evs), Policy()) == [
        "approval missing: the workspace policy requires 1 approval(s), the run has 0"
    ]
    assert reasons(folded(evs), Policy(required_approvals=0)) == []


def test_a_later_rejection_overturns_the_reviewers_approval() -> None:
    s = Script("ws-1", "run-1")
    evs = [*events(s), approval(s, approve=False)]
    assert reasons(folded(evs), Policy()) == [
        "rejected: Dana Reyes (compliance-officer) rejected the run",
        "approval missing: the workspace policy requires 1 approval(s), the run has 0",
    ]


def test_two_required_approvals_need_two_reviewers() -> None:
    s = Script("ws-1", "run-1")
    one = folded([*events(s), approval(s)])
    assert reasons(one, Policy(2)) == [
        "approval missing: the workspace policy requires 2 approval(s), the run has 1"
    ]
    assert reasons(folded([*events(s), approval(s, "Sam Okafor")]), Policy(2)) == []
