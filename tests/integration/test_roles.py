"""Least privilege in PostgreSQL, for real (issue 13, migration 0009): no service's role can
change the event store's history, by any statement, and only lineage may append to it;
ingest and the exporter read lineage's data through its published views only."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from cognify_postgres import apply_migrations

SERVICES = ("cognify_ingest", "cognify_lineage", "cognify_exporter")
REWRITES = {
    "update": "UPDATE events SET body = body",
    "delete": "DELETE FROM events",
    "truncate": "TRUNCATE events",
    "alter": "ALTER TABLE events ADD COLUMN forged text",
    "disable trigger": "ALTER TABLE events DISABLE TRIGGER events_insert_only",
    "drop trigger": "DROP TRIGGER events_insert_only ON events",
    "replica mode": "SET session_replication_role = replica",
    "chain heads": "ALTER TABLE chain_heads DISABLE TRIGGER ALL",
}
EVENT = """INSERT INTO events (event_id, chain_id, chain_index, workspace_id, run_id, type,
               event_time, body, prev_hash, hash)
           VALUES ($1, 'run-x', 0, 'ws-x', 'run-x', 'run.started', now(), '\\x7b7d', 'p', 'h')"""


@pytest.fixture
async def owner(scratch_db: asyncpg.Connection) -> asyncpg.Connection:
    """The migrated scratch database, as the owner, a member of the services' roles so that
    it can act as each (SET ROLE)."""
    await apply_migrations(scratch_db)
    for role in SERVICES:
        await scratch_db.execute(f"GRANT {role} TO CURRENT_USER")
    return scratch_db


async def _as(conn: asyncpg.Connection, role: str, sql: str, *args: object) -> None:
    """`sql` run as `role`, in a transaction that is rolled back whatever happens."""
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute(f"SET LOCAL ROLE {role}")
        await conn.execute(sql, *args)
    finally:
        await tx.rollback()


@pytest.mark.parametrize("role", SERVICES)
@pytest.mark.parametrize("what", sorted(REWRITES))
async def test_no_service_role_can_rewrite_the_event_store(
    owner: asyncpg.Connection, role: str, what: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _as(owner, role, REWRITES[what])


async def test_only_lineage_appends_events_and_others_read_its_views(
    owner: asyncpg.Connection,
) -> None:
    await _as(owner, "cognify_lineage", EVENT, uuid.uuid4())
    for role in ("cognify_ingest", "cognify_exporter"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _as(owner, role, EVENT, uuid.uuid4())
        for table in ("events", "runs", "approvals", "findings"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await _as(owner, role, f"SELECT 1 FROM public.{table}")
            await _as(owner, role, f"SELECT 1 FROM lineage_read.{table}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _as(owner, role, "CREATE TABLE public.sneaky (a int)")
    # no service's role is a member of the owner's (SET ROLE is checked against the login
    # role, so it is asked of the catalogue rather than tried from the owner's session)
    for role in SERVICES:
        member = "SELECT pg_has_role($1, current_user, 'MEMBER')"
        assert await owner.fetchval(member, role) is False
    # a role without grant option grants nothing (PostgreSQL only warns)
    async with owner.transaction():
        await owner.execute("SET LOCAL ROLE cognify_lineage")
        await owner.execute("GRANT UPDATE, DELETE ON events TO PUBLIC")
        held = "SELECT has_table_privilege('cognify_lineage', 'events', $1)"
        assert [await owner.fetchval(held, p) for p in ("UPDATE", "DELETE")] == [False, False]
    # and nobody but the owner reaches the exporter's private seal keys
    for role in ("cognify_ingest", "cognify_lineage"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _as(owner, role, "SELECT private_key_sealed FROM seal_keys")


@pytest.mark.parametrize("role", SERVICES)
async def test_a_service_role_starting_finds_its_migrations_applied(
    owner: asyncpg.Connection, role: str
) -> None:
    """Services call apply_migrations at start: with nothing to apply, a service's role
    needs no right to create anything."""
    async with owner.transaction():
        await owner.execute(f"SET LOCAL ROLE {role}")
        assert await apply_migrations(owner) == []
