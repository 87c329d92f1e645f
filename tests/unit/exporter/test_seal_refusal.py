"""A seal the exporter will not make is a fact on the run: `run.seal_refused` with every
reason, the request it answers and who asked, folded by lineage into the run's state and a
finding. And an unseen sequence conflict is one of the reasons."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import cognify_events as ev
from cognify_exporter import seal
from cognify_exporter.seal import Policy, reasons
from cognify_lineage import dag, graph, sequence

from tests.unit.lineage.script import EXPORTER, T0, Script

from .fixtures import events, folded

WHY = ["approval missing: the workspace policy requires 1 approval(s), the run has 0"]


def test_an_unseen_sequence_conflict_blocks_the_seal_until_a_reviewer_has_seen_it() -> None:
    run = folded(events(Script("ws-1", "run-1")))
    refused_id = str(uuid.uuid4())
    detail = {"seq": 7, "type": "metrics.logged"}
    unseen = sequence.conflict_finding(refused_id, T0, detail, [])
    assert reasons(run, Policy(), [unseen]) == [
        f"unseen sequence conflict: a metrics.logged event {refused_id} claimed seq 7, which "
        f"the run already had, and was refused; a reviewer must annotate finding "
        f"sequence-conflict:{refused_id} before the seal"
    ]
    seen = dataclasses.replace(unseen, resolved_at=T0 + timedelta(hours=1))
    assert reasons(run, Policy(), [seen]) == []


def test_a_refusal_answering_a_request_has_one_id_however_often_it_is_made() -> None:
    run = folded(events(Script("ws-1", "run-1")))
    request = uuid.uuid4()
    a = seal.refusal_event(run, WHY, "Sam Lee", request, T0, EXPORTER)
    b = seal.refusal_event(run, WHY, "Sam Lee", request, T0 + timedelta(seconds=3), EXPORTER)
    assert a.event_id == b.event_id
    assert a.payload.request_id == request and a.payload.requested_by == "Sam Lee"
    direct = seal.refusal_event(run, WHY, "Sam Lee", None, T0, EXPORTER)
    again = seal.refusal_event(run, WHY, "Sam Lee", None, T0, EXPORTER)
    assert direct.event_id != again.event_id  # asked twice over HTTP: two refusals
    assert ev.decode(ev.encode(a)) == a


def test_lineage_shows_the_refusal_on_the_run_until_it_is_sealed() -> None:
    s = Script("ws-1", "run-1")
    stored = events(s)
    state = dag.fold_all(stored)
    request = uuid.uuid4()
    refusal = seal.refusal_event(
        state.runs["run-1"], WHY, "Sam Lee", request, T0 + timedelta(hours=1), EXPORTER
    )
    run = dag.fold(state, refusal).runs["run-1"]
    assert run.status == "completed"  # what training ended as is kept
    shown = graph.summary(run)["seal_refused"]
    assert shown == {
        "reasons": WHY,
        "request_id": str(request),
        "requested_by": "Sam Lee",
        "at": "2025-09-12T15:30:22Z",
        "event_id": str(refusal.event_id),
    }
    finding = run.findings[f"seal-refused:{refusal.event_id}"]
    assert (finding.kind, finding.subject, finding.resolved_at) == (
        "seal-refused",
        str(request),
        None,
    )
    assert dict(finding.detail) == shown
    assert reasons(run, Policy()) == []  # a past refusal is no reason of its own

    sealed = dag.fold(dag.fold(state, refusal), s.sealed("sha256:" + "1" * 64, 20))
    answered = sealed.runs["run-1"].findings[finding.id]
    assert answered.resolved_at is not None and answered.resolution == {"by": "run.sealed"}
