"""The read side's queries: what the HTTP API shows, straight from the projection tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cognify_events import InvalidEvent, RunApproved, RunRejected, freshness
from cognify_lineage_model.graph import finding_json
from cognify_lineage_model.model import Annotation, Finding, Run, iso
from cognify_lineage_model.rows import annotation_from_row, findings_from_refusals, is_conflict
from cognify_objectstore import ObjectStoreError

from . import anchoring, chain, projection, sequence
from .anchoring import Segments
from .auth import Principal, key_id_of, matches
from .postgres import Pool, decode


async def principal(pool: Pool, token: str) -> Principal | None:
    """The active key behind a bearer token (the keys table ingest's admin CLI fills)."""
    key_id = key_id_of(token)
    if key_id is None:
        return None
    row = await pool.fetchrow(
        """SELECT k.key_id, k.workspace_id, k.role, k.key_hash, k.label, p.name
           FROM api_keys k LEFT JOIN people p USING (person_id)
           WHERE k.key_id = $1 AND k.revoked_at IS NULL""",
        key_id,
    )
    if row is None or not matches(token, row["key_hash"]):
        return None
    return Principal(row["key_id"], row["workspace_id"], row["role"], row["label"], row["name"])


async def version(pool: Pool, run_id: str) -> tuple[str, tuple[Any, ...]] | None:
    """The run's workspace and what changes whenever its graph can (graphcache.py): its
    stored chain's length, status, last event and seal; None for no such run. One row."""
    row = await pool.fetchrow(
        """SELECT r.workspace_id, r.status, r.last_event_at, r.sealed_at, h.length
           FROM runs r LEFT JOIN chain_heads h ON h.chain_id = r.run_id WHERE r.run_id = $1""",
        run_id,
    )
    if row is None:
        return None
    return row["workspace_id"], (
        row["length"],
        row["status"],
        row["last_event_at"],
        row["sealed_at"],
    )


async def run(pool: Pool, run_id: str) -> Run | None:
    async with pool.acquire() as conn:
        found = await projection.load(conn, [run_id])
    return found.get(run_id)


async def access_log(
    pool: Pool, workspace_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the workspace's access records, newest first, and how many there are."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT event_id, actor, role, action, object_id, address, allowed, accessed_at
               FROM access_log WHERE workspace_id = $1
               ORDER BY accessed_at DESC, event_id DESC LIMIT $2 OFFSET $3""",
            workspace_id,
            limit,
            offset,
        )
        total = await conn.fetchval(
            "SELECT count(*) FROM access_log WHERE workspace_id = $1", workspace_id
        )
    return [
        {
            "event_id": str(r["event_id"]),
            "actor": r["actor"],
            "role": r["role"],
            "action": r["action"],
            "object_id": r["object_id"],
            "address": r["address"],
            "allowed": r["allowed"],
            "time": iso(r["accessed_at"]),
        }
        for r in rows
    ], int(total)


async def metric_series(pool: Pool, run_id: str, name: str | None) -> dict[str, list[Any]]:
    rows = await pool.fetch(
        """SELECT name, step, value, epoch, point_time FROM metric_points
           WHERE run_id = $1 AND ($2::text IS NULL OR name = $2) ORDER BY name, step""",
        run_id,
        name,
    )
    series: dict[str, list[Any]] = {}
    for r in rows:
        point = {"step": r["step"], "value": r["value"], "epoch": r["epoch"]}
        series.setdefault(r["name"], []).append({**point, "time": iso(r["point_time"])})
    return series


async def annotation_list(pool: Pool, run_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT * FROM annotations WHERE run_id = $1 ORDER BY created_at, annotation_id", run_id
    )
    return [
        {
            "annotation_id": r["annotation_id"],
            "node_id": r["node_id"],
            "author": {"name": r["author_name"], "role": r["author_role"]},
            "text": r["body"],
            "time": iso(r["created_at"]),
        }
        for r in rows
    ]


async def approval_list(pool: Pool, run_id: str, run: Run, digest: str) -> list[dict[str, Any]]:
    """The run's decisions in store order, each with who made it (from the key), on which
    state of the run (`reviewed_chain`), and whether it is stale: the run changed since by
    more than reviews (cognify_events.freshness, the rule the exporter seals by), or the
    chain at the reviewed length is not the head the decision names. A sealed run is judged
    against its sealed chain only (what came after the seal changes nothing sealed).
    `digest`: the run's lineage digest now (graph.digest)."""
    rows = await pool.fetch(
        """SELECT a.*, e.body FROM approvals a JOIN events e USING (event_id)
           WHERE a.run_id = $1 ORDER BY e.position""",
        run_id,
    )
    until = (run.info.get("seal") or {}).get("event_count")
    out = []
    for r in rows:
        event = _decision(r["body"])
        payload = event.payload if event is not None else None
        length = payload.reviewed_chain_length if payload else None
        head = payload.reviewed_chain_head if payload else None
        why = await _stale(pool, run_id, r["reviewer_name"], r["decision"], length, head, until)
        out.append(
            {
                "event_id": str(r["event_id"]),
                "decision": r["decision"],
                "reviewer": {
                    "name": r["reviewer_name"],
                    "role": r["reviewer_role"],
                    "key_id": payload.reviewer.key_id if payload else None,
                },
                "comment": r["comment"],
                "time": iso(r["decided_at"]),
                "reviewed_chain": (
                    {"head": head, "length": length} if head and length is not None else None
                ),
                # null: recorded before decisions named the chain; it cannot be judged
                "stale": None if length is None else why is not None,
                "stale_reason": why,
                # the lineage graph decided on, and whether the run's graph is another now
                "lineage_digest": r["lineage_digest"],
                "lineage_changed": (
                    None if r["lineage_digest"] is None else r["lineage_digest"] != digest
                ),
            }
        )
    return out


def _decision(body: bytes) -> RunApproved | RunRejected | None:
    try:
        event = decode(body).event
    except InvalidEvent:
        return None
    return event if isinstance(event, RunApproved | RunRejected) else None


async def _stale(
    pool: Pool,
    run_id: str,
    who: str,
    decision: str,
    length: int | None,
    head: str | None,
    until: int | None,
) -> str | None:
    if length is None:
        return None
    if length > 0 and head is not None:
        at = await pool.fetchval(
            "SELECT hash FROM events WHERE chain_id = $1 AND chain_index = $2", run_id, length - 1
        )
        if at != head:
            return (
                f"approval stale: {who} {decision} the run at chain head {head} (length "
                f"{length}), but the run's chain at that length ends in {at}"
            )
    found = await pool.fetchrow(
        """SELECT min(chain_index) AS first, count(*) AS n,
                  (array_agg(type ORDER BY chain_index))[1] AS type
           FROM events WHERE chain_id = $1 AND chain_index >= $2
             AND NOT type = ANY($3::text[]) AND ($4::int IS NULL OR chain_index < $4)""",
        run_id,
        length,
        list(freshness.NOT_CHANGES),
        until,
    )
    change = None
    if found is not None and found["n"]:
        change = freshness.Change(found["first"], found["type"], found["n"])
    return freshness.stale_reason(who, decision, length, change)


def findings(run: Run) -> list[dict[str, Any]]:
    return [finding_json(f) for f in sorted(run.findings.values(), key=lambda f: f.opened_at)]


async def run_findings(pool: Pool, run: Run) -> list[dict[str, Any]]:
    """The run's findings as the read API shows them: the projected ones, then one
    `event-after-seal` finding per event refused after the seal, `stale-seal` per
    `run.sealed` refused as stale, or `sequence-conflict` per event refused for claiming a
    sequence number already used (from `refused_events`, which is no projection table:
    those events were never stored nor folded)."""
    return [*findings(run), *await refusal_findings(pool, run)]


async def refusal_findings(pool: Pool, run: Run) -> list[dict[str, Any]]:
    return [finding_json(f) for f in await refusals(pool, run)]


async def refusals(db: Pool | projection.Conn, run: Run) -> list[Finding]:
    """The findings of the run's refused events; a sequence conflict is resolved by a
    reviewer's annotation of it (the mapping is the read model's: `findings_from_refusals`)."""
    found = await db.fetch(
        """SELECT event_id, type, producer, seq, event_time, reason, source_topic,
                  source_partition, source_offset, refused_at,
                  'sha256:' || encode(sha256(body), 'hex') AS body_sha256
           FROM refused_events WHERE run_id = $1 AND workspace_id = $2 ORDER BY position""",
        run.run_id,
        run.workspace_id,
    )
    conflicted = any(is_conflict(r["reason"]) for r in found)
    notes = await _conflict_notes(db, run.run_id) if conflicted else []
    return findings_from_refusals(found, notes)


async def _conflict_notes(db: Pool | projection.Conn, run_id: str) -> list[Annotation]:
    found = await db.fetch(
        """SELECT * FROM annotations WHERE run_id = $1 AND node_id LIKE $2
           ORDER BY created_at, annotation_id""",
        run_id,
        f"{sequence.CONFLICT}:%",
    )
    return [annotation_from_row(r) for r in found]


async def chain_status(
    pool: Pool,
    segments: Segments | None,
    run_id: str,
    links: list[chain.StoredLink],
    head: str | None,
) -> dict[str, Any]:
    """The chain verified from the stored bytes, and compared with its anchors (anchoring.py):
    `valid` only when both hold; the anchors unread (the object store out of reach) leave
    `anchors.checked` false, and `valid` says what the store alone shows."""
    checked_at = iso(datetime.now(UTC))
    verdict = chain.verify(run_id, links, head)
    status: dict[str, Any] = {
        "valid": verdict.valid,
        "length": verdict.length,
        "head": verdict.head,
        "broken_event_id": verdict.broken_event_id,
        "broken_index": verdict.broken_index,
        "reason": verdict.reason,
        "message": verdict.describe(),
        "checked_at": checked_at,
    }
    if segments is None:
        return status
    try:
        hashes = anchoring.recomputed(links, verdict)
        anchored = await anchoring.check(pool, segments, run_id, hashes)
    except ObjectStoreError as exc:
        status["anchors"] = anchoring.unchecked(str(exc))
        return status
    status["anchors"] = anchored.json()
    if not anchored.check.valid:
        d = anchored.check.difference
        event = anchored.event or {}
        status.update(
            valid=False,
            broken_event_id=event.get("event_id") if d else None,
            broken_index=d.index if d else None,
            reason=anchored.describe(),
            message=anchored.describe(),
        )
    return status


async def events_verified(
    pool: Pool, run_id: str, limit: int, offset: int, status: dict[str, Any]
) -> dict[str, Any]:
    """A page of the run's stored events, with the verification of its whole chain (`status`:
    `chain_status`, as kept by runcache.Verdicts) and how many events the run has."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(
            """SELECT chain_index, event_id, body, prev_hash, hash FROM events
               WHERE chain_id = $1 ORDER BY chain_index LIMIT $2 OFFSET $3""",
            run_id,
            limit,
            offset,
        )
        total = await conn.fetchval("SELECT count(*) FROM events WHERE chain_id = $1", run_id)
    page = [
        {
            "index": r["chain_index"],
            "event_id": str(r["event_id"]),
            "hash": r["hash"],
            "prev_hash": r["prev_hash"],
            "event": _parse(r["body"]),
        }
        for r in rows
    ]
    return {"run_id": run_id, "chain": status, "total": int(total), "events": page}


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return {"unreadable": body.hex()}
