"""The hasher's Kafka adapter: the publisher, the job worker and the chunk combiner.

Both consumers run on the shared consume loop (cognify_kafka.ConsumeLoop): a transient
failure (the broker out of reach while publishing a result) is retried in place until it
passes, and a message that fails deterministically (not an event, a result the broker
refuses) is dead-lettered alone, under the jobs topic's prefix, and never holds a partition.

The job worker consumes the jobs topic in the `cognify-hasher` group one message at a time,
hashes on a thread (the event loop keeps heartbeating), publishes the outputs, waits until
Kafka acknowledged them, and only then commits the job's offset: at-least-once, and a job
redone after a crash yields events with the same ids. A failed publish is retried with the
outputs already computed (the job is not hashed again). On a rebalance it finishes (and
commits) the job in hand before giving its partitions up (`drain_on_revoke`). The combiner
consumes the chunks topic in its own group and commits no further than the first chunk of a
job still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError
from cognify_events import (
    DLQ,
    HASH_JOBS,
    HashChunkComputed,
    HashChunkFailed,
    HashChunkRequested,
    HashJobRequested,
    HashProgress,
    HashProgressPayload,
    InvalidEvent,
    Producer,
    decode,
    encode,
    partition_key,
)
from cognify_events.topics import Topic
from cognify_kafka import (
    ConsumeLoop,
    DeadLetters,
    Handler,
    Observers,
    Record,
    consumer,
    ensure_topics,
)

from . import metrics
from .combine import Ledger
from .progress import Cancelled, Progress, Snapshot
from .settings import HasherSettings, Topics
from .work import Output, Work

log = logging.getLogger(__name__)

# How long the broker may hold the job consumer's fetch when no record is waiting: the
# longest a job can wait unseen. A worker takes one job at a time and the rest of a fetch
# stays buffered; aiokafka then fetches only the partitions with nothing buffered, and
# while that long poll is out a job arriving on one of the others is not fetched. With
# Kafka's 500 ms, a job published just after a worker took the last buffered chunk of
# another job waited 160-250 ms (measured, on most jobs of bench/hashing.py's pool). A
# shorter poll costs an idle worker CPU: 0.5% of a core at 500 ms, 1.6% at 50, 3.3% at 20.
JOB_FETCH_WAIT_MS = 50


class Publisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._pending: set[asyncio.Future[object]] = set()

    async def publish(self, outputs: list[Output]) -> None:
        """Send and wait until every output is acknowledged (acks=all, idempotent)."""
        futures = []
        for out in outputs:
            partition = None
            if out.spread is not None:
                partitions = sorted(await self.producer.partitions_for(out.topic))
                partition = partitions[out.spread % len(partitions)]
            futures.append(
                await self.producer.send(
                    out.topic, encode(out.event), key=out.key, partition=partition
                )
            )
        if futures:
            await asyncio.gather(*futures)

    def fire(self, topic: str, key: bytes, event: HashProgress) -> None:
        """Progress is not evidence: sent without waiting, a lost one is no gap."""
        task = asyncio.ensure_future(self.producer.send(topic, encode(event), key=key))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def _observers(name: str) -> Observers:
    """The consume loop's reports, labelled with the consumer they come from."""
    return Observers(
        lag=lambda tp, n: metrics.LAG.labels(name, str(tp.partition)).set(n),
        dead_lettered=lambda why: metrics.DEAD_LETTERS.labels(name, why).inc(),
        retried=lambda why: metrics.RETRIES.labels(name, why).inc(),
    )


def dead_letter_topic(topics: Topics) -> str:
    """The dead-letter topic under the same prefix as the jobs topic (tests and benchmarks
    run on topics of their own)."""
    return topics.jobs.removesuffix(HASH_JOBS.name) + DLQ.name


async def _dead_letters(settings: HasherSettings, publisher: Publisher) -> DeadLetters:
    topic = dead_letter_topic(settings.topics)
    await ensure_topics(settings.kafka, [Topic(topic, DLQ.partitions, DLQ.purpose)])
    return DeadLetters(publisher.producer, topic, "hasher")


class JobWorker(Handler[Record]):
    def __init__(
        self, settings: HasherSettings, work: Work, publisher: Publisher, me: Producer
    ) -> None:
        self.settings = settings
        self.work = work
        self.publisher = publisher
        self.me = me
        self.started = asyncio.Event()
        self._cancel = threading.Event()
        # The outputs of the job in hand once computed: a retried publish sends them again
        # instead of hashing the target again.
        self._computed: tuple[tuple[str, int, int], list[Output]] | None = None
        self._stop = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        self._stop = stop
        loop = ConsumeLoop(
            consumer(
                s.kafka,
                group_id=s.group_id,
                session_timeout_ms=s.session_timeout_ms,
                heartbeat_interval_ms=max(1_000, s.session_timeout_ms // 4),
                max_poll_interval_ms=s.max_poll_interval_ms,
                rebalance_timeout_ms=s.max_poll_interval_ms,
                partition_assignment_strategy=(RoundRobinPartitionAssignor,),
                fetch_max_wait_ms=JOB_FETCH_WAIT_MS,
            ),
            [s.topics.jobs],
            self,
            await _dead_letters(s, self.publisher),
            max_records=1,
            poll_ms=500,
            observers=_observers("jobs"),
            drain_on_revoke=True,
            started=self.started,
        )
        watcher = asyncio.create_task(self._cancel_on(stop))
        try:
            await loop.run(stop)
        finally:
            watcher.cancel()

    async def _cancel_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._cancel.set()

    async def process(self, items: Sequence[Record]) -> None:
        for record in items:  # one: max_records=1
            await self._one(record)

    async def _one(self, record: Record) -> None:
        try:
            event = decode(record.value)
        except InvalidEvent:
            metrics.FAILURES.labels("undecodable").inc()
            raise  # dead-lettered by the loop, with the problems as its reason
        if not isinstance(event, HashJobRequested | HashChunkRequested):
            return
        where = (record.topic, record.partition, record.offset)
        if self._computed is not None and self._computed[0] == where:
            outputs = self._computed[1]
        else:
            self._computed = None
            computed = await self._attempts(event, self._stop)
            if computed is None:
                raise _Unfinished(f"job at {record.topic}[{record.partition}]@{record.offset}")
            outputs = computed
            self._computed = (where, outputs)
        await self.publisher.publish(outputs)
        self._computed = None
        kind = "chunk" if isinstance(event, HashChunkRequested) else "job"
        metrics.JOBS.labels(kind, type(outputs[0].event).__name__).inc()

    async def _attempts(
        self, event: HashJobRequested | HashChunkRequested, stop: asyncio.Event
    ) -> list[Output] | None:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            progress = Progress(
                event.payload.target.value,
                self._emitter(event),
                self.settings.progress_interval_s,
                self._cancel,
            )
            metrics.IN_FLIGHT.inc()
            try:
                with metrics.JOB_SECONDS.time():
                    if isinstance(event, HashChunkRequested):
                        return await asyncio.to_thread(self.work.chunk, event, progress)
                    return await asyncio.to_thread(self.work.job, event, progress)
            except Cancelled:
                return None
            except Exception as exc:  # retried, then recorded as a gap
                log.exception(
                    "job %s attempt %d/%d failed", event.payload.job_id, attempt, attempts
                )
                if attempt == attempts:
                    return self.work.gave_up(event, exc, attempts)
                if not await _sleep(stop, self.settings.retry_backoff_s * attempt):
                    return None
            finally:
                metrics.IN_FLIGHT.dec()
        return None

    def _emitter(self, event: HashJobRequested | HashChunkRequested) -> Callable[[Snapshot], None]:
        loop = asyncio.get_running_loop()
        p = event.payload
        chunk = (
            (event.payload.chunk_index, event.payload.chunk_count)
            if isinstance(event, HashChunkRequested)
            else None
        )
        topic = self.settings.topics.progress

        def emit(snap: Snapshot) -> None:
            progress = HashProgress(
                workspace_id=event.workspace_id,
                project=event.project,
                run_id=event.run_id,
                producer=self.me,
                payload=HashProgressPayload(
                    job_id=p.job_id,
                    chunk_index=chunk[0] if chunk else None,
                    chunk_count=chunk[1] if chunk else 1,
                    target=p.target,
                    target_id=p.target_id,
                    bytes_done=snap.bytes_done,
                    bytes_total=snap.bytes_total,
                    records_done=snap.records_done,
                    records_total=snap.records_total,
                    finished=snap.finished,
                ),
            )
            log.info(
                "job %s%s: %s bytes, %s records%s",
                p.job_id,
                f" chunk {chunk[0] + 1}/{chunk[1]}" if chunk else "",
                f"{snap.bytes_done:,}/{snap.bytes_total:,}"
                if snap.bytes_total
                else snap.bytes_done,
                f"{snap.records_done:,}/{snap.records_total:,}"
                if snap.records_total
                else snap.records_done,
                " (done)" if snap.finished else "",
            )
            loop.call_soon_threadsafe(self.publisher.fire, topic, p.job_id.encode(), progress)

        return emit


class CombineWorker(Handler[list[Output]]):
    """Folds chunk results (combine.Ledger); an item is the outputs its record completes,
    computed once when the record is read, so a retried publish sends the same ones."""

    def __init__(self, settings: HasherSettings, publisher: Publisher, me: Producer) -> None:
        self.settings = settings
        self.publisher = publisher
        self.ledger = Ledger(me)
        self.started = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        loop = ConsumeLoop(
            consumer(s.kafka, group_id=s.combine_group_id, session_timeout_ms=s.session_timeout_ms),
            [s.topics.chunks],
            self,
            await _dead_letters(s, self.publisher),
            max_records=500,
            poll_ms=500,
            observers=_observers("combine"),
            started=self.started,
        )
        await loop.run(stop)

    def prepare(self, record: Record) -> list[Output]:
        event = decode(record.value)  # InvalidEvent: dead-lettered by the loop
        if not isinstance(event, HashChunkComputed | HashChunkFailed):
            return []
        outputs = []
        for result in self.ledger.add((record.topic, record.partition), record.offset, event):
            outputs.append(Output(self.settings.topics.events, partition_key(result), result))
            metrics.JOBS.labels("combined", type(result).__name__).inc()
        return outputs

    async def process(self, items: Sequence[list[Output]]) -> None:
        outputs = [o for item in items for o in item]
        if outputs:
            await self.publisher.publish(outputs)

    async def done(
        self, consumer: AIOKafkaConsumer, positions: Mapping[TopicPartition, int]
    ) -> None:
        assigned = consumer.assignment()
        offsets = {
            tp: offset
            for tp in positions
            if tp in assigned
            and (offset := self.ledger.committable((tp.topic, tp.partition))) is not None
        }
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("combined results published; commit refused (%s)", exc)

    async def revoked(self, partitions: list[TopicPartition]) -> None:
        self.ledger.forget([(tp.topic, tp.partition) for tp in partitions])


class _Unfinished(Exception):
    """A job stopped by the worker's own stop: neither done nor poison (read again)."""


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep unless stopping; False when the worker is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return not stop.is_set()
