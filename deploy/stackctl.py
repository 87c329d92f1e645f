"""Readiness and health checks for deploy/stack, through the same adapters the services use.

python deploy/stackctl.py ready kafka|postgres|minio   make it ready, prove it works
python deploy/stackctl.py status                        one line per component
python deploy/stackctl.py topics                        the topics that exist
python deploy/stackctl.py prune [kafka|postgres]        delete leftover scratch topics,
                                                        drop leftover scratch databases
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from cognify_events.topics import ALL_TOPICS, READINESS
from cognify_kafka import SCRATCH_PREFIX, KafkaSettings, delete_topics, ensure_topics, round_trip
from cognify_objectstore import ObjectStore, ObjectStoreError, StoreSettings
from cognify_postgres import PostgresSettings, apply_migrations, drop_database, scratch_databases
from cognify_postgres.databases import SCRATCH_PREFIX as SCRATCH_DATABASES


async def kafka_ready() -> str:
    settings = KafkaSettings()
    created = await ensure_topics(settings)
    await round_trip(settings, READINESS.name)
    return f"topics created: {', '.join(created) or 'none (all present)'}; round trip ok"


async def postgres_ready() -> str:
    conn = await asyncpg.connect(PostgresSettings().dsn)
    try:
        applied = await apply_migrations(conn)
        version = await conn.fetchval("SELECT max(version) FROM schema_migrations")
    finally:
        await conn.close()
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none pending"
    return f"migrations applied: {names}; schema version {version}"


def minio_ready() -> str:
    store = ObjectStore(StoreSettings())
    created = store.ensure_bucket()
    encryption = bucket_encryption(store)
    key = f"_readiness/{uuid.uuid4().hex}"
    store.put(key, b"ok", retain_until=datetime.now(UTC) + timedelta(days=1))
    assert store.get(key) == b"ok"
    made = "created" if created else "present"
    return f"bucket {store.bucket} {made} with Object Lock, {encryption}; put ok"


def bucket_encryption(store: ObjectStore) -> str:
    """SSE-S3 as the bucket's default encryption, set once (a bucket that has any default
    encryption already keeps it). A MinIO started without a KMS refuses it: said, not fatal,
    so a server started before `deploy/stack` configured one keeps working until restarted."""
    found = store.default_encryption()
    if found is None:
        try:
            store.set_default_encryption()
        except ObjectStoreError as exc:
            return (
                f"NO default encryption (MinIO refused SSE-S3: {exc.code}; it has no KMS key: "
                "restart it with `deploy/stack down minio && deploy/stack up minio`)"
            )
        found = store.default_encryption()
    return f"default encryption {found.algorithm if found else 'not readable back'}"


async def kafka_health() -> str:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=KafkaSettings().bootstrap_servers, request_timeout_ms=5_000
    )
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    missing = [t.name for t in ALL_TOPICS if t.name not in topics]
    if missing:
        raise RuntimeError(f"missing topics {missing}")
    return f"{len(ALL_TOPICS)} topics"


async def postgres_health() -> str:
    conn = await asyncpg.connect(PostgresSettings().dsn, timeout=5)
    try:
        version = await conn.fetchval("SELECT max(version) FROM schema_migrations")
    finally:
        await conn.close()
    return f"schema version {version}"


def minio_health() -> str:
    store = ObjectStore(StoreSettings())
    if not store.object_lock_enabled():
        raise RuntimeError(f"bucket {store.bucket} lacks Object Lock")
    found = store.default_encryption()
    encryption = found.algorithm if found else "NO default encryption"
    return f"bucket {store.bucket} (Object Lock on, {encryption})"


async def topic_names() -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=KafkaSettings().bootstrap_servers)
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if t.startswith("cognify."))
    finally:
        await admin.close()
    return " ".join(names)


async def prune_kafka() -> str:
    deleted = await delete_topics(KafkaSettings(), SCRATCH_PREFIX)
    return f"deleted {len(deleted)} scratch topics ({SCRATCH_PREFIX}*) left by earlier runs"


async def prune_postgres() -> str:
    admin = await asyncpg.connect(PostgresSettings().dsn)
    try:
        names = await scratch_databases(admin, SCRATCH_DATABASES)
        for name in names:
            await drop_database(admin, name)
    finally:
        await admin.close()
    return f"dropped {len(names)} scratch databases ({SCRATCH_DATABASES}*) left by earlier runs"


def status() -> int:
    failures = 0
    checks = {
        "kafka": lambda: asyncio.run(kafka_health()),
        "postgres": lambda: asyncio.run(postgres_health()),
        "minio": minio_health,
    }
    for name, check in checks.items():
        try:
            print(f"{name:10} up    {check()}")
        except Exception as exc:  # noqa: BLE001 - any failure means "down", and we say why
            failures += 1
            print(f"{name:10} DOWN  {type(exc).__name__}: {exc}")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    # A broker that has just started elects partition leaders for a few seconds; the client
    # retries through it, and its warnings about each retry would only alarm.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    match argv:
        case ["ready", "kafka"]:
            print(f"[stack] kafka: {asyncio.run(kafka_ready())}", file=sys.stderr)
        case ["ready", "postgres"]:
            print(f"[stack] postgres: {asyncio.run(postgres_ready())}", file=sys.stderr)
        case ["ready", "minio"]:
            print(f"[stack] minio: {minio_ready()}", file=sys.stderr)
        case ["status"]:
            return status()
        case ["topics"]:
            print(asyncio.run(topic_names()))
        case ["prune", *which] if set(which) <= {"kafka", "postgres"}:
            if not which or "kafka" in which:
                print(f"[stack] kafka: {asyncio.run(prune_kafka())}", file=sys.stderr)
            if not which or "postgres" in which:
                print(f"[stack] postgres: {asyncio.run(prune_postgres())}", file=sys.stderr)
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
