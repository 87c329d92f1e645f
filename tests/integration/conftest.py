"""Integration tests run against the real local stack, every time.

The test command (`make test`, run by .ci/run) brings the stack up first. If a component is
still down here, the session fails loudly: a missing server is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from cognify_kafka import KafkaSettings, delete_topics
from cognify_objectstore import ObjectStore, StoreSettings

from . import scratch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def stack_is_up() -> None:
    status = subprocess.run(
        [str(ROOT / "deploy/stack"), "status"], capture_output=True, text=True, check=False
    )
    if status.returncode != 0:
        pytest.fail(
            "the local stack is not up; run `deploy/stack up` (the test command does)"
            f"\n{status.stdout}{status.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def no_topics_left_behind(stack_is_up: None) -> Iterator[None]:
    kafka = KafkaSettings()
    before = asyncio.run(scratch.names(kafka))
    yield
    leaked = asyncio.run(scratch.left_behind(kafka, before))
    if leaked:
        pytest.fail(
            f"{len(leaked)} Kafka topics or databases made by this test session are still "
            f"there: {leaked[:10]}; tests make topics under the `topic_prefix` fixture and "
            "databases with `scratch.database()`, which delete them",
            pytrace=False,
        )


@pytest.fixture
def kafka() -> KafkaSettings:
    return KafkaSettings()


@pytest.fixture
async def topic_prefix(kafka: KafkaSettings) -> AsyncIterator[str]:
    """A topic prefix of the test's own; every topic under it is deleted afterwards (each
    partition left behind would cost the broker time at every start)."""
    prefix = scratch.new_prefix()
    yield prefix
    await delete_topics(kafka, prefix)


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(StoreSettings())


@pytest.fixture
async def scratch_db() -> AsyncIterator[asyncpg.Connection]:
    """A connection to a brand-new database, dropped afterwards."""
    async with scratch.database() as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            yield conn
        finally:
            await conn.close()


@pytest.fixture
def unique() -> Iterator[str]:
    yield f"t{uuid.uuid4().hex[:10]}"


def env_or(name: str, default: str) -> str:
    return os.environ.get(name, default)
