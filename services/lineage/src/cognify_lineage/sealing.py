"""A sealed run is read-only: which events may still be added after its seal (pure: no I/O).

Ingest refuses events for sealed runs, but it decides from a cache (a seal takes effect there
within `COGNIFY_INGEST_STATE_TTL_S`), so an event can still reach the canonical topic after
`run.sealed` in the run's partition. Lineage sees a run's events in partition order and
makes the exact decision: an event of a run sealed before it (in the store, or by an
earlier `run.sealed` of the same batch) is neither appended to the run's chain nor folded,
unless its type is one that the services write about a sealed run (docs/spec/lineage.md,
"After the seal"). A redelivery of an event already stored is a duplicate, not a refusal:
the adapter checks that before recording a refusal.

A seal must also be exact: the exporter reads the run's chain (head, length), then
publishes `run.sealed` naming them, and an event of the run can reach the canonical topic
in between (a reviewer's annotation accepted because the run was not yet sealed). Stored
before the seal but not covered by it, it would be left out of the packages. So a
`run.sealed` whose `chain_head`/`event_count` are not the run's chain head and length
immediately before it (the store's head, advanced by the run's events earlier in the same
batch that are being appended) is refused as stale: neither chained nor folded, and the
run stays unsealed (events after it are not refused); the exporter publishes a new seal.
A refusal is final: the same seal delivered again is refused again, even when the chain
has meanwhile grown to the head it names (it was not the seal of the chain it followed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from uuid import UUID

from cognify_events import Event
from cognify_events.exports import RunSealed
from cognify_lineage_model.rows import SEALED_BY as SEALED_BY
from cognify_lineage_model.rows import STALE as STALE
from cognify_lineage_model.rows import is_stale_seal as is_stale_seal
from cognify_lineage_model.rows import refusal_kind as refusal_kind

from . import chain

# SEALED_BY, STALE, is_stale_seal and refusal_kind (re-exported above) live in the read model:
# a refusal's reason is part of lineage's read contract, readers tell its kind from it.
REFUSED_BEFORE = "refused before; a refusal is final"

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


@dataclass(frozen=True)
class Head:
    """A run's chain as it stands: how many events, and the hash of the last one."""

    length: int
    hash: str


EMPTY = Head(0, chain.GENESIS)


def stale_reason(seal: RunSealed, head: Head) -> str | None:
    """Why `seal` does not seal the chain it would follow (`head`: the run's chain just
    before it); None when it names exactly that head and length."""
    p = seal.payload
    if (p.chain_head, p.event_count) == (head.hash, head.length):
        return None
    return (
        f"run.sealed names chain head {p.chain_head} ({p.event_count} events) but the run's "
        f"chain has {head.length} events ending in {head.hash}: {STALE}"
    )


@dataclass(frozen=True)
class Pending:
    """The state a batch's seals are checked against: the chains of the runs with a seal in
    the batch (in the store, before the batch; a run missing has no events yet), the bytes
    of each event of the batch (what the chain hashes), the ids of the batch's events
    already stored (redeliveries: already in the chain, neither appended again nor
    refused), and the ids of its seals refused before (refused again, whatever the chain
    is now)."""

    heads: Mapping[str, Head]
    bodies: Sequence[bytes]
    stored: Set[UUID] = frozenset()
    refused: Set[UUID] = frozenset()


def refusals(
    events: Iterable[Event],
    sealed: Set[str],
    pending: Pending | None = None,
    skip: Set[int] = frozenset(),
) -> dict[int, str]:
    """The events to refuse, by position in `events` (in partition order), with the reason:
    those of a run in `sealed` (sealed in the store) or sealed by an earlier `run.sealed`
    of `events`, unless allowed after a seal; and, given `pending`, every `run.sealed` of
    an unsealed run that does not name the run's chain head and length just before it
    (stale: refused, and the run stays unsealed). Every other event is stored and folded.
    Without `pending`, seals are not checked against the chain. The positions in `skip`
    are refused for another reason (sequence conflicts): never appended to a chain, and
    refused here only when after a seal."""
    out: dict[int, str] = {}
    closed: Set[str] = sealed
    batch = list(events)
    # Only the chains of runs with a seal to check are followed (each event hashed once).
    heads: dict[str, Head] = {}
    if pending is not None:
        for e in batch:
            if e.type == SEALED_BY and e.run_id is not None and e.run_id not in sealed:
                heads[e.run_id] = pending.heads.get(e.run_id, EMPTY)
    for i, e in enumerate(batch):
        run_id = e.run_id
        if run_id is None:
            continue
        if pending is not None and e.event_id in pending.stored:
            continue
        if run_id in closed:
            if e.type not in AFTER_SEAL:
                out[i] = reason(e)
                continue
        elif i in skip:
            continue
        elif isinstance(e, RunSealed) and run_id in heads:
            before = pending is not None and e.event_id in pending.refused
            why = REFUSED_BEFORE if before else stale_reason(e, heads[run_id])
            if why is not None:
                out[i] = why
                continue
            closed = {*closed, run_id}
        elif e.type == SEALED_BY:
            closed = {*closed, run_id}
        if pending is not None and run_id in heads:  # appended to the run's chain
            head = heads[run_id]
            heads[run_id] = Head(head.length + 1, chain.link(head.hash, pending.bodies[i]))
    return out
