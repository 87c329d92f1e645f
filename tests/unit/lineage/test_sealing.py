"""A sealed run is read-only: which events are refused after the seal (sealing.py), and the
fold that never lets one change a sealed run."""

from __future__ import annotations

from typing import Any

import cognify_events as ev
import pytest
from cognify_events.catalog import BY_TYPE
from cognify_lineage import chain, dag, sealing

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


# A seal is exact: it names the run's chain head and length immediately before it.

REVIEWER = ev.Producer(kind=ev.ProducerKind.API, id="api")


def _annotation(s: Script, text: str = "late note") -> ev.AnnotationAdded:
    return ev.AnnotationAdded(
        **s.env(REVIEWER, numbered=False),
        payload=ev.AnnotationAddedPayload(
            annotation_id=f"a-{text.replace(' ', '-')}",
            node_id=s.run_id,
            author=ev.Reviewer(name="Dana", role="compliance"),
            text=text,
        ),
    )


def _pending(
    events: list[Any], heads: dict[str, sealing.Head], stored: frozenset[Any] = frozenset()
) -> sealing.Pending:
    return sealing.Pending(heads, [ev.encode(e) for e in events], stored)


def test_a_seal_naming_the_chain_head_and_length_is_not_stale() -> None:
    s = Script("ws-a", RUN)
    head = sealing.Head(19, root(3))
    assert sealing.stale_reason(s.sealed(root(3), 19), head) is None
    assert sealing.stale_reason(s.sealed(chain.GENESIS, 0), sealing.EMPTY) is None


def test_a_seal_naming_another_head_or_length_is_stale_with_the_reason() -> None:
    s = Script("ws-a", RUN)
    head = sealing.Head(20, root(4))
    assert sealing.stale_reason(s.sealed(root(3), 19), head) == (
        f"run.sealed names chain head {root(3)} (19 events) but the run's chain has 20 events "
        f"ending in {root(4)}: the seal is stale"
    )
    assert sealing.stale_reason(s.sealed(root(4), 19), head) is not None  # the length too
    assert sealing.stale_reason(s.sealed(root(3), 20), head) is not None  # the head too
    why = sealing.stale_reason(s.sealed(root(3), 19), head)
    assert why is not None and sealing.is_stale_seal("run.sealed", why)
    assert not sealing.is_stale_seal("run.sealed", sealing.reason(s.sealed(root(3), 19)))


def test_an_event_stored_after_the_head_the_seal_names_makes_it_stale() -> None:
    """The race: the exporter read (19, X); an annotation was stored after X; then the
    seal. Refused, and the run stays unsealed: what follows it is stored."""
    s = Script("ws-a", RUN)
    stale = s.sealed(root(3), 19)
    later: list[Any] = [stale, s.metrics(300, 0.1), _export(s)]
    heads = {RUN: sealing.Head(20, root(4))}  # the annotation is in the store
    verdicts = sealing.refusals(later, set(), _pending(later, heads))
    assert list(verdicts) == [0]
    assert verdicts[0].endswith("the seal is stale")
    # No chain yet at all: a seal naming anything but the empty chain is stale.
    assert list(sealing.refusals(later, set(), _pending(later, {}))) == [0]


def test_the_runs_events_earlier_in_the_batch_move_the_head_the_seal_must_name() -> None:
    s, other = Script("ws-a", RUN), Script("ws-a", "run-2")
    head = sealing.Head(19, root(3))
    note, noise = _annotation(s), other.metrics(1, 1.0)
    body = ev.encode(note)
    moved = chain.link(root(3), body)

    stale = s.sealed(root(3), 19)  # read before the annotation: stale
    batch: list[Any] = [note, noise, stale, s.metrics(300, 0.1)]
    verdicts = sealing.refusals(batch, set(), _pending(batch, {RUN: head}))
    assert list(verdicts) == [2]
    assert verdicts[2] == (
        f"run.sealed names chain head {root(3)} (19 events) but the run's chain has 20 events "
        f"ending in {moved}: the seal is stale"
    )

    exact = s.sealed(moved, 20)  # covers the annotation: accepted, closes the run
    batch = [note, noise, stale, exact, s.metrics(301, 0.1), _export(s)]
    verdicts = sealing.refusals(batch, set(), _pending(batch, {RUN: head}))
    assert sorted(verdicts) == [2, 4]
    assert "is sealed (AUDIT_SEALED)" in verdicts[4]

    # A refused stale seal does not move the head: a seal after it names the same head.
    exact_after = s.sealed(moved, 20)
    batch = [note, stale, exact_after]
    assert list(sealing.refusals(batch, set(), _pending(batch, {RUN: head}))) == [1]


def test_an_event_of_the_batch_already_stored_does_not_move_the_head() -> None:
    """A redelivery is in the store's head already: counted once, and never refused."""
    s = Script("ws-a", RUN)
    note = _annotation(s)
    after = chain.link(root(3), ev.encode(note))
    seal = s.sealed(after, 20)
    batch: list[Any] = [note, seal]
    stored = frozenset({note.event_id})
    heads = {RUN: sealing.Head(20, after)}  # the annotation was stored by an earlier batch
    assert sealing.refusals(batch, set(), _pending(batch, heads, stored)) == {}
    # The seal itself already stored (a redelivery of an accepted seal): not checked again.
    again = frozenset({seal.event_id})
    assert sealing.refusals([seal], {RUN}, _pending([seal], heads, again)) == {}
    assert sealing.refusals([seal], set(), _pending([seal], {}, frozenset({seal.event_id}))) == {}


def test_a_seal_refused_before_stays_refused_when_the_chain_has_grown_to_its_head() -> None:
    """It named a head the chain had not reached (the exporter cannot make such a seal);
    delivered again once the chain has grown to it, it is still not the seal of the chain
    it followed: a refusal is final, and the events after it are not refused."""
    s = Script("ws-a", RUN)
    note = _annotation(s)
    ahead = chain.link(root(3), ev.encode(note))
    early = s.sealed(ahead, 20)
    heads = {RUN: sealing.Head(20, ahead)}  # the annotation is now in the store
    later = s.metrics(301, 0.1)
    pending = sealing.Pending(
        heads, [ev.encode(e) for e in (early, later)], refused=frozenset({early.event_id})
    )
    assert sealing.refusals([early, later], set(), pending) == {0: sealing.REFUSED_BEFORE}
    # Never refused before, the same seal is exact now: accepted, it closes the run.
    assert list(sealing.refusals([early, later], set(), _pending([early, later], heads))) == [1]


def test_a_second_seal_of_a_sealed_run_is_refused_as_after_the_seal_not_as_stale() -> None:
    s = Script("ws-a", RUN)
    second = s.sealed(root(3), 19)
    verdicts = sealing.refusals([second], {RUN}, _pending([second], {}))
    assert verdicts == {0: sealing.reason(second)}
