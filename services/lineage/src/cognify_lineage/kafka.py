"""Lineage's Kafka adapter: the canonical-topic worker and the publisher it shares with the API.

Offsets live in PostgreSQL, in the transaction that folds the events (postgres.apply_batch);
Kafka's committed offsets are never used. On every assignment the worker seeks each
partition to the offset stored with the projection, so after a crash or a rebalance it
resumes exactly where the last committed transaction ended.

The worker reads and decodes the next poll batch while PostgreSQL applies the current one
(a queue of one batch between two tasks): decoding is pure, so this only hides the database
round trips. A batch read before a seek (a rebalance, or the rewind after a failed batch)
may reach PostgreSQL after it: one from before the stored offset is skipped as a replay,
and one that would leave a gap after it is refused (postgres.OutOfPlace), upon which the
worker seeks to the stored offsets again.

Events refused because their run was already sealed are recorded in the batch's transaction
(postgres.apply_batch); the worker dead-letters them once that transaction has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import IllegalStateError
from cognify_events import DeadLetter, Event, InvalidEvent, encode, partition_key
from cognify_kafka import KafkaSettings, consumer

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


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: EventsWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        pass  # nothing to save: positions are stored with every batch

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.worker.seek_to_stored(assigned)


Batch = dict[int, list[tuple[Message, Decoded | None]]]


@dataclass
class _Polled:
    records: dict[TopicPartition, list[ConsumerRecord]]
    batch: Batch
    letters: list[tuple[bytes | None, DeadLetter]]


class EventsWorker:
    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        group_id: str,
        pool: Pool,
        publisher: Publisher,
        max_batch: int,
        group_instance_id: str | None = None,
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.group_id = group_id
        self.pool = pool
        self.publisher = publisher
        self.max_batch = max_batch
        self.group_instance_id = group_instance_id
        self._consumer: AIOKafkaConsumer | None = None

    async def seek_to_stored(self, partitions: Iterable[TopicPartition]) -> None:
        assert self._consumer is not None
        stored = await postgres.stored_offsets(self.pool, self.group_id, self.topic)
        for tp in partitions:
            if tp.partition in stored:
                self._consumer.seek(tp, stored[tp.partition])
            else:
                await self._consumer.seek_to_beginning(tp)

    async def run(self, stop: asyncio.Event) -> None:
        self._consumer = cons = consumer(
            self.kafka, group_id=self.group_id, group_instance_id=self.group_instance_id
        )
        cons.subscribe([self.topic], listener=_SeekToStored(self))
        await cons.start()
        polled: asyncio.Queue[_Polled] = asyncio.Queue(maxsize=1)
        reader = asyncio.create_task(self._read(cons, stop, polled))
        try:
            while not stop.is_set() and not reader.done():
                try:
                    item = await asyncio.wait_for(polled.get(), timeout=0.2)
                except TimeoutError:
                    continue
                await self._apply(cons, item)
        finally:
            reader.cancel()
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await reader  # raises the reader's own failure, if that ended the loop
            finally:
                await cons.stop()

    async def _read(
        self, cons: AIOKafkaConsumer, stop: asyncio.Event, polled: asyncio.Queue[_Polled]
    ) -> None:
        while not stop.is_set():
            records = await cons.getmany(timeout_ms=200, max_records=self.max_batch)
            if records:
                await polled.put(_Polled(records, *self._decode(records)))

    @staticmethod
    def _decode(
        records: dict[TopicPartition, list[ConsumerRecord]],
    ) -> tuple[Batch, list[tuple[bytes | None, DeadLetter]]]:
        batch: Batch = {}
        letters = []
        for tp, messages in records.items():
            for m in messages:
                value = m.value or b""
                try:
                    decoded: Decoded | None = postgres.decode(value)
                except InvalidEvent as exc:
                    decoded = None
                    letter = DeadLetter.of(
                        value, str(exc), tp.topic, "lineage", tp.partition, m.offset
                    )
                    letters.append((m.key, letter))
                batch.setdefault(tp.partition, []).append(
                    (Message(tp.topic, tp.partition, m.offset, value), decoded)
                )
        return batch, letters

    async def _apply(self, cons: AIOKafkaConsumer, polled: _Polled) -> None:
        batch, letters = polled.batch, polled.letters
        try:
            if letters:
                await self.publisher.dead_letter(letters)
            with metrics.BATCH_SECONDS.time():
                applied = await postgres.apply_batch(self.pool, self.group_id, self.topic, batch)
        except postgres.OutOfPlace as exc:  # read before a seek: read again from the store's
            log.info("batch out of place (%s); resuming from the stored offsets", exc)
            with contextlib.suppress(IllegalStateError):
                await self.seek_to_stored(cons.assignment())
            return
        except Exception:
            # Nothing was committed: go back to the stored positions and try again.
            log.exception("batch failed; resuming from the stored offsets")
            await asyncio.sleep(1.0)
            with contextlib.suppress(IllegalStateError):
                await self.seek_to_stored(cons.assignment())
            return
        self._count(batch, applied, len(letters))
        if applied.refused:
            await self._dead_letter_refused(applied.refused)
        for tp, records in polled.records.items():
            high = cons.highwater(tp)
            if high is not None:
                metrics.LAG.labels(str(tp.partition)).set(max(0, high - records[-1].offset - 1))

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
            stale = sealing.is_stale_seal(refusal.event.type, refusal.reason)
            metrics.REFUSED.labels(
                refusal.event.type, "stale-seal" if stale else "after-seal"
            ).inc()
        counts: dict[str, int] = {}
        for items in batch.values():
            for _, decoded in items:
                if decoded is not None:
                    counts[decoded.event.type] = counts.get(decoded.event.type, 0) + 1
        for kind, n in counts.items():
            metrics.EVENTS.labels(kind, "consumed").inc(n)
