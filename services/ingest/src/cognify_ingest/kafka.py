"""Ingest's Kafka adapter: the publisher and the raw-topic worker.

The worker consumes the raw topic as a consumer group (scale by starting more processes),
hands each poll batch to the gate and commits the batch's offsets only after every output
is acknowledged. When anything fails before that, it seeks back to the batch's first
offsets and tries again: an event is never dropped, at worst forwarded twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError
from cognify_kafka import KafkaSettings, consumer, send_all

from . import metrics
from .gate import Gate, Incoming
from .routing import Output

log = logging.getLogger(__name__)


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def publish(self, outputs: list[Output]) -> None:
        # One record batch per partition, in order; the producer is idempotent.
        await send_all(self.producer, [(o.topic, o.key, o.value) for o in outputs])


class RawWorker:
    def __init__(
        self, kafka: KafkaSettings, topic: str, group_id: str, gate: Gate, max_batch: int
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.group_id = group_id
        self.gate = gate
        self.max_batch = max_batch
        self.started = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        cons = consumer(self.kafka, self.topic, group_id=self.group_id)
        await cons.start()
        self.started.set()
        try:
            while not stop.is_set():
                batches = await cons.getmany(timeout_ms=200, max_records=self.max_batch)
                if batches:
                    await self._handle(cons, batches)
        finally:
            await cons.stop()

    async def _handle(
        self, cons: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        items = [
            Incoming(m.value or b"", m.key, tp.topic, tp.partition, m.offset)
            for tp, records in batches.items()
            for m in records
        ]
        try:
            with metrics.BATCH_SECONDS.time():
                await self.gate.admit(items)
            await cons.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
        except Exception:
            log.exception("batch of %d raw events failed; retrying it", len(items))
            for tp, records in batches.items():
                with contextlib.suppress(IllegalStateError):  # revoked meanwhile: not ours
                    cons.seek(tp, records[0].offset)
            await asyncio.sleep(1.0)
            return
        for tp, records in batches.items():
            high = cons.highwater(tp)
            if high is not None:
                metrics.LAG.labels(str(tp.partition)).set(max(0, high - records[-1].offset - 1))
