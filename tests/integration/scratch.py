"""Kafka topics and PostgreSQL databases of this test session's own, and the check that it
leaves none behind.

Every partition a test leaves in the broker costs it time at each start (thousands once
made the stack's broker miss its start deadline in CI), and every database left costs disk,
so each test deletes what it made, and the session fails when something is still there at
its end. Names carry the session (`scratch-test-<session>-…` topics, `scratch_test_<session>_…`
databases), so sessions running side by side never count each other's."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from cognify_kafka import SCRATCH_PREFIX, KafkaSettings, scratch_prefix
from cognify_postgres import PostgresSettings, owner_prefix, scratch_database, scratch_databases

OWNER = f"test-{uuid.uuid4().hex[:6]}"  # this pytest process


def new_prefix() -> str:
    """A fresh prefix `scratch-test-<session>-<hex>.` for one test's topics."""
    return scratch_prefix(OWNER)


def database() -> contextlib.AbstractAsyncContextManager[str]:
    """A brand-new empty database of this session's (its DSN), dropped afterwards."""
    return scratch_database(OWNER)


async def names(kafka: KafkaSettings) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def left_behind(kafka: KafkaSettings, before: set[str], wait_s: float = 30) -> list[str]:
    """The topics and databases this session made and did not delete: its own scratch
    topics and databases, and any new topic outside the scratch space (a test naming topics
    its own way). Deleted topics can stay listed for a moment, so a leftover topic only
    counts once `wait_s` has passed."""
    mine = f"{SCRATCH_PREFIX}{OWNER}-"
    deadline = time.monotonic() + wait_s
    while True:
        now = await names(kafka)
        leaked = sorted(
            n
            for n in now - before
            if n.startswith(mine) or not (n.startswith(SCRATCH_PREFIX) or _cognifys(n))
        )
        if not leaked or time.monotonic() > deadline:
            return leaked + [f"database {d}" for d in await _databases()]
        await asyncio.sleep(0.5)


async def _databases() -> list[str]:
    admin = await asyncpg.connect(PostgresSettings().dsn)
    try:
        return await scratch_databases(admin, owner_prefix(OWNER))
    finally:
        await admin.close()


def _cognifys(name: str) -> bool:
    return name.startswith("cognify.") or name.startswith("__")
