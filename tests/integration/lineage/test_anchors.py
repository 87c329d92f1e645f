"""Chain heads anchored outside the database (issue 13), against real PostgreSQL, MinIO and
Kafka: the owner of the database rewrites a run's history and recomputes its chain so that
the store alone says "intact"; the anchors in Object Lock storage name the run and the first
event that differs, in `cognify_lineage verify` and in the read API, and leave an untouched
run alone."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import cognify_events as ev
from cognify_kafka import KafkaSettings, producer
from cognify_lineage import anchors, chain
from cognify_lineage.anchoring import Anchorer
from cognify_lineage.app import anchor_segments, anchor_signer, serve, verify
from cognify_lineage.postgres import Message, Pool, apply_batch, chain_rows, create_pool, decode
from cognify_lineage.settings import LineageSettings
from cognify_objectstore import ObjectStore, RetentionRefused
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.unit.lineage.script import Script, training

from .harness import (
    as_role,
    eventually,
    free_port,
    fresh_database,
    http,
    make_workspace,
    metrics_text,
    own_topics,
)
from .test_store import ROOT, fold_through_the_store

CHANGED = 6  # training()'s first metrics.logged (seq 6): the loss an insider would improve


def settings_for(dsn: str, unique: str, **more: object) -> LineageSettings:
    seed = hashlib.sha256(f"anchor key of {unique}".encode()).digest()
    return LineageSettings(
        postgres=as_role(dsn, "lineage"),
        anchor_prefix=f"test-anchors/{unique}/",
        anchor_seed=seed,
        migrate=False,
        **more,  # type: ignore[arg-type]
    )


async def rewrite(dsn: str, run_id: str, index: int) -> str:
    """What the issue's insider does as the owner: switch the insert-only trigger off,
    change one event's payload, recompute every later hash and the head, switch it back.
    Returns the event id of the changed event."""
    owner = await asyncpg.connect(dsn)
    try:
        async with owner.transaction():
            await owner.execute("ALTER TABLE events DISABLE TRIGGER events_insert_only")
            rows = await owner.fetch(
                "SELECT chain_index, event_id, body, prev_hash FROM events "
                "WHERE chain_id = $1 AND chain_index >= $2 ORDER BY chain_index",
                run_id,
                index,
            )
            event = json.loads(rows[0]["body"])
            event["payload"]["metrics"]["loss"] = 0.15
            bodies = [json.dumps(event).encode(), *(r["body"] for r in rows[1:])]
            head = rows[0]["prev_hash"]
            for r, body in zip(rows, bodies, strict=True):
                new = chain.link(head, body)
                await owner.execute(
                    "UPDATE events SET body = $3, prev_hash = $4, hash = $5 "
                    "WHERE chain_id = $1 AND chain_index = $2",
                    run_id,
                    r["chain_index"],
                    body,
                    head,
                    new,
                )
                head = new
            await owner.execute(
                "UPDATE chain_heads SET head_hash = $2 WHERE chain_id = $1", run_id, head
            )
            await owner.execute("ALTER TABLE events ENABLE TRIGGER events_insert_only")
        return str(rows[0]["event_id"])
    finally:
        await owner.close()


async def intact_in_the_store(pool: Pool, run_id: str) -> bool:
    links, head = await chain_rows(pool, run_id)
    return chain.verify(run_id, links, head).valid


async def test_a_consistent_rewrite_after_an_anchor_is_named_by_verify(
    unique: str, store: ObjectStore
) -> None:
    ws = f"ws-{unique}"
    a, b = Script(ws, f"{unique}-a"), Script(ws, f"{unique}-b")
    async with fresh_database() as dsn:
        settings = settings_for(dsn, unique)
        pool = await create_pool(settings.postgres.dsn)
        try:
            await fold_through_the_store(pool, [*training(a), *training(b)])
            anchorer = Anchorer(pool, anchor_segments(settings), anchor_signer(settings), 60)
            assert await anchorer.round() == 2  # one segment per run
            assert await anchorer.round() == 0  # nothing grew since
            keys = sorted(store.list_keys(settings.anchor_prefix))
            assert keys == [
                f"{settings.anchor_prefix}{run}/{15:012d}.dsse.json" for run in (a.run_id, b.run_id)
            ]
            mode, until = store.retention(keys[0]) or ("", datetime.min)
            assert mode == "COMPLIANCE" and until > datetime.now(UTC) + timedelta(days=3650)
            try:
                store.put(keys[0], b"{}", "application/json")
                raise AssertionError("an anchor was overwritten")
            except RetentionRefused:
                pass

            assert await verify(settings, []) == []
            changed_id = await rewrite(dsn, a.run_id, CHANGED)
            assert await intact_in_the_store(pool, a.run_id)  # the store alone sees nothing

            lines = await verify(settings, [])
            assert len(lines) == 1, lines
            assert lines[0].startswith(f"chain {a.run_id}: rewritten after it was anchored")
            assert (
                f"event #{CHANGED} (seq {CHANGED}, metrics.logged, event_id {changed_id})"
                in (lines[0])
            )
            assert b.run_id not in lines[0]

            # The command line says the same, and exits 1.
            env = {
                **os.environ,
                "COGNIFY_PG_DSN": settings.postgres.dsn,
                "COGNIFY_ANCHOR_KEY": settings.anchor_seed.hex(),
                "COGNIFY_ANCHOR_PREFIX": settings.anchor_prefix,
            }
            done = subprocess.run(
                [sys.executable, "-m", "cognify_lineage", "verify"],
                env=env,
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=120,
                check=False,
            )
            assert done.returncode == 1, done.stderr
            assert f"event #{CHANGED}" in done.stdout and b.run_id not in done.stdout

            # Anchoring goes on from what was anchored, not from the rewritten store: a new
            # event's segment continues the anchored head, and the rewrite stays named.
            late = a.heartbeat(300)
            await apply_batch(
                pool,
                "g",
                "late",
                {0: [(Message("late", 0, 0, ev.encode(late)), decode(ev.encode(late)))]},
            )
            assert await anchorer.round() == 1
            segments, problems = await anchor_segments(settings).of(a.run_id)
            assert not problems and [s.length for s in segments] == [15, 16]
            assert segments[1].prev_hash == segments[0].head
            assert [ln for ln in await verify(settings, [a.run_id]) if f"#{CHANGED}" in ln]

            # Checked with another key than lineage's, the anchors prove nothing: all refused.
            other = Ed25519PrivateKey.generate().public_key()
            lines = await verify(settings, [b.run_id], {anchors.key_id(other): other})
            assert lines and "not a trusted anchor key" in lines[0]

            # A long chain anchored for the first time goes in segments of a bounded size.
            c = Script(ws, f"{unique}-c")
            later = training(c)
            await apply_batch(
                pool,
                "g",
                "c",
                {
                    0: [
                        (Message("c", 0, i, ev.encode(e)), decode(ev.encode(e)))
                        for i, e in enumerate(later)
                    ]
                },
            )
            small = Anchorer(
                pool, anchor_segments(settings), anchor_signer(settings), 60, max_segment=4
            )
            assert await small.round() == 4  # 15 events: 4 + 4 + 4 + 3
            found, problems = await anchor_segments(settings).of(c.run_id)
            assert not problems and [s.length for s in found] == [4, 8, 12, 15]
            assert await verify(settings, [c.run_id]) == []
            # Restarted, with the database's record of what was anchored gone: lineage reads
            # where the chain's anchors end from the store, and continues from there.
            owner = await asyncpg.connect(dsn)
            try:
                await owner.execute("DELETE FROM chain_anchors")
            finally:
                await owner.close()
            late = c.heartbeat(300)
            body = ev.encode(late)
            await apply_batch(pool, "g", "c2", {0: [(Message("c2", 0, 0, body), decode(body))]})
            restarted = Anchorer(pool, anchor_segments(settings), anchor_signer(settings), 60)
            assert await restarted.round() == 1  # only run c grew; a and b are anchored
            found, _ = await anchor_segments(settings).of(c.run_id)
            assert [(s.start, s.length) for s in found][-1] == (15, 16)
            # An auditor names the anchor key on the command line (its public half only).
            public = base64.b64encode(
                anchor_signer(settings).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            ).decode()
            plain = {k: v for k, v in env.items() if k != "COGNIFY_ANCHOR_KEY"}
            audited = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cognify_lineage",
                    "verify",
                    c.run_id,
                    "--anchor-key",
                    public,
                ],
                env=plain,
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=120,
                check=False,
            )
            assert audited.returncode == 0, audited.stdout + audited.stderr
        finally:
            await pool.close()


@contextlib.asynccontextmanager
async def lineage(settings: LineageSettings) -> AsyncIterator[str]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    url = f"http://127.0.0.1:{settings.http_port}"

    async def up() -> bool:
        if task.done():
            task.result()
        return (await http("GET", f"{url}/healthz"))[0] == 200

    try:
        await eventually(up, "lineage to answer /healthz", timeout=60)
        yield url
    finally:
        stop.set()
        await task


async def test_lineage_anchors_at_the_seal_and_its_read_api_names_the_rewrite(
    kafka: KafkaSettings, unique: str
) -> None:
    ws = f"ws-{unique}"
    a, b = Script(ws, f"{unique}-a"), Script(ws, f"{unique}-b")
    async with fresh_database() as dsn, own_topics(kafka) as (_, topics):
        keys = await make_workspace(dsn, ws)
        group = f"test-{uuid.uuid4().hex[:8]}"
        settings = settings_for(
            dsn,
            unique,
            kafka=kafka,
            events_topic=topics.events,
            dlq_topic=topics.dlq,
            group_id=f"{group}-lineage",
            http_port=free_port(),
            anchor_interval_s=600.0,  # only the first round and the seal's
        )
        pool = await create_pool(settings.postgres.dsn)
        async with contextlib.AsyncExitStack() as cleanup:
            cleanup.push_async_callback(pool.close)
            url = await cleanup.enter_async_context(lineage(settings))

            # the first round (nothing to anchor) ran: its time is exported
            async def rounds() -> bool:
                text = await metrics_text(f"{url}/metrics")
                line = [
                    ln
                    for ln in text.splitlines()
                    if ln.startswith("cognify_lineage_anchor_last_success_timestamp_seconds ")
                ]
                return bool(line) and float(line[0].split()[1]) > 0

            await eventually(rounds, "the first anchor round", 60)

            async def chain_of(run_id: str) -> dict[str, Any] | None:
                status, body = await http("GET", f"{url}/v1/runs/{run_id}/chain", keys.reviewer)
                if status == 404:
                    return None  # not folded yet
                assert status == 200, body
                chain_status: dict[str, Any] = body["chain"]
                return chain_status

            async def stored(run_id: str, length: int) -> bool:
                found = await chain_of(run_id)
                return found is not None and found["length"] == length

            async def anchored(run_id: str) -> dict[str, Any] | None:
                found = await chain_of(run_id)
                return found if found and found["anchors"]["segments"] else None

            # Run b is stored, and not anchored: the interval is ten minutes.
            await send(kafka, topics.events, training(b))
            await eventually(lambda: stored(b.run_id, 15), "run b stored", 60)
            assert (await chain_of(b.run_id) or {})["anchors"]["segments"] == 0

            # The seal anchors at once: the sealed run with its seal, and run b.
            events = training(a)
            head = chain.GENESIS
            for e in events:
                head = chain.link(head, ev.encode(e))
            await send(kafka, topics.events, [*events, a.sealed(head, len(events))])
            sealed = await eventually(lambda: anchored(a.run_id), "the seal's anchor", 60)
            assert sealed["valid"] is True
            assert sealed["anchors"]["anchored_length"] == len(events) + 1 == sealed["length"]
            assert await anchored(b.run_id)

            changed_id = await rewrite(dsn, a.run_id, CHANGED)
            assert await intact_in_the_store(pool, a.run_id)
            status, body = await http("GET", f"{url}/v1/runs/{a.run_id}/chain", keys.reviewer)
            assert status == 200
            broken = body["chain"]
            assert broken["valid"] is False
            assert broken["broken_index"] == CHANGED and broken["broken_event_id"] == changed_id
            first = broken["anchors"]["first_difference"]
            assert (first["index"], first["exact"], first["seq"], first["type"]) == (
                CHANGED,
                True,
                CHANGED,
                "metrics.logged",
            )
            assert f"chain {a.run_id}: rewritten after it was anchored" in broken["message"]
            status, page = await http("GET", f"{url}/v1/runs/{a.run_id}/events", keys.reviewer)
            assert status == 200 and page["chain"]["valid"] is False
            untouched = await anchored(b.run_id)
            assert untouched is not None and untouched["valid"] is True

            status, key = await http("GET", f"{url}/v1/anchor-key", keys.reviewer)
            assert status == 200
            assert key["key_id"] == anchors.key_id(anchor_signer(settings).public_key())
            assert key["development"] is False
            assert (await http("GET", f"{url}/v1/anchor-key"))[0] == 401


async def send(kafka: KafkaSettings, topic: str, events: list[ev.Event]) -> None:
    prod = producer(kafka)
    await prod.start()
    try:
        futures = [await prod.send(topic, ev.encode(e), key=ev.partition_key(e)) for e in events]
        await asyncio.gather(*futures)
    finally:
        await prod.stop()
