"""Running hasher workers against the real Kafka, on topics and groups of the test's own.

Every test gets a unique topic prefix (so a consumer group starting from the beginning of
its jobs topic sees only that test's jobs) and unique job ids; waits are on conditions
with deadlines, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from cognify_events import (
    HashChunkRequested,
    HashJobRequested,
    HashJobRequestedPayload,
    HashTarget,
    Producer,
    ProducerKind,
    encode,
)
from cognify_hasher.app import serve
from cognify_hasher.settings import Chunking, HasherSettings, Topics
from cognify_kafka import KafkaSettings, producer

ROOT = Path(__file__).resolve().parents[3]
INGEST = Producer(kind=ProducerKind.INGEST, id="test-ingest:1", version="0")


def settings_for(prefix: str, roots: list[Path], s3: str = "", **chunking: int) -> HasherSettings:
    """Settings of a test's own; its roots are granted to every workspace (tenancy's own
    tests grant per workspace)."""
    return HasherSettings(
        topics=Topics.prefixed(prefix),
        group_id=f"{prefix}hasher",
        combine_group_id=f"{prefix}combine",
        roots=f"*={','.join(map(str, roots))}" if roots else "",
        s3=s3,
        chunking=Chunking(**chunking) if chunking else Chunking(),
        progress_interval_s=0.05,
        retry_backoff_s=0.2,
        session_timeout_ms=6_000,
        metrics_port=0,
    )


def job(
    target: HashTarget, uri: str, run_id: str | None = None, workspace: str = "ws-hasher-tests"
) -> HashJobRequested:
    unique = uuid.uuid4().hex[:12]
    return HashJobRequested(
        workspace_id=workspace,
        project="hasher-tests",
        run_id=run_id or f"run-{unique}",
        producer=INGEST,
        payload=HashJobRequestedPayload(
            job_id=f"job-{unique}",
            target=target,
            target_id=f"{target.value}-{unique}",
            source_uri=uri,
        ),
    )


async def send_jobs(
    kafka: KafkaSettings, topic: str, jobs: Sequence[HashJobRequested | HashChunkRequested]
) -> None:
    prod = producer(kafka)
    await prod.start()
    try:
        futures = [await prod.send(topic, encode(j), key=j.payload.job_id.encode()) for j in jobs]
        await asyncio.gather(*futures)
    finally:
        await prod.stop()


@contextlib.asynccontextmanager
async def running(settings: HasherSettings) -> AsyncIterator[HasherSettings]:
    """One in-process worker (job worker and combiner) for the duration of the block."""
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    assert ready.is_set(), "the hasher did not start within 60 s"
    try:
        yield settings
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def collect(
    kafka: KafkaSettings,
    topic: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout_s: float = 60.0,
) -> list[dict[str, Any]]:
    """Every event on `topic` from its beginning, until `done(events)` or the deadline."""
    cons = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await cons.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout_s
        while not done(found):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out on {topic}; got {[e.get('type') for e in found]}"
            batches = await cons.getmany(timeout_ms=int(min(remaining, 0.5) * 1000))
            for messages in batches.values():
                found.extend(json.loads(m.value) for m in messages if m.value)
    finally:
        await cons.stop()
    return found


def results_for(events: list[dict[str, Any]], job_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {j: [] for j in job_ids}
    for e in events:
        if e.get("type") in ("hash.computed", "hash.failed") and e["payload"]["job_id"] in out:
            out[e["payload"]["job_id"]].append(e)
    return out


def all_answered(job_ids: set[str]) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: all(results_for(events, job_ids).values())


def worker_process(
    settings: HasherSettings, log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`python -m cognify_hasher` configured through the environment, as ops run it."""
    env = {
        **os.environ,
        "COGNIFY_KAFKA_BOOTSTRAP": settings.kafka.bootstrap_servers,
        "COGNIFY_TOPIC_PREFIX": settings.topics.jobs.removesuffix("cognify.hash.jobs"),
        "COGNIFY_HASHER_GROUP": settings.group_id,
        "COGNIFY_HASHER_COMBINE_GROUP": settings.combine_group_id,
        "COGNIFY_HASHER_ROOTS": settings.roots,
        "COGNIFY_HASHER_S3": settings.s3,
        "COGNIFY_HASHER_CHUNK_RECORDS": str(settings.chunking.records),
        "COGNIFY_HASHER_CHUNK_BYTES": str(settings.chunking.bytes),
        "COGNIFY_HASHER_CHUNK_FILES": str(settings.chunking.files),
        "COGNIFY_HASHER_PROGRESS_INTERVAL_S": str(settings.progress_interval_s),
        "COGNIFY_HASHER_SESSION_TIMEOUT_MS": str(settings.session_timeout_ms),
        "COGNIFY_HASHER_METRICS_PORT": "0",
        **(extra_env or {}),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cognify_hasher"], env=env, stdout=out, stderr=out, cwd=ROOT
        )


def with_chunking(settings: HasherSettings, **chunking: int) -> HasherSettings:
    return replace(settings, chunking=Chunking(**chunking))
