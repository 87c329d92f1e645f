"""Benchmark: what the shared consume loop itself costs per message, without any I/O.

    .venv/bin/python bench/consume_loop.py [--messages 200000] [--batch 500]

An in-memory consumer hands the loop poll batches of --batch records; the handler does
nothing. The figure is the loop's own work per message (records built, prepare, the batch
attempted through isolate and _retrying, done, lag): compare it with the pipeline's cost per
event (bench/pipeline.py: ~150-300 µs of CPU per event through ingest and lineage on the
2-core machines), and with a hand-written loop that only builds the records and commits.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from cognify_kafka import ConsumeLoop, DeadLetters, Handler, Observers, Record

TP = TopicPartition("cognify.events", 0)


class Consumer:
    """Just enough of AIOKafkaConsumer: `batches` poll batches, then it sets `drained`."""

    def __init__(self, batches: list[list[Any]], drained: asyncio.Event) -> None:
        self.batches, self.drained = batches, drained

    def subscribe(self, topics: list[str], listener: Any) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:
        if not self.batches:
            self.drained.set()
            await asyncio.sleep(0.001)
            return {}
        return {TP: self.batches.pop()}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        pass

    def highwater(self, tp: TopicPartition) -> int:
        return 0


class Nothing(Handler[Record]):
    async def process(self, items: Sequence[Record]) -> None:
        pass


def batches(n: int, size: int) -> list[list[Any]]:
    value = b'{"type": "metrics.logged"}' * 10
    records = [
        ConsumerRecord(TP.topic, 0, i, 0, 0, b"k", value, None, 1, 260, ()) for i in range(n)
    ]
    return [records[i : i + size] for i in range(0, n, size)][::-1]


async def shared(n: int, size: int) -> float:
    drained = asyncio.Event()
    cons: Any = Consumer(batches(n, size), drained)
    producer: Any = None
    lags: list[int] = []
    loop = ConsumeLoop(
        cons,
        ["t"],
        Nothing(),
        DeadLetters(producer, "dlq", "bench"),
        max_records=size,
        poll_ms=0,
        observers=Observers(lag=lambda tp, lag: lags.append(lag)),
    )
    loop_stop = asyncio.Event()
    t = time.perf_counter()
    task = asyncio.create_task(loop.run(loop_stop))
    await drained.wait()
    elapsed = time.perf_counter() - t
    loop_stop.set()
    await task
    return elapsed


async def by_hand(n: int, size: int) -> float:
    """The shape of the services' former loops: records in, one call, one commit."""
    polled = batches(n, size)
    handler = Nothing()
    t = time.perf_counter()
    while polled:
        records = polled.pop()
        items = [Record(TP.topic, TP.partition, m.offset, m.key, m.value) for m in records]
        await handler.process(items)
        _ = {TP: records[-1].offset + 1}
    return time.perf_counter() - t


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    n, size = args.messages, args.batch
    results: dict[str, list[float]] = {"shared loop": [], "by hand": []}
    for _ in range(5):  # interleaved, best of five: the machine is shared
        results["shared loop"].append(await shared(n, size))
        results["by hand"].append(await by_hand(n, size))
    for name, times in results.items():
        best = min(times)
        print(f"{name}: {best / n * 1e6:.2f} µs per message ({n:,} in batches of {size})")
    extra = (min(results["shared loop"]) - min(results["by hand"])) / n * 1e6
    print(f"the shared loop's extra cost: {extra:.2f} µs per message")


if __name__ == "__main__":
    asyncio.run(main())
