"""Many messages at once: one record batch per partition instead of one `send` per message.

`AIOKafkaProducer.send` costs several microseconds of Python per message (partitioning by
murmur2, a future, a coroutine); a service forwarding thousands of events per poll spends
more there than on its own work. `send_all` picks partitions exactly as the producer's
default partitioner would (murmur2 of the key, cached per key), fills one `BatchBuilder` per
topic-partition in order, and waits for every batch's acknowledgement. Per-partition order
is the order of `messages`; the producer stays idempotent, so a retry after a broker error
neither loses nor doubles a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

__all__ = ["send_all"]

Message = tuple[str, bytes | None, bytes]  # topic, key, value


@lru_cache(maxsize=65_536)
def _partition_for(key: bytes, partitions: int) -> int:
    """The default partitioner's choice (Java's and aiokafka's): murmur2, positive, modulo."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


async def send_all(producer: AIOKafkaProducer, messages: Iterable[Message]) -> None:
    """Send `messages` and return once the broker has acknowledged all of them."""
    counts: dict[str, int] = {}
    unkeyed: dict[str, int] = {}
    builders: dict[tuple[str, int], Any] = {}  # aiokafka's BatchBuilder
    pending: list[asyncio.Future[Any]] = []
    for topic, key, value in messages:
        n = counts.get(topic)
        if n is None:
            n = counts[topic] = len(await producer.partitions_for(topic))
        if key is None:  # round robin, as the default partitioner does for unkeyed messages
            partition = unkeyed.get(topic, 0) % n
            unkeyed[topic] = partition + 1
        else:
            partition = _partition_for(key, n)
        builder = builders.get((topic, partition))
        if builder is None:
            builder = builders[(topic, partition)] = producer.create_batch()
        if builder.append(key=key, value=value, timestamp=None) is None:
            # Full: hand it over and start the next one (order kept, the accumulator queues
            # a partition's batches one after the other).
            pending.append(await producer.send_batch(builder, topic, partition=partition))
            builder = builders[(topic, partition)] = producer.create_batch()
            if builder.append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"a message of {len(value):,} bytes does not fit a batch")
    for (topic, partition), builder in builders.items():
        pending.append(await producer.send_batch(builder, topic, partition=partition))
    if pending:
        await asyncio.gather(*pending)
