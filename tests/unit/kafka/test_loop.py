"""The consume loop's decisions, with an in-memory consumer and producer (no sockets): the
order of dead letter, skip and commit; an outage waited out; a stop that leaves no trace."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from cognify_events import DeadLetter
from cognify_kafka import Backoff, ConsumeLoop, DeadLetters, Handler, Observers, Record

TOPIC = "cognify.events"
TP = TopicPartition(TOPIC, 0)


class FakeConsumer:
    def __init__(self, values: list[bytes]) -> None:
        self.pending = [
            ConsumerRecord(TOPIC, 0, i, 0, 0, None, v, None, 0, len(v), ())
            for i, v in enumerate(values)
        ]
        self.log: list[str] = []
        self.stopped = False

    def subscribe(self, topics: list[str], listener: Any) -> None:
        self.listener = listener

    async def start(self) -> None:
        await self.listener.on_partitions_assigned([TP])

    async def stop(self) -> None:
        self.stopped = True

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:
        if not self.pending:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        batch, self.pending = self.pending[:max_records], self.pending[max_records:]
        return {TP: batch}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.log.append(f"commit {offsets[TP]}")

    def highwater(self, tp: TopicPartition) -> int:
        return 10


class FakeProducer:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.letters: list[DeadLetter] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        letter = DeadLetter.model_validate_json(value)
        self.letters.append(letter)
        self.log.append(f"dead letter {letter.offset}")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class Values(Handler[Record]):
    def __init__(self, log: list[str], outages: int = 0) -> None:
        self.log = log
        self.outages = outages

    async def process(self, items: Sequence[Record]) -> None:
        if self.outages:
            self.outages -= 1
            raise TimeoutError("PostgreSQL did not answer")
        if any(i.value == b"poison" for i in items):
            raise ValueError("poison")
        self.log.append("processed " + ",".join(str(i.offset) for i in items))

    def prepare(self, record: Record) -> Record:
        if record.value == b"unparseable":
            raise RecursionError("maximum recursion depth exceeded")
        return record

    async def skipped(self, record: Record) -> None:
        self.log.append(f"skipped {record.offset}")


async def _run(values: list[bytes], handler_outages: int = 0, **observers: Any) -> FakeConsumer:
    cons = FakeConsumer(values)
    prod = FakeProducer(cons.log)
    loop = ConsumeLoop(
        cons,
        [TOPIC],
        Values(cons.log, handler_outages),
        DeadLetters(prod, "dlq", "test"),
        max_records=100,
        poll_ms=10,
        observers=Observers(**observers),
        backoff=Backoff(first=0.001, cap=0.004),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    while not any(line.startswith("commit") for line in cons.log) and not task.done():
        await asyncio.sleep(0.005)
    stop.set()
    await task
    assert cons.stopped  # start ... finally stop, whatever happened
    return cons


def test_the_dead_letter_is_acknowledged_before_its_skip_and_the_commit_comes_last() -> None:
    lags: list[int] = []
    cons = asyncio.run(_run([b"a", b"b", b"poison", b"d"], lag=lambda tp, n: lags.append(n)))
    assert cons.log == [
        "processed 0,1",
        "dead letter 2",
        "skipped 2",
        "processed 3",
        "commit 4",
    ]
    assert lags == [10 - 4]


def test_a_message_prepare_fails_on_is_dead_lettered_and_skipped_in_its_place() -> None:
    dead: list[str] = []
    cons = asyncio.run(_run([b"a", b"unparseable", b"c", b"d"], dead_lettered=dead.append))
    # Its position is stored before the messages behind it are processed (lineage's stored
    # offsets must stay contiguous).
    assert cons.log == ["processed 0", "dead letter 1", "skipped 1", "processed 2,3", "commit 4"]
    assert dead == ["RecursionError"]


def test_an_outage_is_retried_in_place_with_backoff_and_never_split() -> None:
    retried: list[str] = []
    cons = asyncio.run(_run([b"a", b"b", b"c"], 5, retried=retried.append))
    assert cons.log == ["processed 0,1,2", "commit 3"]
    assert retried == ["TimeoutError"] * 5


@pytest.mark.parametrize("delay", [0.0, 0.02])
def test_stopping_during_an_outage_dead_letters_and_commits_nothing(delay: float) -> None:
    async def scenario() -> FakeConsumer:
        cons = FakeConsumer([b"a", b"poison"])
        prod = FakeProducer(cons.log)
        loop = ConsumeLoop(
            cons,
            [TOPIC],
            Values(cons.log, outages=10**9),
            DeadLetters(prod, "dlq", "test"),
            max_records=100,
            poll_ms=10,
            backoff=Backoff(first=0.01, cap=0.01),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(loop.run(stop))
        await asyncio.sleep(0.05 + delay)
        stop.set()
        await asyncio.wait_for(task, 5)
        return cons

    cons = asyncio.run(scenario())
    assert cons.log == [] and cons.stopped
