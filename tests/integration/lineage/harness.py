"""Running Cognify's ingest and lineage for real, on topics and a database of the test's own.

Every test gets a topic prefix (so no other test's instance can consume its messages), a
fresh database with the migrations applied, and unique consumer groups. Waiting is always
for a condition, with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import cognify_events as ev
from aiokafka import TopicPartition
from cognify_events.topics import Topic
from cognify_ingest import workspaces
from cognify_ingest.app import serve as serve_ingest
from cognify_ingest.credentials import Role
from cognify_ingest.settings import IngestSettings, Topics
from cognify_kafka import (
    KafkaSettings,
    consumer,
    delete_topics,
    ensure_topics,
    producer,
)
from cognify_lineage import projection
from cognify_lineage.app import serve as serve_lineage
from cognify_lineage.model import Run
from cognify_lineage.postgres import Pool, create_pool
from cognify_lineage.settings import LineageSettings
from cognify_postgres import PostgresSettings, apply_migrations

from tests.integration.scratch import database, new_prefix

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 30.0
) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new database with every migration applied; yields its DSN, drops it afterwards."""
    async with database() as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
            # The owner may act as each service's role: services under test run as them.
            await conn.execute(
                "GRANT cognify_ingest, cognify_lineage, cognify_exporter TO CURRENT_USER"
            )
        finally:
            await conn.close()
        yield dsn


def as_role(dsn: str, service: str) -> PostgresSettings:
    """The DSN of `service`'s least-privileged role (migration 0009) on this database: the
    owner's login acting as that role, with the search path the role has when it logs in."""
    path = "&search_path=lineage_read,public" if service == "exporter" else ""
    return PostgresSettings(f"{dsn}{'&' if '?' in dsn else '?'}role=cognify_{service}{path}")


@contextlib.asynccontextmanager
async def own_topics(kafka: KafkaSettings) -> AsyncIterator[tuple[str, Topics]]:
    """Topics of the test's own (few partitions: fast to create), deleted afterwards."""
    prefix = new_prefix()
    topics = Topics.prefixed(prefix)
    names = [topics.raw, topics.events, topics.hash_jobs, topics.dlq]
    await ensure_topics(
        kafka, [Topic(n, p, "test") for n, p in zip(names, (3, 3, 2, 1), strict=True)]
    )
    try:
        yield prefix, topics
    finally:
        await delete_topics(kafka, prefix)  # the services' own topics under it too


@dataclass
class Keys:
    writer: str
    reviewer: str
    admin: str


async def make_workspace(dsn: str, workspace_id: str, tier: str = "standard") -> Keys:
    conn = await asyncpg.connect(dsn)
    try:
        await workspaces.create_workspace(conn, workspace_id, f"Workspace {workspace_id}", tier)
        # Reviewer and admin keys are people's (docs/spec/trust.md); the writer is a machine.
        holders = {
            Role.WRITER: None,
            Role.REVIEWER: await workspaces.person(
                conn, workspace_id, "Dana Reyes", "compliance-officer"
            ),
            Role.ADMIN: await workspaces.person(conn, workspace_id, "Sam Okafor", "admin"),
        }
        issued = [
            (
                await workspaces.issue_key(
                    conn, workspace_id, role, f"{role.value}@{workspace_id}", holder
                )
            ).key
            for role, holder in holders.items()
        ]
    finally:
        await conn.close()
    return Keys(*issued)


@dataclass
class Stack:
    """Ingest and lineage, in this process, on the test's topics and database."""

    kafka: KafkaSettings
    dsn: str
    prefix: str
    topics: Topics
    pool: Pool
    ingest_port: int = field(default_factory=free_port)
    lineage_port: int = field(default_factory=free_port)

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def lineage_url(self) -> str:
        return f"http://127.0.0.1:{self.lineage_port}"

    async def send_raw(self, items: Sequence[tuple[bytes | None, bytes]]) -> None:
        """Publish (key, value) pairs to the raw topic, as the SDK does."""
        prod = producer(self.kafka)
        await prod.start()
        try:
            futures = [await prod.send(self.topics.raw, v, key=k) for k, v in items]
            await asyncio.gather(*futures)
        finally:
            await prod.stop()

    async def send_events(self, events: Iterable[ev.Event], topic: str | None = None) -> None:
        """Publish events straight to the canonical topic, as the hasher and exporter do."""
        prod = producer(self.kafka)
        await prod.start()
        try:
            futures = [
                await prod.send(topic or self.topics.events, ev.encode(e), key=ev.partition_key(e))
                for e in events
            ]
            await asyncio.gather(*futures)
        finally:
            await prod.stop()

    async def read_topic(self, topic: str) -> list[tuple[bytes | None, bytes]]:
        """Everything currently in one of the test's topics."""
        cons = consumer(self.kafka, group_id=None)
        await cons.start()
        try:
            await cons._client.force_metadata_update()  # a groupless consumer has none yet
            parts = [TopicPartition(topic, p) for p in cons.partitions_for_topic(topic) or set()]
            cons.assign(parts)
            await cons.seek_to_beginning(*parts)
            ends = await cons.end_offsets(parts)
            out: list[tuple[bytes | None, bytes]] = []
            while [tp for tp in parts if await cons.position(tp) < ends[tp]]:
                batch = await cons.getmany(timeout_ms=500)
                out += [(m.key, m.value or b"") for records in batch.values() for m in records]
            return out
        finally:
            await cons.stop()

    async def runs(self, *run_ids: str, full: bool = True) -> dict[str, Run]:
        async with self.pool.acquire() as conn:
            return await projection.load(conn, run_ids, full=full)

    async def run_status(self, run_id: str) -> str | None:
        status: str | None = await self.pool.fetchval(
            "SELECT status FROM runs WHERE run_id = $1", run_id
        )
        return status


def signed(event: ev.EventBase, key: str) -> tuple[bytes, bytes]:
    return ev.partition_key(event), ev.sign(event, key).model_dump_json().encode()


@contextlib.asynccontextmanager
async def stack(
    kafka: KafkaSettings, *, ingest: bool = True, state_ttl_s: float = 0.2
) -> AsyncIterator[Stack]:
    """A database, topics, and ingest + lineage running on them until the block ends."""
    async with fresh_database() as dsn, own_topics(kafka) as (prefix, topics):
        pool = await create_pool(dsn)
        s = Stack(kafka, dsn, prefix, topics, pool)
        stop = asyncio.Event()
        group = f"test-{uuid.uuid4().hex[:8]}"
        tasks = [
            asyncio.create_task(
                serve_lineage(
                    LineageSettings(
                        kafka=kafka,
                        postgres=as_role(dsn, "lineage"),
                        events_topic=topics.events,
                        dlq_topic=topics.dlq,
                        group_id=f"{group}-lineage",
                        http_port=s.lineage_port,
                        migrate=False,
                        # a test's anchors under its own prefix, locked a day, not ten years
                        anchor_prefix=f"test-anchors/{prefix}",
                        anchor_retain_days=1,
                    ),
                    stop,
                )
            )
        ]
        if ingest:
            settings = IngestSettings(
                kafka=kafka,
                postgres=as_role(dsn, "ingest"),
                topics=topics,
                group_id=f"{group}-ingest",
                http_port=s.ingest_port,
                state_ttl_s=state_ttl_s,
                migrate=False,
            )
            tasks.append(asyncio.create_task(serve_ingest(settings, stop)))
        try:
            await eventually(
                lambda: _healthy(s, ingest, tasks), "ingest and lineage to answer /healthz"
            )
            yield s
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await pool.close()
            for r in results:
                if isinstance(r, BaseException):
                    raise r


async def _healthy(s: Stack, ingest: bool, tasks: list[asyncio.Task[None]]) -> bool:
    for task in tasks:
        if task.done():
            task.result()  # a service that died while starting: raise its error here
            raise AssertionError("a service stopped while starting")
    urls = [s.lineage_url] + ([s.ingest_url] if ingest else [])
    for url in urls:
        status, _ = await http("GET", f"{url}/healthz")
        if status != 200:
            return False
    return True


async def http(
    method: str, url: str, token: str | None = None, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    """One HTTP request (stdlib, in a thread); returns the status and the decoded JSON."""

    def call() -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                payload = response.read()
                return response.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            return exc.code, json.loads(payload) if payload else None
        except (ConnectionError, urllib.error.URLError):
            return 0, None

    return await asyncio.to_thread(call)


async def metrics_text(url: str) -> str:
    """A Prometheus /metrics page (failing the test unless it answers 200)."""

    def call() -> str:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
            return str(response.read().decode())

    return await asyncio.to_thread(call)
