"""The shared consume loop against the real broker: a poison message goes alone to the
dead-letter topic, an outage is waited out, and a message dead-lettered twice is one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from cognify_events import DeadLetter
from cognify_events.deadletter import letter_id
from cognify_events.topics import Topic
from cognify_kafka import (
    Backoff,
    ConsumeLoop,
    DeadLetters,
    Handler,
    KafkaSettings,
    Observers,
    Record,
    consumer,
    ensure_topics,
    producer,
)

from tests.integration.lineage.harness import eventually

FAST = Backoff(first=0.05, factor=2.0, cap=0.2)


class Values(Handler[Record]):
    """Processes a slice all or nothing (like one transaction): fails on any poison value,
    and on the first `outages` attempts with a ConnectionError."""

    def __init__(self, outages: int = 0, commit: bool = True) -> None:
        self.outages = outages
        self.commit = commit
        self.processed: list[bytes] = []
        self.attempts = 0

    async def process(self, items: Sequence[Record]) -> None:
        self.attempts += 1
        if self.outages:
            self.outages -= 1
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5433)")
        for item in items:
            if item.value.startswith(b"poison"):
                raise ValueError(f"cannot store {item.value.decode()}")
        self.processed.extend(item.value for item in items)

    async def done(
        self, consumer: AIOKafkaConsumer, positions: Mapping[TopicPartition, int]
    ) -> None:
        if self.commit:  # else: as if the process died after the dead letter, before this
            await super().done(consumer, positions)


async def _topics(kafka: KafkaSettings, prefix: str) -> tuple[str, str]:
    source, dlq = f"{prefix}source", f"{prefix}dlq"
    await ensure_topics(kafka, [Topic(source, 1, "test"), Topic(dlq, 1, "test")])
    return source, dlq


async def _send(kafka: KafkaSettings, topic: str, values: list[bytes]) -> None:
    prod = producer(kafka)
    await prod.start()
    try:
        await asyncio.gather(*[await prod.send(topic, v, key=b"k") for v in values])
    finally:
        await prod.stop()


async def _read(kafka: KafkaSettings, topic: str) -> list[tuple[bytes | None, bytes]]:
    cons = consumer(kafka, group_id=None)
    await cons.start()
    try:
        tp = TopicPartition(topic, 0)
        cons.assign([tp])
        await cons.seek_to_beginning(tp)
        end = (await cons.end_offsets([tp]))[tp]
        out: list[tuple[bytes | None, bytes]] = []
        while await cons.position(tp) < end:
            batch = await cons.getmany(timeout_ms=500)
            out += [(m.key, m.value or b"") for ms in batch.values() for m in ms]
        return out
    finally:
        await cons.stop()


async def _committed(kafka: KafkaSettings, topic: str, group: str) -> int | None:
    cons = consumer(kafka, group_id=group)
    await cons.start()
    try:
        committed: int | None = await cons.committed(TopicPartition(topic, 0))
        return committed
    finally:
        await cons.stop()


async def _run_until(
    kafka: KafkaSettings,
    source: str,
    dlq: str,
    group: str,
    handler: Values,
    done: int,
    observers: Observers | None = None,
) -> None:
    """Run a loop until `handler` has processed `done` values (and its batch is done)."""
    prod = producer(kafka)
    await prod.start()
    stop = asyncio.Event()
    loop = ConsumeLoop(
        consumer(kafka, group_id=group),
        [source],
        handler,
        DeadLetters(prod, dlq, "test"),
        max_records=500,
        observers=observers,
        backoff=FAST,
    )
    task = asyncio.create_task(loop.run(stop))
    try:
        await eventually(
            lambda: _finished(task, handler, done), f"{done} values processed", timeout=60
        )
        await asyncio.sleep(0.5)  # the batch's `done` (commit) follows its last process
    finally:
        stop.set()
        await task
        await prod.stop()


async def _finished(task: asyncio.Task[None], handler: Values, done: int) -> bool:
    if task.done():
        task.result()
        raise AssertionError("the loop ended by itself")
    return len(handler.processed) >= done


async def test_a_poison_message_in_the_middle_of_a_batch_goes_alone_to_the_dead_letter_topic(
    kafka: KafkaSettings, topic_prefix: str
) -> None:
    source, dlq = await _topics(kafka, topic_prefix)
    values = [f"m{i}".encode() for i in range(40)]
    values[23] = b"poison-23"
    await _send(kafka, source, values)
    dead: list[str] = []
    handler = Values()
    group = f"{topic_prefix}group"
    await _run_until(kafka, source, dlq, group, handler, 39, Observers(dead_lettered=dead.append))

    assert handler.processed == [v for v in values if v != b"poison-23"]  # in order
    letters = await _read(kafka, dlq)
    assert len(letters) == 1
    key, body = letters[0]
    letter = DeadLetter.model_validate_json(body)
    assert letter.reason == "ValueError: cannot store poison-23"
    assert letter.original == b"poison-23"
    assert (letter.source_topic, letter.partition, letter.offset) == (source, 0, 23)
    assert letter.rejected_by == "test"
    assert letter.letter_id == letter_id(source, 0, 23) and key == letter.letter_id.encode()
    assert dead == ["ValueError"]
    assert await _committed(kafka, source, group) == 40  # the partition moved on past it


async def test_an_outage_is_retried_until_it_passes_and_nothing_is_dead_lettered(
    kafka: KafkaSettings, topic_prefix: str
) -> None:
    source, dlq = await _topics(kafka, topic_prefix)
    values = [f"m{i}".encode() for i in range(10)]
    await _send(kafka, source, values)
    retried: list[str] = []
    handler = Values(outages=3)
    group = f"{topic_prefix}group"
    await _run_until(kafka, source, dlq, group, handler, 10, Observers(retried=retried.append))

    assert handler.processed == values
    assert retried == ["ConnectionRefusedError"] * 3
    assert handler.attempts == 4  # the same batch, whole, each time: never split
    assert await _read(kafka, dlq) == []
    assert await _committed(kafka, source, group) == 10


async def test_a_message_dead_lettered_again_after_a_crash_is_recognisably_the_same(
    kafka: KafkaSettings, topic_prefix: str
) -> None:
    source, dlq = await _topics(kafka, topic_prefix)
    await _send(kafka, source, [b"m0", b"poison-1", b"m2"])
    group = f"{topic_prefix}group"
    # First worker: dead-letters the poison, then "dies" before storing the position.
    await _run_until(kafka, source, dlq, group, Values(commit=False), 2)
    assert await _committed(kafka, source, group) is None
    # Its successor reads the same messages again and dead-letters the poison again.
    await _run_until(kafka, source, dlq, group, Values(), 2)

    letters = [(k, DeadLetter.model_validate_json(v)) for k, v in await _read(kafka, dlq)]
    assert len(letters) == 2
    (k1, first), (k2, second) = letters
    assert first.letter_id == second.letter_id == letter_id(source, 0, 1)
    assert k1 == k2 == first.letter_id.encode()
    assert json.loads(first.model_dump_json())["reason"] == second.reason
    assert await _committed(kafka, source, group) == 3
