"""Gaps in a run's producer sequence numbers (pure: no I/O).

The SDK numbers a run's events 0, 1, 2, ...; a number never seen below the highest one is
a gap, shown as a `sequence-gap` finding until a late event fills it. `run.ended` carries
`last_seq`, so a lost tail is a gap too. Gaps are kept as inclusive ranges, so a producer
that jumps far ahead costs one range, not one entry per missing number.
"""

from __future__ import annotations

from datetime import datetime

from .model import Finding, Run, evolve

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
