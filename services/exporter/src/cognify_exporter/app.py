"""The composition root: read settings, build the adapters, run the seal-request worker and
the HTTP API in one process (`python -m cognify_exporter`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import asyncpg  # noqa: TID251 (the composition root builds the adapters)
import uvicorn
from cognify_events import Producer, ProducerKind
from cognify_kafka import producer
from cognify_objectstore import ObjectStore
from cognify_postgres import apply_migrations

from . import __version__, postgres
from .http import create_app
from .kafka import Publisher, seal_requests
from .objectstore import PackageStore
from .settings import ExporterSettings
from .workflow import Exporter


async def migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()


async def serve(settings: ExporterSettings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    if settings.migrate:
        await migrate(settings.postgres.dsn)
    store = ObjectStore(settings.store)
    await asyncio.to_thread(store.ensure_bucket)
    pool = await postgres.create_pool(settings.postgres.dsn)
    prod = producer(settings.kafka)
    await prod.start()
    me = Producer(
        kind=ProducerKind.EXPORTER, id=f"{socket.gethostname()}:{os.getpid()}", version=__version__
    )
    exporter = Exporter(
        pool,
        PackageStore(store),
        Publisher(prod, settings.events_topic),
        me,
        settings.master_key,
        settings.seal_fold_timeout_s,
        archive_storage_class=settings.archive_storage_class,
    )
    config = uvicorn.Config(
        create_app(exporter),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        workers=1,  # DESIGN.md: several workers stall on kept-alive connections
    )
    server = uvicorn.Server(config)
    tasks = [asyncio.create_task(server.serve())]
    if settings.consume_requests:
        tasks.append(
            asyncio.create_task(
                seal_requests(
                    settings.kafka, settings.events_topic, settings.group_id, exporter, stop, prod
                )
            )
        )
    try:
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter:
                task.result()
    finally:
        stop.set()
        server.should_exit = True
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await prod.stop()
        await pool.close()
