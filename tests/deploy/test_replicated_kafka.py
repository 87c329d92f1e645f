"""A replicated Kafka (`deploy/stack up kafka-cluster`: 3 KRaft nodes, replication 3,
min.insync.replicas 2) loses and doubles nothing when one node is killed with kill -9 in
the middle of a run of 20,000 events sent by the SDK, and the training loop never waits.

The cluster is the test's own (its own state directory and ports), stopped afterwards.
The first test covers the SDK's producer and the brokers; the second runs ingest and
lineage on the cluster too (each its own process, as deployed) and checks what lands in
PostgreSQL, with the services never restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cognify
import cognify_events as ev
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cognify.run import Run
from cognify.transport import KafkaTransport
from cognify_ingest.settings import Topics
from cognify_kafka import KafkaSettings, delete_topics, scratch_prefix
from cognify_lineage.postgres import create_pool

from tests.integration.lineage.harness import (
    as_role,
    eventually,
    free_port,
    fresh_database,
    make_workspace,
)
from tests.integration.processes import service, service_env

from .tools import ROOT

STEPS = 20_000
KILL_AT, RESTART_AT = 5_000, 12_000
PARTITIONS = 6


def _free_base(span: int) -> int:
    """The first of `span` consecutive free loopback ports."""
    for _ in range(100):
        base = random.randrange(20_000, 40_000)
        try:
            for port in range(base, base + span):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range")


def _stack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "deploy/stack"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=420,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    base = _free_base(3)
    env = {
        **os.environ,
        "COGNIFY_STATE": str(tmp_path_factory.mktemp("cluster") / "state"),
        "COGNIFY_KAFKA_CLUSTER_PORT": str(base),
        "COGNIFY_KAFKA_CLUSTER_CONTROLLER_PORT": str(_free_base(3)),
    }
    try:
        up = _stack(env, "up", "kafka-cluster")
        assert up.returncode == 0, up.stderr
        yield env, ",".join(f"127.0.0.1:{p}" for p in range(base, base + 3))
    finally:
        _stack(env, "down", "kafka-cluster")


async def _create_topic(bootstrap: str, *topics: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=PARTITIONS,
                    replication_factor=3,
                    topic_configs={"min.insync.replicas": "2"},
                )
                for topic in topics
            ]
        )
    finally:
        await admin.close()


async def _in_sync_replicas(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        return [len(p["isr"]) for p in described["partitions"]]
    finally:
        await admin.close()


async def _read_all(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        parts = consumer.assignment()
        ends = await consumer.end_offsets(list(parts))
        events: list[dict[str, Any]] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in parts])

        while await behind():
            batch = await consumer.getmany(timeout_ms=1_000)
            for records in batch.values():
                events += [json.loads(r.value) for r in records if r.value is not None]
        return events
    finally:
        await consumer.stop()


def test_a_broker_killed_mid_run_loses_and_doubles_nothing(
    cluster: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, bootstrap = cluster
    topic = "cognify.events.raw"
    asyncio.run(_create_topic(bootstrap, topic))
    victim = Path(env["COGNIFY_STATE"]) / "kafka-cluster/2/kafka.pid"

    run = cognify.init(
        workspace_id="ws-replicated",
        api_key="cgk_replicated",
        project="failover",
        kafka_bootstrap=bootstrap,
        spool_dir=tmp_path / "spool",
        transport=lambda: KafkaTransport(bootstrap, timeout_s=60, topic=topic),
    )
    assert run is not None
    restarted: list[subprocess.CompletedProcess[str]] = []
    restart = threading.Thread(target=lambda: restarted.append(_stack(env, "up", "kafka-cluster")))
    slowest = 0.0
    try:
        for step in range(STEPS):
            if step == KILL_AT:
                os.kill(int(victim.read_text()), signal.SIGKILL)
            if step == RESTART_AT:
                restart.start()
            t0 = time.perf_counter()
            run.emit(
                ev.MetricsLogged,
                ev.MetricsLoggedPayload(step=step, metrics={"loss": 1 / (step + 1)}),
            )
            slowest = max(slowest, time.perf_counter() - t0)
            time.sleep(0.0005)  # a training step: about 10 s for the whole run
    finally:
        left = cognify.finish(timeout_s=180)
        restart.join(timeout=420)
    assert left == 0, f"{left} events still spooled after the cluster recovered"
    assert restarted and restarted[0].returncode == 0, restarted[0].stderr if restarted else ""
    # The training step never waited on the broker: emit only enqueues.
    assert slowest < 0.25, f"an emit took {slowest * 1000:.0f} ms"

    events = [e for e in asyncio.run(_read_all(bootstrap, topic)) if e["run_id"] == run.run_id]
    seqs = Counter(e["seq"] for e in events)
    doubled = [s for s, n in seqs.items() if n > 1]
    lost = sorted(set(range(max(seqs) + 1)) - set(seqs))
    assert (lost, doubled) == ([], [])
    steps = Counter(e["payload"]["step"] for e in events if e["type"] == "metrics.logged")
    assert sorted(steps) == list(range(STEPS)) and set(steps.values()) == {1}
    assert len({e["event_id"] for e in events}) == len(events)

    # The killed node is back in every partition's in-sync replica set.
    deadline = time.monotonic() + 120
    while (isr := asyncio.run(_in_sync_replicas(bootstrap, topic))) != [3] * PARTITIONS:
        assert time.monotonic() < deadline, f"in-sync replicas after the restart: {isr}"
        time.sleep(2)


def _train(
    run: Run, env: dict[str, str], victim: Path, steps: int
) -> tuple[float, list[subprocess.CompletedProcess[str]]]:
    """The training loop: `steps` metrics, a node killed at KILL_AT and restarted (in the
    background) at RESTART_AT; returns the slowest emit and the restart's result."""
    restarted: list[subprocess.CompletedProcess[str]] = []
    restart = threading.Thread(target=lambda: restarted.append(_stack(env, "up", "kafka-cluster")))
    slowest = 0.0
    for step in range(steps):
        if step == KILL_AT:
            os.kill(int(victim.read_text()), signal.SIGKILL)
        if step == RESTART_AT:
            restart.start()
        t0 = time.perf_counter()
        run.emit(ev.MetricsLogged, ev.MetricsLoggedPayload(step=step, metrics={"loss": 1.0}))
        slowest = max(slowest, time.perf_counter() - t0)
        time.sleep(0.0005)
    restart.join(timeout=420)
    return slowest, restarted


async def test_the_services_carry_on_through_a_broker_killed_mid_run(
    cluster: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, bootstrap = cluster
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    prefix = scratch_prefix("replicated")
    topics = Topics.prefixed(prefix)
    await _create_topic(bootstrap, topics.raw, topics.events, topics.hash_jobs, topics.dlq)
    # Node 1: this time the one that was the first controller.
    victim = Path(env["COGNIFY_STATE"]) / "kafka-cluster/1/kafka.pid"
    workspace = f"ws-replicated-{uuid.uuid4().hex[:6]}"
    async with fresh_database() as dsn, contextlib.AsyncExitStack() as running:
        keys = await make_workspace(dsn, workspace)
        # Each service its own process, as deployed: the training thread then shares the
        # GIL with the SDK only (in-process services stalled its emits in CI, not the SDK).
        ports = {"ingest": free_port(), "lineage": free_port()}
        common = {**service_env(dsn, prefix, ports), "COGNIFY_KAFKA_BOOTSTRAP": bootstrap}
        services = [
            await running.enter_async_context(
                service(
                    name,
                    ports[name],
                    {**common, "COGNIFY_PG_DSN": as_role(dsn, name).dsn},
                    tmp_path,
                )
            )
            for name in ("ingest", "lineage")
        ]
        pool = await create_pool(dsn)
        try:
            run = cognify.init(
                workspace_id=workspace,
                api_key=keys.writer,
                project="failover",
                kafka_bootstrap=bootstrap,
                spool_dir=tmp_path / "spool",
                transport=lambda: KafkaTransport(bootstrap, timeout_s=60, topic=topics.raw),
            )
            assert run is not None
            slowest, restarted = await asyncio.to_thread(_train, run, env, victim, STEPS)
            left = await asyncio.to_thread(cognify.finish, 180)
            assert left == 0, f"{left} events still spooled"
            assert restarted and restarted[0].returncode == 0
            assert slowest < 0.25, f"an emit took {slowest * 1000:.0f} ms"

            async def stored() -> list[int] | None:
                stopped = [f"{s.name}:\n{s.tail()}" for s in services if not s.alive()]
                assert not stopped, f"a service stopped: {stopped}"
                seqs = [
                    r["seq"]
                    for r in await pool.fetch(
                        "SELECT seq FROM events WHERE run_id = $1", run.run_id
                    )
                ]
                ended = await pool.fetchval(
                    "SELECT count(*) FROM events WHERE run_id = $1 AND type = 'run.ended'",
                    run.run_id,
                )
                return seqs if ended else None

            seqs = await eventually(stored, "lineage to store the whole run", 300)
            assert sorted(seqs) == list(range(len(seqs))), "a sequence number lost or doubled"
            steps = await pool.fetchval(
                "SELECT count(*) FROM events WHERE run_id = $1 AND type = 'metrics.logged'",
                run.run_id,
            )
            assert steps == STEPS
            # Nothing was dead-lettered: every event went through ingest and lineage.
            assert await _read_all(bootstrap, topics.dlq) == []
        finally:
            await pool.close()
    await delete_topics(kafka, prefix)
