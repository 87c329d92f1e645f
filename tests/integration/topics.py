"""Kafka topics of this test session's own, and the check that it leaves none behind.

Every partition a test leaves in the broker costs it time at each start (thousands once
made the stack's broker miss its start deadline in CI), so each test deletes its topics,
and the session fails when one is still there at its end."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka.admin import AIOKafkaAdminClient
from cognify_kafka import SCRATCH_PREFIX, KafkaSettings, scratch_prefix

OWNER = f"test-{uuid.uuid4().hex[:6]}"  # this pytest process


def new_prefix() -> str:
    """A fresh prefix `scratch-test-<session>-<hex>.` for one test's topics."""
    return scratch_prefix(OWNER)


async def names(kafka: KafkaSettings) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def left_behind(kafka: KafkaSettings, before: set[str], wait_s: float = 30) -> list[str]:
    """The topics this session made and did not delete: its own scratch topics, and any new
    topic outside the scratch space (a test naming topics its own way). Deleted topics can
    stay listed for a moment, so a leftover only counts once `wait_s` has passed."""
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
            return leaked
        await asyncio.sleep(0.5)


def _cognifys(name: str) -> bool:
    return name.startswith("cognify.") or name.startswith("__")
