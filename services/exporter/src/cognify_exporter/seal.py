"""Can this run be sealed, and the seal itself (pure: no I/O, no clock).

A run is sealable when it has ended, every hash job has a result or a recorded gap (a
`hash.failed` is evidence of absence, and acceptable), every dataset change has a
documented diff, every sequence conflict (an event refused for claiming a number the run
already had) and every dataset short of the provenance the workspace's compliance tier
requires has been seen by a reviewer, and the approvals the workspace policy requires
are there and not overturned. `reasons` names every thing that is missing, precisely
enough to act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4, uuid5

import cognify_events as ev
from cognify_lineage_model.findings import DATASET_CHANGED, PROVENANCE_INCOMPLETE, SEQUENCE_CONFLICT
from cognify_lineage_model.model import SEALED, Approval, Finding, Run

ENDED = ("completed", "failed", "interrupted")
# A seal's event id is derived from the run and the chain head, so a seal published twice
# (a retry, two exporters racing) is one event to every idempotent consumer.
SEAL_NAMESPACE = UUID("6f0e2d4c-3b1a-4c5e-9f8d-7a6b5c4d3e2f")


@dataclass(frozen=True)
class Policy:
    required_approvals: int = 1


@dataclass(frozen=True)
class Chain:
    head: str
    length: int


def latest_decisions(approvals: tuple[Approval, ...]) -> dict[str, Approval]:
    """Each reviewer's latest decision (approvals are in store order)."""
    latest: dict[str, Approval] = {}
    for a in approvals:
        latest[a.reviewer_name] = a
    return latest


def reasons(
    run: Run,
    policy: Policy,
    refusals: Iterable[Finding] = (),
    stale: Mapping[str, str] | None = None,
) -> list[str]:
    """Why the run cannot be sealed now; empty when it can. `refusals`: the findings of
    the run's refused events (lineage's read side), of which sequence conflicts count.
    `stale`: approvals made about an earlier state of the run (freshness.py), which do not
    count; a rejection stands however old."""
    out: list[str] = []
    if run.status == SEALED:
        return out
    if run.status not in ENDED:
        out.append(f"run not ended: status is {run.status} (no run.ended event yet)")
    for node in sorted(run.nodes.values(), key=lambda n: n.ordinal):
        if node.hash_status == "pending":
            out.append(
                f"hash job pending: {node.type} {node.id} has no hash result and no recorded gap"
            )
    for finding in sorted(run.findings.values(), key=lambda f: f.id):
        if finding.kind == DATASET_CHANGED and finding.resolved_at is None:
            d = finding.detail
            out.append(
                f"undocumented dataset change: {finding.subject} changed from "
                f"{d.get('previous_root')} to {d.get('new_root')} without a documented diff"
            )
        elif finding.kind == PROVENANCE_INCOMPLETE and finding.resolved_at is None:
            d = finding.detail
            missing = d.get("missing")
            fields = ", ".join(map(str, missing)) if isinstance(missing, list) else missing
            out.append(
                f"incomplete provenance: dataset {finding.subject} lacks {fields}, required "
                f"for the workspace's {d.get('tier')} compliance tier; a reviewer must "
                f"annotate finding {finding.id} before the seal"
            )
    for finding in refusals:
        if finding.kind == SEQUENCE_CONFLICT and finding.resolved_at is None:
            d = finding.detail
            out.append(
                f"unseen sequence conflict: a {d.get('type')} event {finding.subject} claimed "
                f"seq {d.get('seq')}, which the run already had, and was refused; a reviewer "
                f"must annotate finding {finding.id} before the seal"
            )
    latest = latest_decisions(run.approvals)
    for a in latest.values():
        if a.decision == "rejected":
            out.append(f"rejected: {a.reviewer_name} ({a.reviewer_role}) rejected the run")
    stale = stale or {}
    for a in latest.values():
        if a.decision == "approved" and a.event_id in stale:
            out.append(stale[a.event_id])
    approved = [a for a in latest.values() if a.decision == "approved" and a.event_id not in stale]
    if len(approved) < policy.required_approvals:
        out.append(
            f"approval missing: the workspace policy requires {policy.required_approvals} "
            f"approval(s), the run has {len(approved)}"
        )
    return out


def seal_id(run_id: str, chain_head: str) -> UUID:
    return uuid5(SEAL_NAMESPACE, f"{run_id}/{chain_head}")


def seal_event(
    run: Run, chain: Chain, sealed_by: str, when: datetime, producer: ev.Producer
) -> ev.RunSealed:
    return ev.RunSealed(
        event_id=seal_id(run.run_id, chain.head),
        workspace_id=run.workspace_id,
        project=run.project,
        run_id=run.run_id,
        time=when,
        producer=producer,
        payload=ev.RunSealedPayload(
            sealed_at=when, sealed_by=sealed_by, chain_head=chain.head, event_count=chain.length
        ),
    )


def refusal_id(run_id: str, request_id: UUID) -> UUID:
    """The id of the `run.seal_refused` answering a seal request: one answer per request,
    however often the request is delivered."""
    return uuid5(SEAL_NAMESPACE, f"{run_id}/refused/{request_id}")


def refusal_event(
    run: Run,
    why: list[str],
    requested_by: str,
    request_id: UUID | None,
    when: datetime,
    producer: ev.Producer,
) -> ev.SealRefused:
    return ev.SealRefused(
        event_id=refusal_id(run.run_id, request_id) if request_id is not None else uuid4(),
        workspace_id=run.workspace_id,
        project=run.project,
        run_id=run.run_id,
        time=when,
        producer=producer,
        payload=ev.SealRefusedPayload(
            reasons=why, request_id=request_id, requested_by=requested_by
        ),
    )
