"""deploy/stack fails loudly when a component cannot start, and is idempotent when up."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cognify_kafka import KafkaSettings, scratch_prefix
from cognify_postgres import PostgresSettings, scratch_databases, scratch_name

ROOT = Path(__file__).resolve().parents[2]


def _stack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "deploy/stack"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_up_fails_with_a_clear_reason_when_a_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "COGNIFY_STATE": str(tmp_path), "COGNIFY_MINIO_PORT": str(port)}
        result = _stack("up", "minio", env=env)
    assert result.returncode != 0
    assert f"port {port} is taken by another process" in result.stderr


def test_an_unknown_component_is_refused() -> None:
    result = _stack("up", "redis")
    assert result.returncode != 0
    assert "unknown component 'redis'" in result.stderr


def test_status_reports_every_component_up() -> None:
    result = _stack("status")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["kafka", "up"],
        ["postgres", "up"],
        ["minio", "up"],
    ]


def test_a_second_up_changes_nothing() -> None:
    result = _stack("up")
    assert result.returncode == 0, result.stderr
    assert "topics created: none (all present)" in result.stderr
    assert "migrations applied: none pending" in result.stderr
    assert "starting" not in result.stderr


async def test_prune_deletes_the_scratch_topics_and_databases_an_interrupted_run_left() -> None:
    """`up` prunes whenever it starts Kafka or PostgreSQL: every partition left behind costs
    each start of the broker, every database disk."""
    left = f"{scratch_prefix('test')}jobs"
    database = scratch_name("test-interrupted")
    pg = await asyncpg.connect(PostgresSettings().dsn)
    admin = AIOKafkaAdminClient(bootstrap_servers=KafkaSettings().bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(left, 2, 1)])
        await pg.execute(f'CREATE DATABASE "{database}"')
        result = _stack("prune")
        assert result.returncode == 0, result.stderr
        assert "scratch topics (scratch-*) left by earlier runs" in result.stderr
        assert "scratch databases (scratch_*) left by earlier runs" in result.stderr
        assert await scratch_databases(pg, database) == []
        assert await pg.fetchval("SELECT count(*) FROM pg_database WHERE datname = 'cognify'") == 1
        async with asyncio.timeout(30):
            while left in (topics := set(await admin.list_topics())):
                await asyncio.sleep(0.2)
        assert {"cognify.events", "cognify.hash.jobs", "cognify.readiness"} <= topics
    finally:
        await admin.close()
        await pg.close()
