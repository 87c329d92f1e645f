"""Gaps and conflicts in a run's producer sequence numbers (pure: no I/O).

The SDK numbers a run's events 0, 1, 2, ...; a number never seen below the highest one is
a gap, shown as a `sequence-gap` finding until a late event fills it. `run.ended` carries
`last_seq`, so a lost tail is a gap too. Gaps are kept as inclusive ranges, so a producer
that jumps far ahead costs one range, not one entry per missing number.

A number is claimed once. A second event claiming a number already seen (another event
id: a redelivery of the same event is a duplicate, dropped before this) is a conflict: it
is refused, never folded over the first (a metric at step 1 silently changed from 1.5 to
77.0 otherwise), and shown as a `sequence-conflict` finding that blocks the seal until a
reviewer has seen it: annotated it (`annotation.added` whose `node_id` is the finding's
id; ingest makes that event only for a reviewer's or an admin's key, and no key may sign
one itself). docs/spec/lineage.md, "Sequence conflicts".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from cognify_events import Event
from cognify_lineage_model.findings import SEQUENCE_CONFLICT
from cognify_lineage_model.model import Finding, Run, evolve
from cognify_lineage_model.rows import CONFLICT_PREFIX
from cognify_lineage_model.rows import conflict_finding as conflict_finding
from cognify_lineage_model.rows import is_conflict as is_conflict

CONFLICT = SEQUENCE_CONFLICT


def seen(run: Run | None, seq: int) -> bool:
    """Has the run's producer sequence already had number `seq`?"""
    if run is None or run.seq_high is None or seq > run.seq_high:
        return False
    return not any(lo <= seq <= hi for lo, hi in run.gaps)


def conflict_reason(event: Event) -> str:
    """Why `event` is refused: the dead letter's and `refused_events`' reason."""
    return (
        f"{CONFLICT_PREFIX}run {event.run_id!r} already has an event with seq {event.seq}; "
        f"a {event.type} event {event.event_id} claiming the same seq with other content "
        "is refused, not applied over the first"
    )


def conflicts(
    events: Iterable[Event], runs: Mapping[str, Run], skip: Sequence[bool] | None = None
) -> dict[int, str]:
    """The events (by position, in partition order) that claim a number their run's
    producer has already used: in the store (`runs`, the projected runs) or earlier in
    `events`. `events` holds no event twice and none already stored (redeliveries are
    dropped first). Positions where `skip` is true are left out (refused for another
    reason: they claim nothing)."""
    out: dict[int, str] = {}
    claimed: dict[str, set[int]] = {}  # the numbers each run's events of the batch claim
    stored: dict[str, int] = {}  # each run's highest number in the store (-1: none)
    for i, e in enumerate(events):
        seq = e.seq
        if seq is None or e.run_id is None or (skip is not None and skip[i]):
            continue
        run_id = e.run_id
        mine = claimed.get(run_id)
        if mine is None:
            mine = claimed[run_id] = set()
            run = runs.get(run_id)
            stored[run_id] = -1 if run is None or run.seq_high is None else run.seq_high
        if seq in mine or (seq <= stored[run_id] and seen(runs.get(run_id), seq)):
            out[i] = conflict_reason(e)
        else:
            mine.add(seq)
    return out


Gaps = tuple[tuple[int, int], ...]


def _remove(gaps: Gaps, seq: int) -> Gaps:
    out: list[tuple[int, int]] = []
    for lo, hi in gaps:
        if lo <= seq <= hi:
            out.extend(r for r in ((lo, seq - 1), (seq + 1, hi)) if r[0] <= r[1])
        else:
            out.append((lo, hi))
    return tuple(out)


def saw(run: Run, seq: int, when: datetime) -> Run:
    """The run's producer sent number `seq`."""
    high = run.seq_high
    if high is None:
        gaps: Gaps = ((0, seq - 1),) if seq > 0 else ()
        return _with_gaps(evolve(run, seq_high=seq), gaps, when)
    if seq > high:
        gaps = run.gaps + (((high + 1, seq - 1),) if seq > high + 1 else ())
        return _with_gaps(evolve(run, seq_high=seq), gaps, when)
    return _with_gaps(run, _remove(run.gaps, seq), when)


def saw_tail(run: Run, last_seq: int, when: datetime) -> Run:
    """`run.ended` says the producer's last number was `last_seq`: anything after the
    highest number seen is missing."""
    high = -1 if run.seq_high is None else run.seq_high
    if last_seq <= high:
        return run
    gaps = (*run.gaps, (high + 1, last_seq))
    return _with_gaps(evolve(run, seq_high=last_seq), gaps, when)


def _with_gaps(run: Run, gaps: Gaps, when: datetime) -> Run:
    if gaps == run.gaps:
        return run
    findings = {k: f for k, f in run.findings.items() if f.kind != "sequence-gap"}
    for lo, hi in gaps:
        old = run.findings.get(f"sequence-gap:{lo}-{hi}")
        findings[f"sequence-gap:{lo}-{hi}"] = old or Finding(
            f"sequence-gap:{lo}-{hi}",
            "sequence-gap",
            f"{lo}-{hi}" if lo != hi else str(lo),
            when,
            {"from": lo, "to": hi, "missing": hi - lo + 1},
        )
    return evolve(run, gaps=gaps, findings=findings)
