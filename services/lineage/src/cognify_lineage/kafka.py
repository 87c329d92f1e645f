"""Lineage's Kafka adapter: the canonical-topic worker and the publisher it shares with the API.

Offsets live in PostgreSQL, in the transaction that folds the events (postgres.apply_batch);
Kafka's committed offsets are never used. On every assignment the worker seeks each
partition to the offset stored with the projection, so after a crash or a rebalance it
resumes exactly where the last committed transaction ended.

The worker runs on the shared consume loop (cognify_kafka.ConsumeLoop), which reads and
decodes the next poll batch while PostgreSQL applies the current one (`prefetch`): decoding
is pure, so this only hides the database round trips. A transient failure (PostgreSQL or
the broker out of reach) is retried in place; a deterministic one is isolated to its
message, which is dead-lettered and its offset stored. A batch read before a seek (a
rebalance) may reach PostgreSQL after it: one from before the stored offset is skipped as a
replay, and one that would leave a gap after it is refused (postgres.OutOfPlace), upon which
the worker seeks to the stored offsets again and drops the rest of that poll (`Rewound`).

Events refused because their run was already sealed are recorded in the batch's transaction
(postgres.apply_batch); the worker dead-letters them once that transaction has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import IllegalStateError
from cognify_events import DeadLetter, Event, InvalidEvent, encode, partition_key
from cognify_kafka import (
    ConsumeLoop,
    DeadLetters,
    Handler,
    KafkaSettings,
    Observers,
    Record,
    Rewound,
    consumer,
)

from . import metrics, postgres, sealing
from .postgres import Decoded, Message, Pool

log = logging.getLogger(__name__)


class Publisher:
    """Publishes events the lineage service makes itself (access records), and dead letters
    (messages that are not events, events refused after their run's seal)."""

    def __init__(self, producer: AIOKafkaProducer, events_topic: str, dlq_topic: str) -> None:
        self.producer = producer
        self.events_topic = events_topic
        self.dlq_topic = dlq_topic

    async def emit(self, *events: Event) -> None:
        futures = [
            await self.producer.send(self.events_topic, encode(e), key=partition_key(e))
            for e in events
        ]
        await asyncio.gather(*futures)

    async def dead_letter(self, letters: Iterable[tuple[bytes | None, DeadLetter]]) -> None:
        futures = [
            await self.producer.send(self.dlq_topic, letter.model_dump_json().encode(), key=key)
            for key, letter in letters
        ]
        await asyncio.gather(*futures)


# One message as the worker holds it: its position and bytes, the decoded event (None when
# it is not an event) and then its dead letter.
Item = tuple[Message, Decoded | None, tuple[bytes | None, DeadLetter] | None]
Batch = dict[int, list[tuple[Message, Decoded | None]]]

OBSERVERS = Observers(
    lag=lambda tp, n: metrics.LAG.labels(str(tp.partition)).set(n),
    dead_lettered=lambda why: metrics.DEAD_LETTERS.labels(why).inc(),
    retried=lambda why: metrics.RETRIES.labels(why).inc(),
)


class EventsWorker(Handler[Item]):
    """The canonical-topic worker: the shared consume loop (cognify_kafka.ConsumeLoop) with
    this handler. A slice of a poll batch is one `apply_batch` transaction; a message the
    fold fails on deterministically (a value the store cannot hold, a bug) is dead-lettered
    alone and its offset stored (`skipped`, a transaction of its own), so it is neither
    lost nor retried for ever, and the events behind it are folded."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        group_id: str,
        pool: Pool,
        publisher: Publisher,
        max_batch: int,
        group_instance_id: str | None = None,
        sealed: Callable[[], None] | None = None,
    ) -> None:
        self.topic = topic
        self.group_id = group_id
        self.pool = pool
        self.sealed = sealed  # told after a batch with a seal commits (the anchorer's poke)
        self.publisher = publisher
        self.loop = ConsumeLoop(
            consumer(kafka, group_id=group_id, group_instance_id=group_instance_id),
            [topic],
            self,
            DeadLetters(publisher.producer, publisher.dlq_topic, "lineage"),
            max_records=max_batch,
            observers=OBSERVERS,
            prefetch=True,
        )
        self.started = self.loop.started

    async def run(self, stop: asyncio.Event) -> None:
        await self.loop.run(stop)

    async def seek_to_stored(self, partitions: Iterable[TopicPartition]) -> None:
        cons = self.loop.consumer
        stored = await postgres.stored_offsets(self.pool, self.group_id, self.topic)
        for tp in partitions:
            if tp.partition in stored:
                cons.seek(tp, stored[tp.partition])
            else:
                await cons.seek_to_beginning(tp)

    async def assigned(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        await self.seek_to_stored(partitions)

    async def done(
        self, consumer: AIOKafkaConsumer, positions: Mapping[TopicPartition, int]
    ) -> None:
        pass  # the offsets were stored with the fold, in `process` and `skipped`

    def prepare(self, record: Record) -> Item:
        value = record.value
        message = Message(record.topic, record.partition, record.offset, value)
        try:
            return message, postgres.decode(value), None
        except InvalidEvent as exc:
            letter = DeadLetter.of(
                value, str(exc), record.topic, "lineage", record.partition, record.offset
            )
            return message, None, (record.key, letter)

    async def process(self, items: Sequence[Item]) -> None:
        batch: Batch = {}
        letters = []
        for message, decoded, letter in items:
            batch.setdefault(message.partition, []).append((message, decoded))
            if letter is not None:
                letters.append(letter)
        if letters:  # before their offsets are stored: a crash sends them again, same ids
            await self.publisher.dead_letter(letters)
        with metrics.BATCH_SECONDS.time():
            applied = await self._apply(batch)
        self._count(batch, applied, len(letters))
        if self.sealed is not None and any(
            d is not None and d.event.type == sealing.SEALED_BY for _, d, _ in items
        ):
            self.sealed()
        if applied.refused:
            await self._dead_letter_refused(applied.refused)

    async def skipped(self, record: Record) -> None:
        message = Message(record.topic, record.partition, record.offset, record.value)
        await self._apply({message.partition: [(message, None)]})

    async def _apply(self, batch: Batch) -> postgres.Applied:
        try:
            return await postgres.apply_batch(self.pool, self.group_id, self.topic, batch)
        except postgres.OutOfPlace as exc:  # read before a seek: read again from the store's
            log.info("batch out of place (%s); resuming from the stored offsets", exc)
            with contextlib.suppress(IllegalStateError):
                await self.seek_to_stored(self.loop.consumer.assignment())
            raise Rewound(str(exc)) from exc

    async def _dead_letter_refused(self, refused: list[postgres.Refusal]) -> None:
        """Events refused after their run's seal, dead-lettered once the transaction that
        recorded them (refused_events) has committed: the table is the record, the dead
        letter a notice, so one that cannot be sent is logged, not retried."""
        runs = sorted({r.event.run_id or "" for r in refused})
        log.warning(
            "refused %d events (after a seal, or stale seals) of %s", len(refused), ", ".join(runs)
        )
        letters = [
            (
                partition_key(r.event),
                DeadLetter.of(
                    r.message.value,
                    r.reason,
                    r.message.topic,
                    "lineage",
                    r.message.partition,
                    r.message.offset,
                ),
            )
            for r in refused
        ]
        try:
            await self.publisher.dead_letter(letters)
        except Exception:
            log.exception("%d refusals recorded but not dead-lettered", len(letters))

    @staticmethod
    def _count(
        batch: Batch,
        applied: postgres.Applied,
        rejected: int,
    ) -> None:
        total = sum(len(items) for items in batch.values())
        metrics.BATCH_EVENTS.observe(total)
        metrics.REPLAYED.inc(applied.replayed)
        metrics.REJECTS.inc(rejected)
        if applied.duplicates:
            metrics.EVENTS.labels("any", "duplicate").inc(applied.duplicates)
        for refusal in applied.refused:
            why = sealing.refusal_kind(refusal.event.type, refusal.reason)
            why = "after-seal" if why == "event-after-seal" else why  # the label as it was
            metrics.REFUSED.labels(refusal.event.type, why).inc()
        counts: dict[str, int] = {}
        for items in batch.values():
            for _, decoded in items:
                if decoded is not None:
                    counts[decoded.event.type] = counts.get(decoded.event.type, 0) + 1
        for kind, n in counts.items():
            metrics.EVENTS.labels(kind, "consumed").inc(n)
