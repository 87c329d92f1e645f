"""Topic creation and deletion, and a readiness probe that proves the broker really works."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code
from cognify_events.topics import ALL_TOPICS, Topic

from .settings import MAX_MESSAGE_BYTES, KafkaSettings, consumer, producer

log = logging.getLogger(__name__)

# Per-topic settings every Cognify topic gets, whatever the broker's defaults.
TOPIC_CONFIG = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a per-topic override

# Topics of a test's or a benchmark's own start with this; `deploy/stack prune` deletes
# those that an interrupted run left behind (every partition costs the broker start time).
SCRATCH_PREFIX = "scratch-"
_DELETE_BATCH = 200  # topics per DeleteTopics request: thousands at once time out


def scratch_prefix(owner: str) -> str:
    """A fresh topic prefix `scratch-<owner>-<10 hex>.` for one test or benchmark run."""
    return f"{SCRATCH_PREFIX}{owner}-{uuid.uuid4().hex[:10]}."


async def delete_topics(settings: KafkaSettings, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix`; returns the names deleted.

    A prefix that Cognify's own topics start with is refused: this is for scratch topics."""
    if not prefix or any(t.name.startswith(prefix) for t in ALL_TOPICS):
        raise ValueError(f"refusing to delete the topics under {prefix!r}: Cognify's own are there")
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        names = sorted(n for n in await admin.list_topics() if n.startswith(prefix))
        for i in range(0, len(names), _DELETE_BATCH):
            response = await admin.delete_topics(names[i : i + _DELETE_BATCH])
            for name, error in response.topic_error_codes:
                # Another process may delete one between our list and our delete.
                if error and error != UnknownTopicOrPartitionError.errno:
                    raise for_code(error)(f"deleting topic {name}")
        return names
    finally:
        await admin.close()


async def ensure_topics(settings: KafkaSettings, topics: Iterable[Topic] = ALL_TOPICS) -> list[str]:
    """Create the topics that do not exist yet, with `TOPIC_CONFIG`, and raise the message
    size limit of those that exist with a smaller one; returns the names created."""
    topics = list(topics)
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
                        NewTopic(
                            t.name,
                            num_partitions=t.partitions,
                            replication_factor=1,
                            topic_configs=TOPIC_CONFIG,
                        )
                        for t in wanted
                    ]
                )
        await _raise_message_limit(admin, [t.name for t in topics if t.name in existing])
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def _raise_message_limit(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Give existing topics (created before the limit was set, or by hand) Cognify's
    `max.message.bytes` when theirs is smaller. AlterConfigs replaces a topic's whole set of
    overrides, so the overrides it already has are sent along unchanged."""
    if not names:
        return
    key = "max.message.bytes"
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    changes = []
    for response in await admin.describe_configs(resources):
        for error, message, _, name, entries in response.resources:
            if error:
                raise for_code(error)(f"describing topic {name}: {message}")
            current = {e[0]: e[1] for e in entries}
            if key not in current or int(current[key]) >= MAX_MESSAGE_BYTES:
                continue  # not described yet (created this instant), or large enough
            overrides = _overrides(response.API_VERSION, entries)
            if overrides is None:
                log.warning("topic %s has secret overrides: %s left at %s", name, key, current[key])
                continue
            changes.append(ConfigResource(ConfigResourceType.TOPIC, name, overrides | TOPIC_CONFIG))
    if changes:
        for response in await admin.alter_configs(changes):
            for error, message, _, name in response.resources:
                if error:
                    raise for_code(error)(f"raising {key} of topic {name}: {message}")
        log.info("raised %s of %s to %d", key, [c.name for c in changes], MAX_MESSAGE_BYTES)


def _overrides(version: int, entries: list[Any]) -> dict[str, str] | None:
    """A topic's own overrides (None when one of them is secret, so cannot be sent back)."""
    out = {}
    for name, value, _, source_or_default, sensitive, *_ in entries:
        # DescribeConfigs v0 says is_default; v1 and later say where the value comes from.
        own = not source_or_default if version == 0 else source_or_default == _DYNAMIC_TOPIC_CONFIG
        if own:
            if sensitive or value is None:
                return None
            out[name] = value
    return out


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
