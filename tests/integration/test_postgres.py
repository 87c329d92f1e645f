"""PostgreSQL, for real: versioned migrations apply once and are a no-op after."""

from __future__ import annotations

import asyncpg
import pytest
from cognify_postgres import Migration, MigrationError, apply_migrations, load_migrations


async def test_migrations_apply_to_an_empty_database_and_then_are_a_no_op(
    scratch_db: asyncpg.Connection,
) -> None:
    first = await apply_migrations(scratch_db)
    assert [m.version for m in first] == [m.version for m in load_migrations()]
    tables = {
        r["tablename"]
        for r in await scratch_db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    }
    assert {"schema_migrations", "workspaces", "api_keys", "consumer_offsets"} <= tables

    before = await scratch_db.fetch("SELECT version, checksum, applied_at FROM schema_migrations")
    assert await apply_migrations(scratch_db) == []
    after = await scratch_db.fetch("SELECT version, checksum, applied_at FROM schema_migrations")
    assert before == after


async def test_a_failing_migration_leaves_no_trace(scratch_db: asyncpg.Connection) -> None:
    broken = [
        *load_migrations(),
        Migration(9999, "broken", "CREATE TABLE t9999 (a int); SELECT 1/0;"),
    ]
    with pytest.raises(asyncpg.DivisionByZeroError):
        await apply_migrations(scratch_db, broken)
    assert await scratch_db.fetchval("SELECT to_regclass('t9999')") is None
    assert await scratch_db.fetchval("SELECT max(version) FROM schema_migrations") < 9999


async def test_an_applied_migration_that_was_edited_is_refused(
    scratch_db: asyncpg.Connection,
) -> None:
    await apply_migrations(scratch_db)
    first = load_migrations()[0]
    edited = [Migration(first.version, first.name, first.sql + "\n-- edited\n")]
    with pytest.raises(MigrationError, match="was changed after it was applied"):
        await apply_migrations(scratch_db, edited)
