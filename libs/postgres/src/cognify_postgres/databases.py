"""Scratch databases (tests, benchmarks): made with a recognisable name, dropped afterwards,
and pruned when a run that made them was interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg

from .settings import PostgresSettings

# Databases of a test's or a benchmark's own start with this; `deploy/stack prune` drops
# those an interrupted run left behind.
SCRATCH_PREFIX = "scratch_"


def owner_prefix(owner: str) -> str:
    """What the names of `owner`'s scratch databases start with: `scratch_<owner>_`."""
    return f"{SCRATCH_PREFIX}{owner.replace('-', '_')}_"


def scratch_name(owner: str) -> str:
    """A fresh database name `scratch_<owner>_<12 hex>` (a PostgreSQL identifier)."""
    return f"{owner_prefix(owner)}{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def scratch_database(
    owner: str, settings: PostgresSettings | None = None
) -> AsyncIterator[str]:
    """A brand-new empty database on the server of `settings`; yields its DSN and drops it
    afterwards, whatever happened."""
    dsn = (settings or PostgresSettings()).dsn
    name = scratch_name(owner)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield dsn.rsplit("/", 1)[0] + "/" + name
        finally:
            await drop_database(admin, name)
    finally:
        await admin.close()


async def drop_database(admin: asyncpg.Connection[asyncpg.Record], name: str) -> None:
    """DROP ... WITH (FORCE), retried: an autovacuum worker (a superuser process that the
    `cognify` role may not terminate) can briefly hold a fresh database."""
    for attempt in range(40):
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
            if attempt == 39:
                raise
            await asyncio.sleep(0.25)


async def scratch_databases(admin: asyncpg.Connection[asyncpg.Record], prefix: str) -> list[str]:
    """The databases whose name starts with `prefix` (itself a scratch prefix)."""
    if not prefix.startswith(SCRATCH_PREFIX):
        raise ValueError(f"refusing to list databases under {prefix!r}: not a scratch prefix")
    rows = await admin.fetch(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname", prefix
    )
    return [r["datname"] for r in rows]
