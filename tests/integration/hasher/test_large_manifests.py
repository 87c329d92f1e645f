"""A checkpoint of many thousands of files, end to end: its `hash.computed` (one path, size
and SHA-256 per file) is several times Kafka's default 1 MB message limit, and still goes
from the pool through the canonical topic into lineage's event store, whole."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from cognify_events import HashComputed, HashTarget, decode
from cognify_events.topics import Topic
from cognify_hashing import scan_checkpoint
from cognify_kafka import MAX_MESSAGE_BYTES, KafkaSettings, ensure_topics

from tests.integration.lineage.harness import eventually, stack

from .harness import all_answered, collect, job, results_for, running, send_jobs, settings_for

pytestmark = pytest.mark.integration

FILES = 20_000
KAFKA_DEFAULT_LIMIT = 1_048_588  # the broker's message.max.bytes out of the box


def _many_small_files(directory: Path, count: int) -> dict[str, str]:
    """A checkpoint directory of `count` small files; returns path -> SHA-256 hex."""
    expected = {}
    for i in range(count):
        rel = f"optimizer-shards/rank-{i % 8:02d}/part-{i // 1000:03d}/tensor-{i:06d}.bin"
        data = f"{i}:{uuid.uuid4().hex}\n".encode()
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[rel] = hashlib.sha256(data).hexdigest()
    return expected


async def test_a_manifest_of_many_thousands_of_files_reaches_lineage_whole(
    root: Path, kafka: KafkaSettings
) -> None:
    checkpoint = root / "checkpoint-500"
    expected = _many_small_files(checkpoint, FILES)
    async with stack(kafka, ingest=False) as lineage:
        # The hasher on the same topics as lineage; the default chunking (2,000 files a
        # chunk) splits the job, so chunk results are combined before the big result.
        settings = settings_for(lineage.prefix, [root])
        request = job(HashTarget.CHECKPOINT, str(checkpoint))
        job_id = request.payload.job_id
        async with running(settings):
            await send_jobs(kafka, settings.topics.jobs, [request])
            events = await collect(
                kafka, settings.topics.events, all_answered({job_id}), timeout_s=180
            )
        (result,) = results_for(events, {job_id})[job_id]
        assert result["type"] == "hash.computed", result["payload"].get("reason")
        files = result["payload"]["files"]
        assert len(files) == FILES
        assert {f["path"]: f["sha256"] for f in files} == expected
        assert result["payload"]["hash"] == scan_checkpoint(checkpoint).checkpoint_hash
        size = len(json.dumps(result, separators=(",", ":")).encode())
        assert size > 2 * KAFKA_DEFAULT_LIMIT, f"only {size:,} bytes: not a large message"

        # Lineage stored the event as received (its hash chain covers those bytes).
        body = await eventually(
            lambda: lineage.pool.fetchval(
                "SELECT body FROM events WHERE type = 'hash.computed' AND run_id = $1",
                request.run_id,
            ),
            "lineage to store the hash.computed event",
            timeout=60,
        )
        stored = decode(bytes(body))
        assert isinstance(stored, HashComputed)
        assert len(stored.payload.files) == FILES
        assert {f.path: f.sha256 for f in stored.payload.files} == expected
        node_hash = await lineage.pool.fetchval(
            "SELECT hash FROM lineage_nodes WHERE run_id = $1 AND node_id = $2",
            request.run_id,
            request.payload.target_id,
        )
        assert node_hash == result["payload"]["hash"]


async def test_ensure_topics_raises_the_message_limit_of_existing_topics(
    kafka: KafkaSettings, topic_prefix: str
) -> None:
    """Topics made before the limit existed (or by hand) get it; their overrides stay."""
    name = f"{topic_prefix}limits"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, 1, 1, topic_configs={"retention.ms": "86400000"})]
        )

        async def config() -> dict[str, str]:
            (response,) = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name)]
            )
            return {e[0]: e[1] for e in response.resources[0][4]}

        before = await eventually(config, "the new topic's configuration")
        assert int(before["max.message.bytes"]) < MAX_MESSAGE_BYTES
        assert await ensure_topics(kafka, [Topic(name, 1, "test")]) == []
        after = await config()
        assert after["max.message.bytes"] == str(MAX_MESSAGE_BYTES)
        assert after["retention.ms"] == "86400000"
        await asyncio.wait_for(ensure_topics(kafka, [Topic(name, 1, "test")]), 30)  # no-op
    finally:
        await admin.close()
