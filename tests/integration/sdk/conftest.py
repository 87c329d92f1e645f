"""Fixtures for the SDK against the real Kafka: reading a run's events back, and a private
broker that a test may stop and start without disturbing the shared stack."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from cognify_events.topics import RAW

ROOT = Path(__file__).resolve().parents[3]


async def _read_raw(
    bootstrap: str, since_ms: int, want: Any, timeout_s: float
) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        tps = [TopicPartition(RAW.name, p) for p in range(RAW.partitions)]
        consumer.assign(tps)
        offsets = await consumer.offsets_for_times({tp: since_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            found_offset = offsets.get(tp)
            consumer.seek(tp, found_offset.offset if found_offset else ends[tp])
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for m in messages:
                    try:
                        obj = json.loads(m.value) if m.value else {}
                    except ValueError:
                        continue  # not an event (an older readiness probe); ingest's DLQ case
                    if want(obj):
                        found.append(obj)
                        quiet_since = time.monotonic()
            done = any(o.get("type") == "run.ended" for o in found)
            if done and time.monotonic() - quiet_since > 2.0:
                break
    finally:
        await consumer.stop()
    return found


def read_run_events(
    bootstrap: str,
    since_ms: int,
    run_id: str | None = None,
    tag: tuple[str, str] | None = None,
    timeout_s: float = 60,
) -> list[dict[str, Any]]:
    """Every raw event of a run (by id) or of runs carrying a tag, as JSON objects in the
    order Kafka holds them (one partition per run)."""

    runs = {run_id} if run_id else set()

    def want(obj: dict[str, Any]) -> bool:
        started = obj.get("type") == "run.started"
        if tag is not None and started and obj["payload"]["tags"].get(tag[0]) == tag[1]:
            runs.add(obj["run_id"])
        return obj.get("run_id") in runs

    return asyncio.run(_read_raw(bootstrap, since_ms, want, timeout_s))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateKafka:
    state: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _stack(self, *args: str) -> None:
        env = {
            **os.environ,
            "COGNIFY_STATE": str(self.state),
            "COGNIFY_KAFKA_PORT": str(self.port),
            "COGNIFY_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "COGNIFY_KAFKA_BOOTSTRAP": self.bootstrap,
        }
        done = subprocess.run(
            [str(ROOT / "deploy/stack"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        self._stack("up", "kafka")

    def stop(self) -> None:
        self._stack("down", "kafka")


@pytest.fixture
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateKafka]:
    broker = PrivateKafka(tmp_path_factory.mktemp("kafka-state"), free_port(), free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def now_ms() -> int:
    return int(time.time() * 1000) - 1_000
