"""Topic creation and a readiness probe that proves the broker really works."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from cognify_events.topics import ALL_TOPICS, Topic

from .settings import KafkaSettings, consumer, producer


async def ensure_topics(settings: KafkaSettings, topics: Iterable[Topic] = ALL_TOPICS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t.name not in existing]
        if wanted:
            # Another process may create one between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(t.name, num_partitions=t.partitions, replication_factor=1)
                        for t in wanted
                    ]
                )
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def round_trip(settings: KafkaSettings, topic: str, timeout_s: float = 30.0) -> None:
    """Produce one message with the idempotent producer and read it back.

    Raises TimeoutError when the message does not come back in time."""
    marker = uuid.uuid4().hex.encode()
    prod = producer(settings)
    await prod.start()
    try:
        meta = await prod.send_and_wait(topic, marker, key=b"readiness")
    finally:
        await prod.stop()
    cons = consumer(settings, group_id=None)
    await cons.start()
    try:
        tp = TopicPartition(topic, meta.partition)
        cons.assign([tp])
        cons.seek(tp, meta.offset)
        async with asyncio.timeout(timeout_s):
            while True:
                batch = await cons.getmany(tp, timeout_ms=1_000)
                if any(m.value == marker for m in batch.get(tp, [])):
                    return
    finally:
        await cons.stop()
