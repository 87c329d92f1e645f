"""The composition root: read settings, build the adapters, run the worker, the sweep and
the read API in one process (`python -m cognify_lineage`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import asyncpg  # noqa: TID251 (the composition root builds the adapters)
import uvicorn
from cognify_events import Producer, ProducerKind
from cognify_events.topics import Topic
from cognify_kafka import ensure_topics, producer
from cognify_objectstore import ObjectStore
from cognify_postgres import apply_migrations
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import __version__, anchors, metrics, postgres
from .anchoring import Anchorer, AnchorStore, Segments, check, recomputed, trusted_keys
from .api import Reader, create_app
from .kafka import EventsWorker, Publisher
from .settings import LineageSettings

log = logging.getLogger("cognify_lineage")


async def migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()


async def sweeper(pool: postgres.Pool, settings: LineageSettings, stop: asyncio.Event) -> None:
    """Mark silent runs abandoned, every `sweep_s` seconds."""
    while not stop.is_set():
        try:
            gone = await postgres.sweep(pool, settings.abandon_after)
        except (OSError, asyncpg.PostgresError):
            log.exception("abandonment sweep failed; trying again next time")
        else:
            metrics.ABANDONED.inc(len(gone))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.sweep_s)


def anchor_signer(settings: LineageSettings) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(settings.anchor_seed)


def anchor_segments(
    settings: LineageSettings, trusted: dict[str, Ed25519PublicKey] | None = None
) -> Segments:
    """The anchors in the object store, checked against lineage's anchor keys (or `trusted`)."""
    store = AnchorStore(
        ObjectStore(settings.store), settings.anchor_prefix, settings.anchor_retain_days
    )
    keys = trusted or trusted_keys(anchor_signer(settings), settings.anchor_previous)
    return Segments(store, keys)


async def serve(settings: LineageSettings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    await ensure_topics(
        settings.kafka,
        [Topic(settings.events_topic, 6, "events"), Topic(settings.dlq_topic, 1, "dlq")],
    )
    if settings.migrate:
        await migrate(settings.postgres.dsn)
    pool = await postgres.create_pool(settings.postgres.dsn)
    # Every read waits for its access record's acknowledgement: sent at once rather than
    # after the 5 ms linger (records that arrive while a send is in flight still go
    # together in the next batch).
    prod = producer(settings.kafka, linger_ms=0)
    await prod.start()
    try:
        publisher = Publisher(prod, settings.events_topic, settings.dlq_topic)
        segments = anchor_segments(settings)
        anchorer = Anchorer(pool, segments, anchor_signer(settings), settings.anchor_interval_s)
        log.info("anchor key %s", anchors.key_id(anchor_signer(settings).public_key()))
        worker = EventsWorker(
            settings.kafka,
            settings.events_topic,
            settings.group_id,
            pool,
            publisher,
            settings.max_batch,
            settings.group_instance_id,
            sealed=anchorer.poke,
        )
        me = Producer(kind=ProducerKind.LINEAGE, id=settings.instance, version=__version__)
        config = uvicorn.Config(
            create_app(Reader(pool, publisher, me, segments, anchor_signer(settings).public_key())),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        log.info("lineage up: group %s, http port %s", settings.group_id, settings.http_port)
        await _until_stopped(
            stop, [worker.run(stop), sweeper(pool, settings, stop), anchorer.run(stop)], server
        )
    finally:
        await prod.stop()
        await pool.close()


async def _until_stopped(
    stop: asyncio.Event, jobs: list[Coroutine[Any, Any, None]], server: uvicorn.Server
) -> None:
    """Run the jobs and the HTTP server until `stop` is set or one of them ends; an error
    in one stops the others and is raised."""
    tasks = [asyncio.create_task(job) for job in jobs]
    tasks.append(asyncio.create_task(server.serve()))
    watcher = asyncio.create_task(stop.wait())
    await asyncio.wait([*tasks, watcher], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    server.should_exit = True
    watcher.cancel()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


async def rebuild(settings: LineageSettings) -> int:
    if settings.migrate:
        await migrate(settings.postgres.dsn)
    pool = await postgres.create_pool(settings.postgres.dsn)
    try:
        return await postgres.rebuild(pool, timeout=settings.abandon_after)
    finally:
        await pool.close()


async def verify(
    settings: LineageSettings,
    chain_ids: list[str],
    trusted: dict[str, Ed25519PublicKey] | None = None,
) -> list[str]:
    """Verify chains (all of them when none is named: every chain in the store and every
    chain with an anchor): the hash chain from the stored bytes, then the store against the
    anchored heads. One line per broken chain."""
    from . import chain

    pool = await postgres.create_pool(settings.postgres.dsn)
    segments = anchor_segments(settings, trusted)
    try:
        if not chain_ids:
            stored = {r["chain_id"] for r in await pool.fetch("SELECT chain_id FROM chain_heads")}
            chain_ids = sorted(stored | await segments.store.chains())
        broken = []
        for cid in chain_ids:
            links, head = await postgres.chain_rows(pool, cid)
            result = chain.verify(cid, links, head)
            if not result.valid:
                broken.append(result.describe())
            verdict = await check(pool, segments, cid, recomputed(links, result))
            if not verdict.check.valid:
                broken.append(verdict.describe())
        return broken
    finally:
        await pool.close()
