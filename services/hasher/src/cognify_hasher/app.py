"""The composition root: read settings, build the adapters, run the job worker and the chunk
combiner until `stop` is set.

`python -m cognify_hasher` runs one such worker; scale the pool by starting more processes
(each joins the same consumer groups and takes its share of the partitions).
"""

from __future__ import annotations

import asyncio
import logging

from cognify_events import EVENTS, HASH_CHUNKS, HASH_JOBS, HASH_PROGRESS, Producer, ProducerKind
from cognify_events.topics import Topic
from cognify_kafka import ensure_topics, producer
from cognify_objectstore import ObjectStore

from . import __version__, metrics
from .kafka import CombineWorker, JobWorker, Publisher
from .settings import HasherSettings
from .storage import Storage, real_roots
from .work import Work

log = logging.getLogger("cognify_hasher")


def build_work(settings: HasherSettings, me: Producer) -> Work:
    storage = Storage(
        real_roots(settings.grants()), ObjectStore(settings.store), settings.spool_dir
    )
    return Work(storage, settings.chunking, settings.topics, me, settings.hash_threads)


async def serve(
    settings: HasherSettings,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    stop = stop or asyncio.Event()
    t = settings.topics
    await ensure_topics(
        settings.kafka,
        [
            Topic(t.jobs, HASH_JOBS.partitions, HASH_JOBS.purpose),
            Topic(t.events, EVENTS.partitions, EVENTS.purpose),
            Topic(t.chunks, HASH_CHUNKS.partitions, HASH_CHUNKS.purpose),
            Topic(t.progress, HASH_PROGRESS.partitions, HASH_PROGRESS.purpose),
        ],
    )
    me = Producer(kind=ProducerKind.HASHER, id=settings.instance, version=__version__)
    # No linger: a worker waits for each result's acknowledgement before it commits the job
    # and takes the next one, so batching would only add its delay to every chunk.
    prod = producer(settings.kafka, linger_ms=0)
    await prod.start()
    try:
        publisher = Publisher(prod)
        jobs = JobWorker(settings, build_work(settings, me), publisher, me)
        combiner = CombineWorker(settings, publisher, me)
        tasks = [asyncio.create_task(jobs.run(stop)), asyncio.create_task(combiner.run(stop))]
        both = asyncio.create_task(_started(jobs.started, combiner.started))
        await asyncio.wait([both, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if ready is not None:
            ready.set()
        log.info(
            "hasher up: group %s on %s, roots %s, s3 %s, metrics port %s",
            settings.group_id,
            t.jobs,
            settings.roots or "none",
            settings.s3 or "none",
            settings.metrics_port,
        )
        await _until_stopped(stop, tasks)
    finally:
        await prod.stop()


async def _until_stopped(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Run both loops until `stop` is set or one of them ends; an error in one stops the
    other and is raised."""
    watcher = asyncio.create_task(stop.wait())
    await asyncio.wait([*tasks, watcher], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    watcher.cancel()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


async def _started(*events: asyncio.Event) -> None:
    for event in events:
        await event.wait()


def start_metrics(settings: HasherSettings) -> None:
    metrics.serve(settings.metrics_port)
