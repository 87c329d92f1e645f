"""One consume loop for every Cognify service: poll, process, retry, isolate, dead-letter.

    loop = ConsumeLoop(consumer(kafka, group_id=...), [topic], handler, dead_letters, ...)
    await loop.run(stop)          # start, then poll until `stop` is set, then stop

A service writes a `Handler`: `process` does the work for a slice of a poll batch (one
transaction, one produce request) and returns once its outputs are acknowledged; `done`
stores the batch's position (default: commit it to Kafka; lineage stores its offsets in
PostgreSQL inside `process` and `skipped`, and commits nothing here).

What the loop guarantees, for every handler:

- **A transient failure** (failures.is_transient: broker or database out of reach) is
  retried in place with capped exponential backoff for as long as it lasts, until `stop`:
  nothing is skipped, nothing is dead-lettered, nothing is committed meanwhile.
- **A deterministic failure** (any other exception) is isolated to the message that causes
  it by splitting the batch (isolate.py); that message alone goes to the dead-letter topic
  with the error as its reason (`Type: message`), `skipped` records its position, and
  every other message is processed: a poison message never holds a partition.
- **Positions follow outputs**: `done` runs only after every message of the poll batch was
  processed or dead-lettered (dead letter acknowledged first), so a crash at any point
  redoes work, never loses it. A message dead-lettered again after such a crash carries the
  same `letter_id` (cognify_events.deadletter.letter_id: source topic, partition, offset).
- **Stopping** ends the loop between attempts: what was not finished is neither committed
  nor dead-lettered, and is read again by the next owner of its partition.

`prefetch=True` reads and prepares (`Handler.prepare`, pure) the next poll batch while the
current one is processed: only for handlers whose `process` tells a stale batch itself
(lineage's stored offsets do; a Kafka-committing handler would need none of it).
`drain_on_revoke=True` makes a rebalance wait until the batch in hand is done (the hasher:
a job is long, and its result is better committed by the worker that computed it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError

from .deadletters import DeadLetters
from .failures import is_transient, label, reason
from .isolate import isolate

__all__ = [
    "Backoff",
    "ConsumeLoop",
    "DeadLetters",
    "Handler",
    "Observers",
    "Record",
    "Rewound",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Record(NamedTuple):
    """One consumed message, as the loop hands it to a handler (a tuple: cheap to make)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


class Rewound(Exception):
    """Raised by a handler that has moved the consumer's positions itself (lineage, on a
    batch read before a seek): the rest of this poll batch is stale and is dropped, with
    nothing dead-lettered and nothing stored."""


class _Stopping(Exception):
    """The loop is stopping: unwind without dead-lettering or storing anything."""


class Handler(Generic[T]):
    """A service's part of the loop. Override `process`; the rest has defaults."""

    def prepare(self, record: Record) -> T:
        """Turn a record into the item `process` takes (pure: decode, parse). An exception
        here makes the record poison, like one from `process`."""
        return record  # type: ignore[return-value]

    async def process(self, items: Sequence[T]) -> None:
        """Do the work for `items` (a slice of a poll batch, in partition and offset order)
        and return once its outputs are acknowledged. Raise to fail; the loop retries or
        isolates. Must be safe to call again with the same items (a retry, a split)."""
        raise NotImplementedError

    async def skipped(self, record: Record) -> None:
        """`record` was dead-lettered (acknowledged): record that it is done with, where this
        handler stores positions (also when `prepare` failed on it). Kafka-committing
        handlers need nothing (`done` commits)."""

    async def done(
        self, consumer: AIOKafkaConsumer, positions: Mapping[TopicPartition, int]
    ) -> None:
        """Every record of a poll batch is processed or dead-lettered: store the position
        (`positions`: each partition's next offset). Default: commit those of the partitions
        still assigned to Kafka."""
        assigned = consumer.assignment()
        mine = {tp: o for tp, o in positions.items() if tp in assigned}
        if not mine:
            return
        try:
            await consumer.commit(mine)
        except (CommitFailedError, IllegalStateError) as exc:  # rebalanced meanwhile
            log.warning("batch done, commit refused (%s); its new owner reads it again", exc)

    async def assigned(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        """Partitions assigned by a rebalance (lineage seeks to its stored offsets)."""

    async def revoked(self, partitions: list[TopicPartition]) -> None:
        """Partitions taken away by a rebalance (the combiner forgets what it held)."""


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: first, first·factor, ... up to cap seconds."""

    first: float = 0.1
    factor: float = 2.0
    cap: float = 10.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap, self.first * self.factor ** min(failures, 64)))


def _noop(*_: Any) -> None:
    return None


@dataclass(frozen=True)
class Observers:
    """Where the loop reports, in the service's own metric names (its metrics.py)."""

    # lag(partition, messages behind the end of the partition), after each poll batch
    lag: Callable[[TopicPartition, int], None] = _noop
    # dead_lettered(exception type), per message the loop isolated and dead-lettered
    dead_lettered: Callable[[str], None] = _noop
    # retried(exception type), per transient failure retried
    retried: Callable[[str], None] = _noop


@dataclass
class _Batch(Generic[T]):
    records: list[Record]
    items: list[T | _Unprepared]
    positions: dict[TopicPartition, int]  # each partition's next offset after the batch
    clean: bool  # prepared without a failure: processed whole without copying first


@dataclass(frozen=True)
class _Unprepared:
    error: Exception


@dataclass
class _State:
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: ConsumeLoop[Any]) -> None:
        self.loop = loop

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        if self.loop.drain_on_revoke:
            await self.loop._state.idle.wait()
        await self.loop.handler.revoked(list(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.loop.handler.assigned(self.loop.consumer, list(assigned))


class ConsumeLoop(Generic[T]):
    """Runs a handler over a consumer's topics; see the module docstring."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topics: Sequence[str],
        handler: Handler[T],
        dead_letters: DeadLetters,
        *,
        max_records: int,
        poll_ms: int = 200,
        observers: Observers | None = None,
        backoff: Backoff | None = None,
        prefetch: bool = False,
        drain_on_revoke: bool = False,
        started: asyncio.Event | None = None,
    ) -> None:
        self.consumer = consumer
        self.topics = list(topics)
        self.handler = handler
        self.dead_letters = dead_letters
        self.max_records = max_records
        self.poll_ms = poll_ms
        self.observers = observers or Observers()
        self.backoff = backoff or Backoff()
        self.prefetch = prefetch
        self.drain_on_revoke = drain_on_revoke
        self.started = started or asyncio.Event()  # set once the consumer has started
        self._state = _State()
        self._state.idle.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Start the consumer, consume until `stop` is set, and stop it, whatever happens."""
        self._state.stop = stop
        self.consumer.subscribe(self.topics, listener=_Listener(self))
        await self.consumer.start()
        self.started.set()
        try:
            if self.prefetch:
                await self._run_prefetching(stop)
            else:
                while not stop.is_set():
                    batch = await self._poll()
                    if batch is not None:
                        await self._handle(batch)
        except _Stopping:
            pass
        finally:
            await self.consumer.stop()

    async def _run_prefetching(self, stop: asyncio.Event) -> None:
        polled: asyncio.Queue[_Batch[T]] = asyncio.Queue(maxsize=1)

        async def read() -> None:
            while not stop.is_set():
                batch = await self._poll()
                if batch is not None:
                    await polled.put(batch)

        reader = asyncio.create_task(read())
        try:
            while not stop.is_set() and not reader.done():
                try:
                    batch = await asyncio.wait_for(polled.get(), timeout=self.poll_ms / 1000)
                except TimeoutError:
                    continue
                await self._handle(batch)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader  # raises the reader's own failure, if that ended the loop

    async def _poll(self) -> _Batch[T] | None:
        polled: dict[TopicPartition, list[ConsumerRecord]] = await self.consumer.getmany(
            timeout_ms=self.poll_ms, max_records=self.max_records
        )
        if not polled:
            return None
        records = [
            Record(tp.topic, tp.partition, m.offset, m.key, m.value or b"")
            for tp, messages in polled.items()
            for m in messages
        ]
        items: list[T | _Unprepared] = []
        clean = True
        prepare = self.handler.prepare
        for record in records:
            try:
                items.append(prepare(record))
            except Exception as exc:  # noqa: BLE001 (poison: dead-lettered in order by _handle)
                items.append(_Unprepared(exc))
                clean = False
        positions = {tp: messages[-1].offset + 1 for tp, messages in polled.items()}
        return _Batch(records, items, positions, clean)

    async def _handle(self, batch: _Batch[T]) -> None:
        self._state.idle.clear()
        try:
            indices = list(range(len(batch.records)))

            async def attempt(part: Sequence[int]) -> None:
                await self._retrying(lambda: self._process(batch, part), len(part))

            async def poison(index: int, exc: Exception) -> None:
                await self._poison(batch.records[index], exc)

            try:
                await isolate(indices, attempt, poison, (_Stopping, Rewound))
            except Rewound:
                return
            await self._retrying(lambda: self.handler.done(self.consumer, batch.positions), 0)
            self._report_lag(batch.positions)
        finally:
            self._state.idle.set()

    async def _process(self, batch: _Batch[T], part: Sequence[int]) -> None:
        if batch.clean and len(part) == len(batch.items):
            await self.handler.process(cast("list[T]", batch.items))  # clean: all are T
            return
        items: list[T] = []
        for i in part:
            item = batch.items[i]
            if isinstance(item, _Unprepared):
                raise item.error
            items.append(item)
        await self.handler.process(items)

    async def _poison(self, record: Record, exc: Exception) -> None:
        what = f"{record.topic}[{record.partition}]@{record.offset}"
        letter = await self._retrying(lambda: self.dead_letters.send(record, exc), 1)
        log.error("dead-lettered %s (letter %s): %s", what, letter.letter_id, letter.reason)
        self.observers.dead_lettered(label(exc))
        await self._retrying(lambda: self.handler.skipped(record), 1)

    async def _retrying(self, work: Callable[[], Any], size: int) -> Any:
        """Run `work` until it succeeds or fails deterministically; transient failures are
        retried after a backoff, for as long as they last (until the loop stops)."""
        failures = 0
        while True:
            try:
                return await work()
            except (Rewound, _Stopping):
                raise
            except Exception as exc:
                if self._state.stop.is_set():
                    raise _Stopping from exc  # e.g. a job cancelled by the stop itself
                if not is_transient(exc):
                    if size > 1:
                        log.warning("%d messages failed (%s); isolating", size, reason(exc))
                    raise
                delay = self.backoff.delay(failures)
                failures += 1
                self.observers.retried(label(exc))
                log.warning(
                    "transient failure #%d (%s); retrying in %.1f s", failures, reason(exc), delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._state.stop.wait(), delay)
                if self._state.stop.is_set():
                    raise _Stopping from exc

    def _report_lag(self, positions: Mapping[TopicPartition, int]) -> None:
        for tp, position in positions.items():
            high = self.consumer.highwater(tp)
            if high is not None:
                self.observers.lag(tp, max(0, high - position))
