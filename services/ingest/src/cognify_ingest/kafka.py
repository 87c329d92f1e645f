"""Ingest's Kafka adapter: the publisher and the raw-topic worker.

The worker consumes the raw topic as a consumer group (scale by starting more processes)
with the shared consume loop (cognify_kafka.ConsumeLoop): each poll batch goes to the gate
whole, and its offsets are committed only after every output is acknowledged. A transient
failure (broker or database out of reach) is retried in place until it passes; anything
else is isolated to the message that causes it, which alone is dead-lettered with the
error as its reason: an event is never dropped, at worst forwarded twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer  # noqa: TID251 (adapter module)
from cognify_kafka import (
    ConsumeLoop,
    DeadLetters,
    Handler,
    KafkaSettings,
    Observers,
    Record,
    consumer,
    send_all,
)

from . import metrics
from .gate import Gate, Incoming
from .routing import Output


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def publish(self, outputs: list[Output]) -> None:
        # One record batch per partition, in order; the producer is idempotent.
        await send_all(self.producer, [(o.topic, o.key, o.value) for o in outputs])


class _Admit(Handler[Incoming]):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def prepare(self, record: Record) -> Incoming:
        return Incoming(record.value, record.key, record.topic, record.partition, record.offset)

    async def process(self, items: Sequence[Incoming]) -> None:
        with metrics.BATCH_SECONDS.time():
            await self.gate.admit(list(items))


OBSERVERS = Observers(
    lag=lambda tp, n: metrics.LAG.labels(str(tp.partition)).set(n),
    dead_lettered=lambda why: metrics.DEAD_LETTERS.labels(why).inc(),
    retried=lambda why: metrics.RETRIES.labels(why).inc(),
)


class RawWorker:
    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        group_id: str,
        gate: Gate,
        max_batch: int,
        dead_letters: DeadLetters,
    ) -> None:
        self.loop = ConsumeLoop(
            consumer(kafka, group_id=group_id),
            [topic],
            _Admit(gate),
            dead_letters,
            max_records=max_batch,
            observers=OBSERVERS,
        )
        self.started = self.loop.started

    async def run(self, stop: asyncio.Event) -> None:
        await self.loop.run(stop)
