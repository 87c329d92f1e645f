"""Dropping scratch databases (tests, benchmarks) on a busy server."""

from __future__ import annotations

import asyncio

import asyncpg


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
