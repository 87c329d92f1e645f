"""The exporter's Kafka adapter: the publisher of `run.sealed` / `export.completed`, and the
worker that acts on `run.seal_requested` (ingest's `POST /v1/runs/{id}/seal`, the SDK).

Acting on a request is idempotent (a sealed run stays sealed, a stored package is found
again), so offsets are committed to Kafka after each batch has been acted upon: a crash
in between repeats the work, never loses it. The worker runs on the shared consume loop
(cognify_kafka.ConsumeLoop): PostgreSQL, MinIO or the broker out of reach is waited out
and the request acted upon again; a request that fails deterministically is dead-lettered
alone, and never holds the partition (nor the exporter, which used to stop on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer  # noqa: TID251 (adapter module)
from cognify_events import (
    DLQ,
    EVENTS,
    Event,
    InvalidEvent,
    SealRequested,
    decode,
    encode,
    partition_key,
)
from cognify_events.topics import Topic
from cognify_kafka import (
    ConsumeLoop,
    DeadLetters,
    Handler,
    KafkaSettings,
    Observers,
    Record,
    consumer,
    ensure_topics,
)

from . import metrics
from .workflow import Exporter, NotFound, Refused

log = logging.getLogger("cognify_exporter")
MARKER = b'"run.seal_requested"'


class Publisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    async def __call__(self, *events: Event) -> None:
        futures = [
            await self.producer.send(self.topic, encode(e), key=partition_key(e)) for e in events
        ]
        await asyncio.gather(*futures)


async def handle(exporter: Exporter, request: SealRequested) -> None:
    assert request.run_id is not None
    p = request.payload
    try:
        await exporter.seal(
            request.run_id,
            p.requested_by,
            request.workspace_id,
            list(p.formats),
            p.template,
            request_id=request.event_id,  # the refusal names the request it answers
        )
    except Refused as exc:
        log.warning("seal of %s refused: %s", request.run_id, "; ".join(exc.reasons))
    except NotFound:
        log.warning("seal requested for unknown run %s", request.run_id)


class _SealRequests(Handler[SealRequested | None]):
    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    def prepare(self, record: Record) -> SealRequested | None:
        if MARKER not in record.value:
            return None  # cheap skip: the canonical topic is mostly metrics
        try:
            event = decode(record.value)
        except InvalidEvent:
            return None  # not an event: lineage dead-letters it
        return event if isinstance(event, SealRequested) else None

    async def process(self, items: Sequence[SealRequested | None]) -> None:
        for request in items:
            if request is not None:
                await handle(self.exporter, request)


OBSERVERS = Observers(
    lag=lambda tp, n: metrics.LAG.labels(str(tp.partition)).set(n),
    dead_lettered=lambda why: metrics.DEAD_LETTERS.labels(why).inc(),
    retried=lambda why: metrics.RETRIES.labels(why).inc(),
)


def dead_letter_topic(events_topic: str) -> str:
    """The dead-letter topic under the same prefix as the canonical topic."""
    return events_topic.removesuffix(EVENTS.name) + DLQ.name


async def seal_requests(
    settings: KafkaSettings,
    topic: str,
    group_id: str,
    exporter: Exporter,
    stop: asyncio.Event,
    producer: AIOKafkaProducer,
) -> None:
    """Act on every `run.seal_requested` of the canonical topic, on the shared consume loop:
    an outage is waited out, a request the exporter fails on deterministically is
    dead-lettered (rejected_by `exporter`) and the requests behind it are acted upon."""
    dlq = dead_letter_topic(topic)
    await ensure_topics(settings, [Topic(dlq, DLQ.partitions, DLQ.purpose)])
    loop = ConsumeLoop(
        consumer(settings, group_id=group_id),
        [topic],
        _SealRequests(exporter),
        DeadLetters(producer, dlq, "exporter"),
        max_records=500,
        observers=OBSERVERS,
    )
    await loop.run(stop)
