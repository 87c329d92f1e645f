"""The hasher's Kafka adapter: the publisher, the job worker and the chunk combiner.

The job worker consumes the jobs topic in the `cognify-hasher` group one message at a time,
hashes on a thread (the event loop keeps heartbeating), publishes the outputs, waits until
Kafka acknowledged them, and only then commits the job's offset: at-least-once, and a job
redone after a crash yields events with the same ids. On a rebalance it finishes (and
commits) the job in hand before giving its partitions up. The combiner consumes the chunks
topic in its own group and commits no further than the first chunk of a job still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from cognify_events import (
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
from cognify_kafka import consumer

from . import metrics
from .combine import Ledger
from .progress import Cancelled, Progress, Snapshot
from .settings import HasherSettings
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


class _Drain(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_revoked: Callable[[list[TopicPartition]], object]) -> None:
        self.on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        result = self.on_revoked(list(revoked))
        if asyncio.iscoroutine(result):
            await result

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class JobWorker:
    def __init__(
        self, settings: HasherSettings, work: Work, publisher: Publisher, me: Producer
    ) -> None:
        self.settings = settings
        self.work = work
        self.publisher = publisher
        self.me = me
        self.started = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._cancel = threading.Event()

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        cons = consumer(
            s.kafka,
            group_id=s.group_id,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=max(1_000, s.session_timeout_ms // 4),
            max_poll_interval_ms=s.max_poll_interval_ms,
            rebalance_timeout_ms=s.max_poll_interval_ms,
            partition_assignment_strategy=(RoundRobinPartitionAssignor,),
            fetch_max_wait_ms=JOB_FETCH_WAIT_MS,
        )
        cons.subscribe([s.topics.jobs], listener=_Drain(lambda _: self._idle.wait()))
        await cons.start()
        self.started.set()
        watcher = asyncio.create_task(self._cancel_on(stop))
        try:
            while not stop.is_set():
                batches = await cons.getmany(timeout_ms=500, max_records=1)
                for tp, messages in batches.items():
                    for message in messages:
                        await self._one(cons, tp, message, stop)
        finally:
            watcher.cancel()
            await cons.stop()

    async def _cancel_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._cancel.set()

    async def _one(
        self,
        cons: AIOKafkaConsumer,
        tp: TopicPartition,
        message: ConsumerRecord,
        stop: asyncio.Event,
    ) -> None:
        self._idle.clear()
        try:
            done = await self._handle(message.value or b"", stop)
            if done:
                await cons.commit({tp: message.offset + 1})
                return
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("job at %s:%d done, commit refused (%s)", tp, message.offset, exc)
            return
        except (KafkaError, OSError) as exc:
            log.warning("publishing the result of %s:%d failed: %s", tp, message.offset, exc)
            await _sleep(stop, 1.0)
        finally:
            self._idle.set()
        with contextlib.suppress(IllegalStateError):  # revoked meanwhile: not ours any more
            cons.seek(tp, message.offset)

    async def _handle(self, value: bytes, stop: asyncio.Event) -> bool:
        """True when the message is done with (results acknowledged, or nothing to do)."""
        try:
            event = decode(value)
        except InvalidEvent as exc:
            log.error("skipping a message that is not an event: %s", exc)
            metrics.FAILURES.labels("undecodable").inc()
            return True
        if not isinstance(event, HashJobRequested | HashChunkRequested):
            return True
        outputs = await self._attempts(event, stop)
        if outputs is None:
            return False
        await self.publisher.publish(outputs)
        kind = "chunk" if isinstance(event, HashChunkRequested) else "job"
        metrics.JOBS.labels(kind, type(outputs[0].event).__name__).inc()
        return True

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


class CombineWorker:
    def __init__(self, settings: HasherSettings, publisher: Publisher, me: Producer) -> None:
        self.settings = settings
        self.publisher = publisher
        self.ledger = Ledger(me)
        self.started = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        cons = consumer(
            s.kafka, group_id=s.combine_group_id, session_timeout_ms=s.session_timeout_ms
        )
        cons.subscribe(
            [s.topics.chunks],
            listener=_Drain(lambda tps: self.ledger.forget([(t.topic, t.partition) for t in tps])),
        )
        await cons.start()
        self.started.set()
        try:
            while not stop.is_set():
                batches = await cons.getmany(timeout_ms=500, max_records=500)
                if batches:
                    await self._batch(cons, batches, stop)
        finally:
            await cons.stop()

    async def _batch(
        self,
        cons: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord]],
        stop: asyncio.Event,
    ) -> None:
        outputs: list[Output] = []
        for tp, messages in batches.items():
            for m in messages:
                try:
                    event = decode(m.value or b"")
                except InvalidEvent as exc:
                    log.error("skipping a chunk result that is not an event: %s", exc)
                    continue
                if isinstance(event, HashChunkComputed | HashChunkFailed):
                    for result in self.ledger.add((tp.topic, tp.partition), m.offset, event):
                        outputs.append(
                            Output(self.settings.topics.events, partition_key(result), result)
                        )
                        metrics.JOBS.labels("combined", type(result).__name__).inc()
        try:
            await self.publisher.publish(outputs)
            offsets = {
                tp: offset
                for tp in batches
                if (offset := self.ledger.committable((tp.topic, tp.partition))) is not None
            }
            if offsets:
                await cons.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("combined results published; commit refused (%s)", exc)
        except (KafkaError, OSError) as exc:
            # Re-read the batch: the results it completes are published again, same ids.
            log.warning("publishing combined results failed: %s", exc)
            self.ledger.forget([(tp.topic, tp.partition) for tp in batches])
            for tp, messages in batches.items():
                with contextlib.suppress(IllegalStateError):
                    committed = await cons.committed(tp)
                    cons.seek(tp, committed if committed is not None else messages[0].offset)
            await _sleep(stop, 1.0)


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep unless stopping; False when the worker is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return not stop.is_set()
