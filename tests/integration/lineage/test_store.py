"""The event store in PostgreSQL: insert-only, tamper-evident, and rebuildable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import cognify_events as ev
import pytest
from cognify_lineage import chain, dag, projection, queries
from cognify_lineage.postgres import (
    Decoded,
    Message,
    OutOfPlace,
    Pool,
    apply_batch,
    chain_rows,
    create_pool,
    decode,
    stored_offsets,
    sweep,
)

from tests.unit.lineage.script import Script, hash_results, root, training

from .harness import fresh_database

ROOT = Path(__file__).resolve().parents[3]
API = ev.Producer(kind=ev.ProducerKind.API, id="api-1")


def history(ws: str) -> list[ev.Event]:
    """Two runs that touch every projection table: DAG, metrics, findings, reviews, access."""
    a, b = Script(ws, f"{ws}-run-a"), Script(ws, f"{ws}-run-b")
    who = ev.Reviewer(name="Dr. Ortiz", role="compliance officer")
    reviews: list[ev.Event] = [
        ev.AnnotationAdded(
            **a.env(API, numbered=False),
            payload=ev.AnnotationAddedPayload(
                annotation_id="ann-1", node_id="ds_notes_v3", author=who, text="checked"
            ),
        ),
        ev.RunApproved(**a.env(API, numbered=False), payload=ev.DecisionPayload(reviewer=who)),
        ev.AccessRecorded(
            workspace_id=ws,
            project="workspace",
            run_id=None,
            producer=API,
            payload=ev.AccessRecordedPayload(
                actor="ana", role="reviewer", action="run.read", object_id=f"run:{a.run_id}"
            ),
        ),
    ]
    changed: list[ev.Event] = [
        b.started(),
        b.dataset("ds_notes_v4", merkle_root=root(99)),
        b.heartbeat(3),
    ]
    events = [*training(a), *hash_results(a), *reviews, *changed]
    # The seal names run a's chain head and length (as the exporter reads them): a seal
    # that does not is stale, and lineage refuses it.
    head, length = chain.GENESIS, 0
    for e in events:
        if e.run_id == a.run_id:
            head, length = chain.link(head, ev.encode(e)), length + 1
    return [*events, a.sealed(head, length)]


async def fold_through_the_store(pool: Pool, events: Sequence[ev.Event], batch: int = 7) -> None:
    for start in range(0, len(events), batch):
        items: list[tuple[Message, Decoded | None]] = [
            (Message("t", 0, start + i, body), decode(body))
            for i, body in enumerate(ev.encode(e) for e in events[start : start + batch])
        ]
        await apply_batch(pool, "g", "t", {0: items})


# Columns that say when a row was written in this database, not what it holds: a rebuilt
# or refolded projection has other values there (runs.changed_xid: the runs list's cache).
LOCAL = ("changed_xid",)


async def dump(pool: Pool) -> dict[str, list[str]]:
    out = {}
    for table in projection.TABLES:
        rows = [dict(r) for r in await pool.fetch(f"SELECT * FROM {table}")]
        for row in rows:
            for column in LOCAL:
                row.pop(column, None)
        out[table] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
    return out


def cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    # the anchors of this database's own (an anchor prefix is one event store's namespace)
    prefix = f"test-anchors/{dsn.rsplit('/', 1)[1]}/"
    env = {
        **os.environ,
        "COGNIFY_PG_DSN": dsn,
        "COGNIFY_MIGRATE": "0",
        "COGNIFY_ANCHOR_PREFIX": prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "cognify_lineage", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_replaying_a_batch_changes_nothing(unique: str) -> None:
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            events = history(f"ws-{unique}")
            await fold_through_the_store(pool, events)
            before = await dump(pool)
            await fold_through_the_store(pool, events)  # redelivered: offsets and ids skip it
            await fold_through_the_store(pool, events, batch=5)
            assert await dump(pool) == before
            assert await pool.fetchval("SELECT count(*) FROM events") == len(events)
        finally:
            await pool.close()


async def test_a_batch_read_before_a_seek_never_leaves_a_gap_or_moves_offsets_back(
    unique: str,
) -> None:
    """The worker reads the next batch while the current one is applied, so a batch read
    before a seek can arrive late: one that would skip messages is refused whole, one from
    before the stored offset is a replay and leaves the offset where it is."""
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            bodies = [ev.encode(e) for e in history(f"ws-{unique}")]

            def items(lo: int, hi: int) -> list[tuple[Message, Decoded | None]]:
                return [(Message("t", 0, i, bodies[i]), decode(bodies[i])) for i in range(lo, hi)]

            await apply_batch(pool, "g", "t", {0: items(0, 5)})
            before = await dump(pool)
            with pytest.raises(OutOfPlace, match="batch starts at 7, stored offset 5"):
                await apply_batch(pool, "g", "t", {0: items(7, 10)})
            assert await dump(pool) == before
            assert await stored_offsets(pool, "g", "t") == {0: 5}
            assert await pool.fetchval("SELECT count(*) FROM events") == 5

            await apply_batch(pool, "g", "t", {0: items(5, 10)})
            applied = await apply_batch(pool, "g", "t", {0: items(2, 6)})  # read before a seek
            assert applied.replayed == 4 and applied.stored == 0
            assert await stored_offsets(pool, "g", "t") == {0: 10}
            assert await pool.fetchval("SELECT count(*) FROM events") == 10
        finally:
            await pool.close()


async def test_rebuild_gives_the_identical_projection(unique: str) -> None:
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            events = history(f"ws-{unique}")
            await fold_through_the_store(pool, events)
            # The live service sweeps silent runs periodically; rebuild ends with the same
            # sweep (run-b, from 2025, is abandoned by both).
            assert await sweep(pool, timedelta(seconds=900)) == [f"ws-{unique}-run-b"]
            before = await dump(pool)
            assert all(before[t] for t in projection.TABLES), "every table has rows to compare"
            ran = cli(dsn, "rebuild")
            assert ran.returncode == 0, ran.stderr
            assert f"rebuilt from {len(events)} stored events" in ran.stdout
            assert await dump(pool) == before
        finally:
            await pool.close()


async def test_the_database_refuses_to_change_history(unique: str) -> None:
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            await fold_through_the_store(pool, history(f"ws-{unique}"))
            for statement in [
                "UPDATE events SET type = 'x'",
                "DELETE FROM events",
                "TRUNCATE events",
            ]:
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="insert-only"):
                    await pool.execute(statement)
        finally:
            await pool.close()


async def verified(pool: Pool, run_id: str) -> dict[str, Any]:
    """The run's chain verified from the store, as the read API reports it."""
    links, head = await chain_rows(pool, run_id)
    return await queries.chain_status(pool, None, run_id, links, head)


async def test_an_event_altered_by_a_superuser_is_named_by_chain_verification(
    unique: str,
) -> None:
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            events = history(f"ws-{unique}")
            await fold_through_the_store(pool, events)
            run_id = f"ws-{unique}-run-a"
            victim = next(
                e for e in events if isinstance(e, ev.MetricsLogged) and e.run_id == run_id
            )
            assert (await verified(pool, run_id))["valid"]
            assert cli(dsn, "verify").returncode == 0

            database = dsn.rsplit("/", 1)[1]
            sql = (
                "SET session_replication_role = replica; "
                "UPDATE events SET body = convert_to(replace(convert_from(body, 'UTF8'), "
                "'\"loss\":1.5', '\"loss\":0.5'), 'UTF8') "
                f"WHERE event_id = '{victim.event_id}';"
            )
            port = os.environ.get("COGNIFY_PG_PORT", "5433")
            done = subprocess.run(
                ["runuser", "-u", "postgres", "--", "psql", "-p", port, "-d", database,
                 "-v", "ON_ERROR_STOP=1", "-c", sql],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert done.returncode == 0 and "UPDATE 1" in done.stdout, done.stderr

            result = await verified(pool, run_id)
            assert not result["valid"]
            assert result["broken_event_id"] == str(victim.event_id)
            assert run_id in result["message"] and str(victim.event_id) in result["message"]
            assert "altered" in result["reason"]
            ran = cli(dsn, "verify")
            assert ran.returncode == 1
            assert run_id in ran.stdout and str(victim.event_id) in ran.stdout
            other = f"ws-{unique}-run-b"
            assert (await verified(pool, other))["valid"]
        finally:
            await pool.close()


async def test_a_metric_logged_again_at_a_stored_step_replaces_the_point(unique: str) -> None:
    """Points are COPYed straight in; one that meets a stored (run, name, step) takes the
    upsert path instead, with the fold's semantics: the later value wins."""
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            s = Script(f"ws-{unique}", f"run-{unique}")
            first: list[ev.Event] = [s.started(), s.metrics(5, 1.0), s.metrics(6, 0.9)]
            again: list[ev.Event] = [
                s.metrics(5, 0.25),
                s.metrics(7, 0.8),
            ]  # new events, step 5 repeated
            await fold_through_the_store(pool, first, batch=3)
            await fold_through_the_store(pool, [*first, *again], batch=5)
            rows = await pool.fetch(
                "SELECT step, value FROM metric_points WHERE run_id = $1 AND name = 'loss' "
                "ORDER BY step",
                s.run_id,
            )
            assert [(r["step"], r["value"]) for r in rows] == [(5, 0.25), (6, 0.9), (7, 0.8)]
            async with pool.acquire() as conn:
                loaded = await projection.load(conn, {s.run_id}, full=True)
            expected = dag.fold_all([*first, *again])
            assert loaded == expected.runs
            assert await pool.fetchval("SELECT count(*) FROM events") == len(first) + len(again)
        finally:
            await pool.close()
