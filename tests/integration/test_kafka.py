"""Kafka, for real: the idempotent producer and a consumer group, on the stack's broker."""

from __future__ import annotations

import asyncio

import cognify_events as ev
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cognify_events.codec import decode, encode
from cognify_kafka import (
    KafkaSettings,
    consumer,
    delete_topics,
    producer,
    send_all,
)
from cognify_kafka.batches import Message

from tests.integration.scratch import names, new_prefix
from tests.unit.events.samples import all_samples


async def _fresh_topic(kafka: KafkaSettings, name: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def test_delete_topics_deletes_every_topic_under_the_prefix_and_nothing_else(
    kafka: KafkaSettings, topic_prefix: str
) -> None:
    neighbour = new_prefix()
    mine = [f"{topic_prefix}a", f"{topic_prefix}b.c"]
    try:
        for name in [*mine, f"{neighbour}a"]:
            await _fresh_topic(kafka, name, partitions=1)
        assert await delete_topics(kafka, topic_prefix) == mine
        async with asyncio.timeout(30):
            while (left := await names(kafka)) & set(mine):
                await asyncio.sleep(0.2)
        assert f"{neighbour}a" in left and "cognify.events" in left
    finally:
        await delete_topics(kafka, neighbour)


@pytest.mark.parametrize("prefix", ["", "cognify.", "cog", "cognify.events"])
async def test_delete_topics_refuses_a_prefix_of_cognifys_own_topics(
    kafka: KafkaSettings, prefix: str
) -> None:
    with pytest.raises(ValueError, match="Cognify's own are there"):
        await delete_topics(kafka, prefix)
    assert "cognify.events" in await names(kafka)


async def test_events_from_the_idempotent_producer_reach_a_consumer_group_in_order(
    kafka: KafkaSettings, unique: str, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}topic"
    await _fresh_topic(kafka, topic)
    events = all_samples()[:10]
    prod = producer(kafka)
    await prod.start()
    try:
        for event in events:
            await prod.send_and_wait(topic, encode(event), key=ev.partition_key(event))
    finally:
        await prod.stop()

    group = consumer(kafka, topic, group_id=f"group-{unique}")
    await group.start()
    received: list[ev.EventBase] = []
    try:
        async with asyncio.timeout(60):
            while len(received) < len(events):
                batches = await group.getmany(timeout_ms=1_000)
                for messages in batches.values():
                    received.extend(decode(m.value) for m in messages if m.value)
        await group.commit()
        committed = {tp: await group.committed(tp) for tp in group.assignment()}
    finally:
        await group.stop()

    # One run, one key, one partition: order is preserved and nothing is doubled.
    assert [e.event_id for e in received] == [e.event_id for e in events]
    assert sum(offset or 0 for offset in committed.values()) == len(events)


async def test_a_second_member_of_the_group_resumes_after_the_committed_position(
    kafka: KafkaSettings, unique: str, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}topic"
    await _fresh_topic(kafka, topic, partitions=1)
    prod = producer(kafka)
    await prod.start()
    try:
        for i in range(6):
            await prod.send_and_wait(topic, f"m{i}".encode(), key=b"k")
    finally:
        await prod.stop()

    async def take(n: int, commit: bool) -> list[bytes]:
        member = consumer(kafka, topic, group_id=f"group-{unique}", max_poll_records=n)
        await member.start()
        got: list[bytes] = []
        try:
            async with asyncio.timeout(60):
                while len(got) < n:
                    batches = await member.getmany(timeout_ms=1_000, max_records=n - len(got))
                    got.extend(m.value for ms in batches.values() for m in ms if m.value)
            if commit:
                await member.commit()
        finally:
            await member.stop()
        return got

    assert await take(3, commit=True) == [b"m0", b"m1", b"m2"]
    # Nothing was auto-committed beyond what we committed explicitly.
    assert await take(3, commit=False) == [b"m3", b"m4", b"m5"]
    assert await take(3, commit=False) == [b"m3", b"m4", b"m5"]


async def test_send_all_lands_every_message_once_in_order_where_send_would_put_it(
    kafka: KafkaSettings, unique: str, topic_prefix: str
) -> None:
    """One record batch per partition (and more when one fills up), same partitions as the
    default partitioner, per-partition order kept, keyless messages spread round robin."""
    topic = f"{topic_prefix}topic"
    await _fresh_topic(kafka, topic, partitions=4)
    keys = [f"run-{i}".encode() for i in range(9)]
    # ~3 MB: several 1 MB batches for some partitions.
    messages: list[Message] = [
        (topic, keys[i % 9], f"{i:06d}".encode() * 5_000) for i in range(100)
    ]
    messages += [(topic, None, f"keyless-{i}".encode()) for i in range(8)]
    prod = producer(kafka)
    await prod.start()
    try:
        await send_all(prod, messages)
        # Where the producer's own partitioner sends each key, for comparison.
        expected = {
            key: (await prod.send_and_wait(topic, b"probe", key=key)).partition for key in keys
        }
    finally:
        await prod.stop()

    group = consumer(kafka, topic, group_id=f"group-{unique}")
    await group.start()
    got: dict[int, list[tuple[bytes | None, bytes]]] = {}
    try:
        while sum(len(v) for v in got.values()) < len(messages) + len(keys):
            for tp, records in (await group.getmany(timeout_ms=2000)).items():
                got.setdefault(tp.partition, []).extend((r.key, r.value or b"") for r in records)
    finally:
        await group.stop()
    for partition, items in got.items():
        sent = [(k, v) for _, k, v in messages if k is not None and expected[k] == partition]
        keyed = [(k, v) for k, v in items if k is not None and v != b"probe"]
        assert keyed == sent, f"partition {partition}: order or content differs"
    keyless = sorted(v for items in got.values() for k, v in items if k is None)
    assert keyless == sorted(v for _, k, v in messages if k is None)
    assert len({p for p, items in got.items() if any(k is None for k, _ in items)}) == 4
