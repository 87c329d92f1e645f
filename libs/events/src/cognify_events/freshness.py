"""Is a reviewer's decision still about the run as it is? (pure: no I/O)

A decision records the run's event chain as it stood (`reviewed_chain_length`, issue 13).
When the chain has since grown by anything but reviews (a late metric, a checkpoint, a
hash result, a documented diff), the decision is stale: what the person approved is not
what would be sealed, and the seal needs a new decision (docs/spec/trust.md).

Part of the event contract because two services apply the same rule: the exporter when it
seals (a stale approval does not count) and lineage when it lists a run's approvals.
"""

from __future__ import annotations

from dataclasses import dataclass

# Events that are about the review itself, not the run reviewed.
NOT_CHANGES = frozenset(
    {
        "run.approved",
        "run.rejected",
        "annotation.added",
        "run.seal_requested",
        "run.seal_refused",
        "run.sealed",
        "access.recorded",
    }
)


@dataclass(frozen=True)
class Change:
    """The first event stored at or after the reviewed length that changed the run."""

    chain_index: int
    type: str
    count: int  # how many such events


def stale_reason(
    who: str, decision: str, reviewed_length: int, change: Change | None
) -> str | None:
    """Why `who`'s decision no longer counts; None while it still does."""
    if change is None:
        return None
    return (
        f"approval stale: {who} {decision} the run at chain length {reviewed_length}; "
        f"{change.count} event(s) changed it since (first: {change.type} at "
        f"{change.chain_index}); a new decision is needed"
    )
