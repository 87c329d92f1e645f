"""The exporter's Kafka adapter: the publisher of `run.sealed` / `export.completed`, and the
worker that acts on `run.seal_requested` (ingest's `POST /v1/runs/{id}/seal`, the SDK).

Acting on a request is idempotent (a sealed run stays sealed, a stored package is found
again), so offsets are committed to Kafka after each batch has been acted upon: a crash
in between repeats the work, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from cognify_events import Event, InvalidEvent, SealRequested, decode, encode, partition_key
from cognify_kafka import KafkaSettings, consumer

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
            request.run_id, p.requested_by, request.workspace_id, list(p.formats), p.template
        )
    except Refused as exc:
        log.warning("seal of %s refused: %s", request.run_id, "; ".join(exc.reasons))
    except NotFound:
        log.warning("seal requested for unknown run %s", request.run_id)


async def seal_requests(
    settings: KafkaSettings, topic: str, group_id: str, exporter: Exporter, stop: asyncio.Event
) -> None:
    cons = consumer(settings, topic, group_id=group_id)
    await cons.start()
    try:
        while not stop.is_set():
            batch = await cons.getmany(timeout_ms=200, max_records=500)
            for records in batch.values():
                for m in records:
                    if m.value is None or MARKER not in m.value:
                        continue  # cheap skip: the canonical topic is mostly metrics
                    with contextlib.suppress(InvalidEvent):
                        event = decode(m.value)
                        if isinstance(event, SealRequested):
                            await handle(exporter, event)
            if batch:
                await cons.commit()
    finally:
        await cons.stop()
