"""Exactly-once: lineage killed with SIGKILL while folding still folds every event once."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import cognify_events as ev
from aiokafka import TopicPartition
from cognify_kafka import KafkaSettings, consumer, producer
from cognify_lineage import chain, dag, projection
from cognify_lineage.postgres import Pool, chain_rows, create_pool

from tests.unit.lineage.script import Script, root

from .harness import eventually, free_port, fresh_database, own_topics

ROOT = Path(__file__).resolve().parents[3]
RUNS, METRICS_PER_RUN = 6, 480


def workload(workspace: str) -> list[ev.Event]:
    """A few thousand events of six runs, interleaved as concurrent runs would send them."""
    per_run = []
    for i in range(RUNS):
        s = Script(workspace, f"run-{workspace}-{i}")
        events: list[ev.Event] = [
            s.started(),
            s.config(),
            s.dataset(f"ds-{i}", name=f"data-{i}", merkle_root=root(i + 1)),
        ]
        for step in range(METRICS_PER_RUN):
            events.append(s.metrics(step, 1.0 / (step + 1)))
            if step % 120 == 119:
                events.append(s.checkpoint(step))
        events += [s.evaluation(METRICS_PER_RUN), s.ended()]
        per_run.append(events)
    rng = random.Random(7)
    out: list[ev.Event] = []
    while any(per_run):
        run = rng.choice([r for r in per_run if r])
        out.append(run.pop(0))
    return out


def start_lineage(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cognify_lineage"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_killing_lineage_repeatedly_neither_loses_nor_doubles_an_event(
    kafka: KafkaSettings, unique: str
) -> None:
    events = workload(f"ws-{unique}")
    # At-least-once upstream: a tenth of the events arrive twice.
    again = random.Random(3).sample(events, len(events) // 10)
    async with fresh_database() as dsn, own_topics(kafka) as (prefix, topics):
        prod = producer(kafka)
        await prod.start()
        try:
            sends = [
                await prod.send(topics.events, ev.encode(e), key=ev.partition_key(e))
                for e in [*events, *again]
            ]
            await asyncio.gather(*sends)
        finally:
            await prod.stop()
        env = {
            **os.environ,
            "COGNIFY_PG_DSN": dsn,
            "COGNIFY_KAFKA_BOOTSTRAP": kafka.bootstrap_servers,
            "COGNIFY_TOPIC_PREFIX": prefix,
            "COGNIFY_LINEAGE_GROUP": f"lineage-{uuid.uuid4().hex[:8]}",
            "COGNIFY_LINEAGE_INSTANCE_ID": "lineage-0",
            "COGNIFY_LINEAGE_HTTP_PORT": str(free_port()),
            "COGNIFY_LINEAGE_MAX_BATCH": "40",  # many small transactions: kills land mid-way
            "COGNIFY_MIGRATE": "0",
        }
        pool = await create_pool(dsn)
        try:

            async def stored() -> int:
                return int(await pool.fetchval("SELECT count(*) FROM events"))

            killed_at = []
            proc = start_lineage(env)
            try:
                for fraction in (0.1, 0.3, 0.5, 0.7):
                    target = int(fraction * len(events))
                    await eventually(
                        functools.partial(_at_least, stored, target), f"{target} stored events", 60
                    )
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    killed_at.append(await stored())
                    proc = start_lineage(env)
                await eventually(lambda: _at_least(stored, len(events)), "every event stored", 60)
                ends = await _end_offsets(kafka, topics.events)
                await eventually(
                    lambda: _offsets_reach(pool, env["COGNIFY_LINEAGE_GROUP"], topics.events, ends),
                    "the stored offsets at the end of the topic (duplicates consumed too)",
                )
            finally:
                proc.terminate()
                _, err = proc.communicate(timeout=30)
            assert any(0 < k < len(events) for k in killed_at), (killed_at, err.decode()[-2000:])

            assert await stored() == len(events)
            assert await pool.fetchval("SELECT count(DISTINCT event_id) FROM events") == len(events)
            expected = dag.fold_all(events)
            async with pool.acquire() as conn:
                actual = await projection.load(conn, expected.runs, full=True)
            assert actual == expected.runs
            points = sum(len(r.metrics) for r in expected.runs.values())
            assert await pool.fetchval("SELECT count(*) FROM metric_points") == points
            for run_id in expected.runs:
                links, head = await chain_rows(pool, run_id)
                verdict = chain.verify(run_id, links, head)
                assert verdict.valid, verdict.describe()
                assert verdict.length == sum(1 for e in events if e.run_id == run_id)
        finally:
            await pool.close()


async def _at_least(count: object, target: int) -> bool:
    assert callable(count)
    return bool(await count() >= target)


async def _end_offsets(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    cons = consumer(kafka, group_id=None)
    await cons.start()
    try:
        await cons._client.force_metadata_update()
        parts = [TopicPartition(topic, p) for p in cons.partitions_for_topic(topic) or set()]
        return {tp.partition: off for tp, off in (await cons.end_offsets(parts)).items()}
    finally:
        await cons.stop()


async def _offsets_reach(pool: Pool, group: str, topic: str, ends: dict[int, int]) -> bool:
    rows = await pool.fetch(
        "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
        group,
        topic,
    )
    stored = {r["partition"]: r["next_offset"] for r in rows}
    return all(stored.get(p, 0) >= end for p, end in ends.items() if end > 0)
