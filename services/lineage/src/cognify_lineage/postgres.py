"""The event store in PostgreSQL: append with the hash chain, fold, offsets, exactly once.

One poll batch is one transaction: lock the group's offset rows, drop what is already
applied (offsets below the stored position, event ids already stored), refuse what comes
after its run's seal and any stale seal (recorded in `refused_events`, see sealing.py),
append the rest to `events` with their chain hashes (binary COPY), fold them into the
projection, and store the next offsets. A crash anywhere rolls all of it back; the
restarted consumer seeks to the stored offsets, so every event is folded, or refused,
exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias
from uuid import UUID

import asyncpg
from cognify_events import Event
from cognify_events.catalog import EVENT_ADAPTER
from cognify_events.codec import decode as codec_decode
from cognify_lineage_model.model import Projection, Run
from pydantic import ValidationError

from . import chain, changes, dag, projection, sealing, sequence

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
DATASET_TYPES = ("dataset.registered", "hash.computed")


async def _init(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    # Metric points arrive by the ten thousand: binary COPY into this per-session table,
    # then one upsert, costs about half of sending them as parameters.
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS metric_points_in (LIKE metric_points) "
        "ON COMMIT DELETE ROWS"
    )


class _Connection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query (`SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): one more round trip to
    PostgreSQL on every release, a fifth of a cached read's (bench/dashboard.py). Lineage
    keeps no session state on pooled connections (transaction-scoped advisory locks only,
    no LISTEN, SET or cursors outside transactions); an open transaction is still rolled
    back on release."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(dsn: str, size: int = 4) -> Pool:
    return await asyncpg.create_pool(
        dsn, min_size=1, max_size=size, init=_init, connection_class=_Connection
    )


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass(frozen=True)
class Decoded:
    event: Event
    body: bytes  # the bytes as received: what the chain hashes and the store keeps


def decode(value: bytes) -> Decoded:
    """The tolerant codec's rules: unknown members ignored, old versions upcast.

    The current version validates in one pass over the bytes (pydantic's JSON parser); only
    what fails that (an older version, or not an event at all) takes the general path,
    which upcasts or reports the problems."""
    try:
        return Decoded(EVENT_ADAPTER.validate_json(value), value)
    except ValidationError:
        return Decoded(codec_decode(value), value)


@dataclass(frozen=True)
class Refusal:
    """An event refused because its run was already sealed, or a stale `run.sealed`
    (recorded in the batch's transaction; the worker dead-letters it after the commit)."""

    message: Message
    event: Event
    reason: str


@dataclass
class Applied:
    stored: int = 0
    duplicates: int = 0
    replayed: int = 0  # below the stored offset: delivered again after a crash or rebalance
    refused: list[Refusal] = field(default_factory=list)  # newly recorded by this batch


class OutOfPlace(Exception):
    """A batch that starts after a partition's stored offset: applying it would skip the
    messages between (it was read before a seek). Nothing is written."""

    def __init__(self, partition: int, stored: int, first: int) -> None:
        super().__init__(f"partition {partition}: batch starts at {first}, stored offset {stored}")


async def stored_offsets(pool: Pool, group_id: str, topic: str) -> dict[int, int]:
    rows = await pool.fetch(
        "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
        group_id,
        topic,
    )
    return {r["partition"]: r["next_offset"] for r in rows}


# One poll batch: partition -> its messages in offset order, each with its decoded event.
PollBatch: TypeAlias = Mapping[int, Sequence[tuple[Message, Decoded | None]]]


async def apply_batch(pool: Pool, group_id: str, topic: str, batch: PollBatch) -> Applied:
    """Store and fold one poll batch (partition -> messages, in offset order) exactly once.
    A None in place of a decoded event is a message that is not an event: its offset is
    consumed (the caller dead-letters it) and nothing is stored."""
    result = Applied()
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT partition, next_offset FROM consumer_offsets
               WHERE group_id = $1 AND topic = $2 AND partition = ANY($3) FOR UPDATE""",
            group_id,
            topic,
            list(batch),
        )
        done = {r["partition"]: r["next_offset"] for r in rows}
        for partition, items in batch.items():
            first = items[0][0].offset
            if partition in done and first > done[partition]:
                raise OutOfPlace(partition, done[partition], first)
        fresh: list[Decoded] = []
        for partition, items in batch.items():
            for message, decoded in items:
                if message.offset < done.get(partition, 0):
                    result.replayed += 1
                elif decoded is not None:
                    fresh.append(decoded)
        new = _distinct(fresh)
        # The runs the batch touches, loaded once: whether each is sealed decides what is
        # refused (sealing.py), and the fold starts from them.
        runs = await projection.load(conn, {d.event.run_id for d in new if d.event.run_id})
        sealed = {run_id for run_id, run in runs.items() if run.sealed_at is not None}
        new, refused = await _screen(conn, new, sealed, runs)
        try:
            # Redeliveries of stored events are rare: append optimistically and let the
            # unique event_id say when one slipped in, instead of probing every id first.
            async with conn.transaction():
                await _append(conn, new)
        except asyncpg.UniqueViolationError:
            new = await _unseen(conn, new)
            await _append(conn, new)
        if refused:
            result.refused = await _record_refusals(conn, batch, done, refused)
        result.duplicates = len(fresh) - len(new) - len(result.refused)
        if new:
            await project(conn, [d.event for d in new], runs)
        result.stored = len(new)
        await conn.executemany(
            """INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (group_id, topic, partition) DO UPDATE
                   SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset),
                       updated_at = now()""",
            [(group_id, topic, p, items[-1][0].offset + 1) for p, items in batch.items()],
        )
    return result


def _distinct(decoded: list[Decoded]) -> list[Decoded]:
    """Drop repeats within the batch (an event forwarded twice), first one kept."""
    seen: set[object] = set()
    out = []
    for d in decoded:
        if d.event.event_id not in seen:
            seen.add(d.event.event_id)
            out.append(d)
    return out


async def _screen(
    conn: projection.Conn, decoded: list[Decoded], sealed: set[str], runs: dict[str, Run]
) -> tuple[list[Decoded], list[tuple[Decoded, str]]]:
    """Split the batch's new events into those to store and those to refuse because they
    claim a sequence number their run already has (sequence.conflicts), their run was
    sealed before them, or they are a stale seal (sealing.refusals; its reason wins). A
    run is sealed in the store when its projected row has `sealed_at`, folded in the
    transaction that stored its `run.sealed`.
    An event already stored (a redelivery) is left to the duplicate check, never refused."""
    clash = sequence.conflicts((d.event for d in decoded), runs)
    if not clash and not sealed and not any(d.event.type == sealing.SEALED_BY for d in decoded):
        return decoded, []  # nearly every batch: no conflict, no run sealed, none being sealed
    pending = await _pending_seals(conn, decoded, sealed)
    verdicts = {
        **clash,
        **sealing.refusals((d.event for d in decoded), sealed, pending, set(clash)),
    }
    if not verdicts:
        return decoded, []
    stored = await _stored_ids(conn, [decoded[i].event.event_id for i in verdicts])
    keep = [d for i, d in enumerate(decoded) if i not in verdicts or d.event.event_id in stored]
    refused = [
        (decoded[i], why) for i, why in verdicts.items() if decoded[i].event.event_id not in stored
    ]
    return keep, refused


async def _pending_seals(
    conn: projection.Conn, decoded: list[Decoded], sealed: set[str]
) -> sealing.Pending | None:
    """What the batch's seals of unsealed runs are checked against (sealing.stale_reason):
    those runs' chain heads in the store, which of their events in the batch are already
    stored, and which of its seals were refused before. None when the batch seals no run
    (nearly every batch: no query).

    The heads are read without a row lock: a run's events are all in one partition of the
    canonical topic (keyed by run), and this transaction holds that partition's offset row,
    so no other batch appends to these chains meanwhile (_append then locks them)."""
    runs = {
        d.event.run_id
        for d in decoded
        if d.event.type == sealing.SEALED_BY
        and d.event.run_id is not None
        and d.event.run_id not in sealed
    }
    if not runs:
        return None
    heads = {
        r["chain_id"]: sealing.Head(r["length"], r["head_hash"])
        for r in await conn.fetch(
            "SELECT chain_id, length, head_hash FROM chain_heads WHERE chain_id = ANY($1)",
            sorted(runs),
        )
    }
    stored = await _stored_ids(conn, [d.event.event_id for d in decoded if d.event.run_id in runs])
    seals = [d.event.event_id for d in decoded if d.event.type == sealing.SEALED_BY]
    refused = {
        r["event_id"]
        for r in await conn.fetch(
            "SELECT event_id FROM refused_events WHERE event_id = ANY($1::uuid[])", seals
        )
    }
    return sealing.Pending(heads, [d.body for d in decoded], stored, refused)


async def _stored_ids(conn: projection.Conn, ids: list[UUID]) -> set[UUID]:
    return {
        r["event_id"]
        for r in await conn.fetch(
            "SELECT event_id FROM events WHERE event_id = ANY($1::uuid[])", ids
        )
    }


async def _record_refusals(
    conn: projection.Conn,
    batch: PollBatch,
    done: dict[int, int],
    refused: list[tuple[Decoded, str]],
) -> list[Refusal]:
    """Record the refusals in the batch's transaction; an event refused before (the same
    event forwarded again at another offset) is not recorded twice. Returns the new ones."""
    wanted = {d.event.event_id for d, _ in refused}
    where: dict[UUID, Message] = {}  # the message each refused event came in (the first)
    for partition, items in batch.items():
        for message, decoded in items:
            fresh = message.offset >= done.get(partition, 0)
            if fresh and decoded is not None and decoded.event.event_id in wanted:
                where.setdefault(decoded.event.event_id, message)
    rows = []
    for d, why in refused:
        e, m = d.event, where[d.event.event_id]
        rows.append(
            (
                e.event_id,
                e.run_id,
                e.workspace_id,
                e.type,
                e.producer.kind.value,
                e.seq,
                e.time,
                why,
                d.body,
                m.topic,
                m.partition,
                m.offset,
            )
        )
    recorded = {
        r["event_id"]
        for r in await conn.fetch(
            """INSERT INTO refused_events (event_id, run_id, workspace_id, type, producer, seq,
                   event_time, reason, body, source_topic, source_partition, source_offset)
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
                   $5::text[], $6::bigint[], $7::timestamptz[], $8::text[], $9::bytea[],
                   $10::text[], $11::int[], $12::bigint[])
               ON CONFLICT (event_id) DO NOTHING RETURNING event_id""",
            *(list(col) for col in zip(*rows, strict=True)),
        )
    }
    return [
        Refusal(where[d.event.event_id], d.event, why)
        for d, why in refused
        if d.event.event_id in recorded
    ]


async def _unseen(conn: projection.Conn, decoded: list[Decoded]) -> list[Decoded]:
    """Drop events already stored (a redelivery)."""
    stored = await _stored_ids(conn, [d.event.event_id for d in decoded])
    return [d for d in decoded if d.event.event_id not in stored]


def chain_id(event: Event) -> str:
    return event.run_id or f"workspace:{event.workspace_id}"


async def _append(conn: projection.Conn, new: list[Decoded]) -> None:
    chains = sorted({chain_id(d.event) for d in new})
    heads = {
        r["chain_id"]: (r["length"], r["head_hash"])
        for r in await conn.fetch(
            "SELECT * FROM chain_heads WHERE chain_id = ANY($1) FOR UPDATE", chains
        )
    }
    # Cross-run state (dataset roots) is folded in store order: writers that touch a
    # workspace's datasets take turns, so `position` order is the order they were folded in.
    locked = sorted({d.event.workspace_id for d in new if d.event.type in DATASET_TYPES})
    for ws in locked:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('cognify-datasets:' || $1))", ws)
    records = []
    for d in new:
        e, cid = d.event, chain_id(d.event)
        length, prev = heads.get(cid, (0, chain.GENESIS))
        digest = chain.link(prev, d.body)
        records.append(
            (
                e.event_id,
                cid,
                length,
                e.workspace_id,
                e.run_id,
                e.type,
                e.seq,
                e.time,
                d.body,
                prev,
                digest,
            )
        )
        heads[cid] = (length + 1, digest)
    await conn.copy_records_to_table(
        "events",
        records=records,
        columns=[
            "event_id",
            "chain_id",
            "chain_index",
            "workspace_id",
            "run_id",
            "type",
            "seq",
            "event_time",
            "body",
            "prev_hash",
            "hash",
        ],
    )
    workspaces = {chain_id(d.event): d.event.workspace_id for d in new}
    await conn.execute(
        """INSERT INTO chain_heads (chain_id, workspace_id, length, head_hash)
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
           ON CONFLICT (chain_id) DO UPDATE SET length = EXCLUDED.length,
               head_hash = EXCLUDED.head_hash""",
        chains,
        [workspaces[c] for c in chains],
        [heads[c][0] for c in chains],
        [heads[c][1] for c in chains],
    )


async def project(
    conn: projection.Conn, events: Sequence[Event], runs: dict[str, Run] | None = None
) -> None:
    """Fold events into the projection: load the state they touch (the runs unless given,
    loaded in this transaction), fold, save the change."""
    if runs is None:
        runs = await projection.load(conn, {e.run_id for e in events if e.run_id is not None})
    datasets = await projection.load_datasets(conn, dag.dataset_keys(events, runs))
    before = Projection(runs=runs, datasets=datasets)
    after = dag.fold_all(events, before)
    await changes.save(conn, before, after)


async def sweep(pool: Pool, timeout: timedelta) -> list[str]:
    """dag.sweep in SQL: running runs silent for `timeout` become abandoned."""
    rows = await pool.fetch(
        """UPDATE runs SET status = 'abandoned'
           WHERE status = 'running' AND last_event_at < now() - $1::interval RETURNING run_id""",
        timeout,
    )
    return [r["run_id"] for r in rows]


async def rebuild(pool: Pool, chunk: int = 5_000, timeout: timedelta | None = None) -> int:
    """Empty the projection and fold the whole store again, in store order, in one
    transaction (the live consumer waits on the table locks meanwhile)."""
    count = 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(projection.TABLES)}")
        last = 0
        while True:
            rows = await conn.fetch(
                "SELECT position, body FROM events WHERE position > $1 ORDER BY position LIMIT $2",
                last,
                chunk,
            )
            if not rows:
                break
            await project(conn, [decode(r["body"]).event for r in rows])
            last, count = rows[-1]["position"], count + len(rows)
        if timeout is not None:
            await conn.execute(
                """UPDATE runs SET status = 'abandoned'
                   WHERE status = 'running' AND last_event_at < now() - $1::interval""",
                timeout,
            )
    return count


async def chain_rows(
    pool: Pool | projection.Conn, cid: str
) -> tuple[list[chain.StoredLink], str | None]:
    """A chain's events and its recorded head, from one snapshot. Read apart, a head that
    lineage committed in between was newer than the events read: an intact chain then
    looked cut short ("events removed"), and the exporter refused to seal it (issue 12).
    Given a connection already in a transaction (the exporter's snapshot), reads in it."""
    if isinstance(pool, asyncpg.Pool):
        async with pool.acquire() as conn:
            return await chain_rows(conn, cid)
    if not pool.is_in_transaction():
        async with pool.transaction(isolation="repeatable_read", readonly=True):
            return await chain_rows(pool, cid)
    rows = await pool.fetch(
        """SELECT chain_index, event_id, body, prev_hash, hash FROM events
           WHERE chain_id = $1 ORDER BY chain_index""",
        cid,
    )
    head = await pool.fetchval("SELECT head_hash FROM chain_heads WHERE chain_id = $1", cid)
    links = [
        chain.StoredLink(r["chain_index"], str(r["event_id"]), r["body"], r["prev_hash"], r["hash"])
        for r in rows
    ]
    return links, head
