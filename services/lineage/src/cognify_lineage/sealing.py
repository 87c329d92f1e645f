"""A sealed run is read-only: which events may still be added after its seal (pure: no I/O).

Ingest refuses events for sealed runs, but it decides from a cache (a seal takes effect there
within `COGNIFY_INGEST_STATE_TTL_S`), so an event can still reach the canonical topic after
`run.sealed` in the run's partition. Lineage sees a run's events in partition order and
makes the exact decision: an event of a run sealed before it (in the store, or by an
earlier `run.sealed` of the same batch) is neither appended to the run's chain nor folded,
unless its type is one that the services write about a sealed run (docs/spec/lineage.md,
"After the seal"). A redelivery of an event already stored is a duplicate, not a refusal:
the adapter checks that before recording a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Set

from cognify_events import Event

SEALED_BY = "run.sealed"

# What may still be added to a sealed run: the exporter's packages of the sealed state, and
# workspace-level facts (reads of the run or its packages, retention changes), which never
# belong to a run's chain; they are listed in case one ever names a run.
AFTER_SEAL: frozenset[str] = frozenset({"export.completed", "access.recorded", "retention.updated"})


def allowed_after_seal(event: Event) -> bool:
    """May `event` still be added once its run is sealed? Events without a run always may."""
    return event.run_id is None or event.type in AFTER_SEAL


def reason(event: Event) -> str:
    """Why an event of a sealed run is refused (the dead letter's and the record's reason)."""
    if event.type == SEALED_BY:
        return (
            f"run_id: run {event.run_id!r} is already sealed (AUDIT_SEALED); "
            "a second run.sealed is refused"
        )
    return (
        f"run_id: run {event.run_id!r} is sealed (AUDIT_SEALED); "
        f"a {event.type} event may not be added after the seal"
    )


def refusals(events: Iterable[Event], sealed: Set[str]) -> dict[int, str]:
    """The events to refuse, by position in `events` (in partition order), with the reason:
    those of a run in `sealed` (sealed in the store) or sealed by an earlier `run.sealed`
    of `events`, unless allowed after a seal. Every other event is stored and folded."""
    out: dict[int, str] = {}
    closed: Set[str] = sealed
    for i, e in enumerate(events):
        run_id = e.run_id
        if run_id is None:
            continue
        if run_id in closed:
            if e.type not in AFTER_SEAL:
                out[i] = reason(e)
        elif e.type == SEALED_BY:
            closed = {*closed, run_id}
    return out
