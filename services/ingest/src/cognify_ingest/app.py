"""The composition root: read settings, build the adapters, run the worker and the API.

`python -m cognify_ingest` runs both in one process: the raw-topic worker and the HTTP
front door (uvicorn, one worker per process; start more processes to scale).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import asyncpg  # noqa: TID251 (the composition root builds the adapters)
import uvicorn
from cognify_events import Producer, ProducerKind
from cognify_events.topics import Topic
from cognify_kafka import DeadLetters, ensure_topics, producer
from cognify_postgres import apply_migrations

from . import __version__
from .gate import Gate
from .http import Door, create_app
from .kafka import KafkaPublisher, RawWorker
from .postgres import Registry
from .settings import IngestSettings

log = logging.getLogger("cognify_ingest")


async def serve(settings: IngestSettings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    t = settings.topics
    await ensure_topics(
        settings.kafka,
        [
            Topic(t.raw, 6, "raw"),
            Topic(t.events, 6, "events"),
            Topic(t.hash_jobs, 12, "jobs"),
            Topic(t.dlq, 1, "dlq"),
        ],
    )
    pool = await asyncpg.create_pool(settings.postgres.dsn, min_size=1, max_size=8)
    prod = producer(settings.kafka)
    await prod.start()
    try:
        if settings.migrate:
            conn = await asyncpg.connect(settings.postgres.dsn)
            try:
                await apply_migrations(conn)
            finally:
                await conn.close()
        me = Producer(kind=ProducerKind.INGEST, id=settings.instance, version=__version__)
        registry = Registry(pool, settings.state_ttl_s)
        publisher = KafkaPublisher(prod)
        gate = Gate(registry, publisher, t, me)
        api_producer = Producer(kind=ProducerKind.API, id=settings.instance, version=__version__)
        door = Door(registry, Gate(registry, publisher, t, me), publisher, t, api_producer)
        letters = DeadLetters(prod, t.dlq, settings.instance)
        worker = RawWorker(
            settings.kafka, t.raw, settings.group_id, gate, settings.max_batch, letters
        )
        config = uvicorn.Config(
            create_app(door),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        log.info("ingest up: group %s, http port %s", settings.group_id, settings.http_port)
        await _until_stopped(stop, worker.run(stop), server)
    finally:
        await prod.stop()
        await pool.close()


async def _until_stopped(
    stop: asyncio.Event, worker: Coroutine[Any, Any, None], server: uvicorn.Server
) -> None:
    """Run the worker and the HTTP server until `stop` is set or either of them ends; an
    error in one stops the other and is raised."""
    tasks = [asyncio.create_task(worker), asyncio.create_task(server.serve())]
    watcher = asyncio.create_task(stop.wait())
    await asyncio.wait([*tasks, watcher], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    server.should_exit = True
    watcher.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
