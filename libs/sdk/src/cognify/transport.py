"""The transport port: how encoded events leave the machine.

An adapter implements three coroutines. `start` connects (raising when the broker cannot be
reached), `send` delivers one ordered batch of (key, value) records and returns only when
every record is acknowledged (raising otherwise: the caller resends from its spool), `stop`
releases resources. The Kafka adapter below is the production one; tests may pass another
through `cognify.init(transport=...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from cognify_events.codec import MAX_EVENT_BYTES
from cognify_events.topics import RAW

# During a broker outage aiokafka logs every failed connection attempt; the SDK reports the
# outage once itself. Users who configured aiokafka's logger keep their setting.
_aiokafka_log = logging.getLogger("aiokafka")
if _aiokafka_log.level == logging.NOTSET:
    _aiokafka_log.setLevel(logging.CRITICAL)


_PARTITIONER = DefaultPartitioner()


class Transport(Protocol):
    async def start(self) -> None: ...
    async def send(self, records: list[tuple[bytes, bytes]]) -> None: ...
    async def stop(self) -> None: ...


class KafkaTransport:
    """Idempotent, acks=all producer onto the raw topic (aiokafka's defaults are neither)."""

    def __init__(
        self,
        bootstrap: str,
        timeout_s: float,
        topic: str = RAW.name,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="cognify-sdk",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,  # ~400 events per produce; the broker takes 1 MiB
            max_request_size=MAX_EVENT_BYTES + 65_536,  # one event and its batch framing
            request_timeout_ms=int(timeout_s * 1000),
            retry_backoff_ms=200,
        )

    async def start(self) -> None:
        await asyncio.wait_for(self._producer.start(), self.connect_timeout_s)

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        # One produce per record batch, not per event: records are appended to aiokafka's
        # batch builders (one per partition, in order) and each builder is handed over whole,
        # which costs the publisher thread a fraction of a `send` per event. The partition is
        # the one `send` would pick for the key (the default murmur2 partitioner), so a
        # run's events stay in one partition, in order.
        # No timeout of our own: the producer retries (same producer id and sequence
        # numbers, so the broker deduplicates) until its request timeout expires.
        partitions = sorted(await self._producer.partitions_for(self.topic))
        futures = []
        open_batches: dict[int, Any] = {}
        for key, value in records:
            partition = _PARTITIONER(key, partitions, partitions)
            batch = open_batches.get(partition)
            if batch is None or batch.append(key=key, value=value, timestamp=None) is None:
                if batch is not None:  # full: hand it over, start the next one
                    futures.append(await self._send_batch(batch, partition))
                batch = open_batches[partition] = self._producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)  # a first record always fits
        for partition, batch in open_batches.items():
            futures.append(await self._send_batch(batch, partition))
        await asyncio.gather(*futures)

    async def _send_batch(self, batch: Any, partition: int) -> Any:
        return await self._producer.send_batch(batch, self.topic, partition=partition)

    async def stop(self) -> None:
        # A broker that is gone cannot be told goodbye; the spool keeps the rest. (Before
        # 3.11 asyncio.TimeoutError is not the builtin TimeoutError.)
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError, OSError):
            await asyncio.wait_for(self._producer.stop(), self.connect_timeout_s)
