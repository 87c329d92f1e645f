"""Workspaces, keys and retention in PostgreSQL: what the admin CLI and the retention
endpoint change. (An adapter: the only ingest module besides postgres.py that runs SQL.)
"""

from __future__ import annotations

import secrets

from cognify_events import ExportFormat, ExportTemplate

from .credentials import IssuedKey, Person, Role, issue
from .postgres import Conn
from .retention import Retention, default_for


async def create_workspace(
    conn: Conn, workspace_id: str, name: str, tier: str = "standard"
) -> None:
    defaults = default_for(tier)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO workspaces (workspace_id, name, compliance_tier) VALUES ($1, $2, $3)",
            workspace_id,
            name,
            tier,
        )
        await conn.execute(
            """INSERT INTO retention_settings (workspace_id, retention_years, archive_after_days,
                   auto_export_on_seal, auto_export_format, floor_years, updated_by)
               VALUES ($1, $2, $3, $4, $5, $6, 'create-workspace')""",
            workspace_id,
            defaults.retention_years,
            defaults.archive_after_days,
            defaults.auto_export_on_seal,
            defaults.auto_export_format.value,
            defaults.floor_years,
        )


class PersonConflict(ValueError):
    """A name already held by someone in the workspace, with another title or email."""


async def person(
    conn: Conn, workspace_id: str, name: str, title: str, email: str | None = None
) -> Person:
    """The person of this name in the workspace, recorded on first use. The same name with
    another title or email is refused: a name must name one person (docs/spec/trust.md)."""
    name, title = name.strip(), title.strip()
    if not name or not title:
        raise PersonConflict("a key holder needs a name and a title")
    await conn.execute(
        """INSERT INTO people (person_id, workspace_id, name, title, email)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, name) DO NOTHING""",
        f"p-{secrets.token_hex(6)}",
        workspace_id,
        name,
        title,
        email,
    )
    row = await conn.fetchrow(
        "SELECT * FROM people WHERE workspace_id = $1 AND name = $2", workspace_id, name
    )
    assert row is not None
    if (row["title"], row["email"]) != (title, email):
        raise PersonConflict(
            f"{name!r} is already {row['person_id']} ({row['title']}, "
            f"{row['email'] or 'no email'}) in {workspace_id}: issue them another key with "
            "the same title and email"
        )
    return Person(row["person_id"], row["name"], row["title"], row["email"])


async def issue_key(
    conn: Conn,
    workspace_id: str,
    role: Role,
    label: str = "",
    holder: Person | None = None,
) -> IssuedKey:
    """A new key of `role`, held by `holder` (a person of the workspace, see `person`)."""
    issued = issue()
    await conn.execute(
        """INSERT INTO api_keys (key_id, workspace_id, role, key_hash, signing_key, label,
               person_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        issued.key_id,
        workspace_id,
        role.value,
        issued.key_hash,
        issued.signing_key_hex,
        label,
        holder.person_id if holder else None,
    )
    return issued


async def key_holders(conn: Conn, workspace_id: str) -> list[dict[str, object]]:
    """Every key of the workspace with its person, revoked ones too: the history that lets
    an old approval be traced to who made it."""
    rows = await conn.fetch(
        """SELECT k.key_id, k.role, k.label, k.created_at, k.revoked_at, p.person_id, p.name,
                  p.title, p.email
           FROM api_keys k LEFT JOIN people p USING (person_id)
           WHERE k.workspace_id = $1 ORDER BY k.created_at, k.key_id""",
        workspace_id,
    )
    return [dict(r) for r in rows]


async def rotate_key(conn: Conn, key_id: str) -> IssuedKey | None:
    """A new key for the holder of the active key `key_id` (same workspace, role, label and
    person), and `key_id` revoked; None when there is no such active key. Run it in a
    transaction."""
    row = await conn.fetchrow(
        """SELECT k.workspace_id, k.role, k.label, p.person_id, p.name, p.title, p.email
           FROM api_keys k LEFT JOIN people p USING (person_id)
           WHERE k.key_id = $1 AND k.revoked_at IS NULL FOR UPDATE OF k""",
        key_id,
    )
    if row is None or not await revoke_key(conn, key_id):
        return None
    holder = None
    if row["person_id"] is not None:
        holder = Person(row["person_id"], row["name"], row["title"], row["email"])
    return await issue_key(conn, row["workspace_id"], Role(row["role"]), row["label"], holder)


async def revoke_key(conn: Conn, key_id: str) -> bool:
    status = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    return bool(status.endswith(" 1"))


async def load_tier(conn: Conn, workspace_id: str, *, for_update: bool = False) -> str | None:
    """The workspace's compliance tier (None: no such workspace); `for_update` locks the row
    until the transaction ends, so two changes are applied one after the other."""
    lock = " FOR UPDATE" if for_update else ""
    tier: str | None = await conn.fetchval(
        f"SELECT compliance_tier FROM workspaces WHERE workspace_id = $1{lock}", workspace_id
    )
    return tier


async def store_tier(conn: Conn, workspace_id: str, tier: str) -> None:
    await conn.execute(
        "UPDATE workspaces SET compliance_tier = $2 WHERE workspace_id = $1", workspace_id, tier
    )


async def set_floor(conn: Conn, workspace_id: str, years: int) -> None:
    """An admin's floor; the current retention is raised to it when it is lower."""
    await conn.execute(
        """UPDATE retention_settings SET floor_years = $2,
               retention_years = greatest(retention_years, $2), updated_at = now(),
               updated_by = 'set-retention-floor'
           WHERE workspace_id = $1""",
        workspace_id,
        years,
    )


async def load_retention(
    conn: Conn, workspace_id: str, *, for_update: bool = False
) -> Retention | None:
    row = await conn.fetchrow(
        """SELECT retention_years, archive_after_days, auto_export_on_seal, auto_export_format,
                  floor_years, auto_export_template FROM retention_settings
           WHERE workspace_id = $1"""
        + (" FOR UPDATE" if for_update else ""),
        workspace_id,
    )
    if row is None:
        return None
    return Retention(
        row["retention_years"],
        row["archive_after_days"],
        row["auto_export_on_seal"],
        ExportFormat(row["auto_export_format"]),
        row["floor_years"],
        ExportTemplate(row["auto_export_template"]),
    )


async def store_retention(conn: Conn, workspace_id: str, new: Retention, updated_by: str) -> None:
    await conn.execute(
        """UPDATE retention_settings SET retention_years = $2, archive_after_days = $3,
               auto_export_on_seal = $4, auto_export_format = $5, updated_by = $6,
               auto_export_template = $7, updated_at = now()
           WHERE workspace_id = $1""",
        workspace_id,
        new.retention_years,
        new.archive_after_days,
        new.auto_export_on_seal,
        new.auto_export_format.value,
        updated_by,
        new.auto_export_template.value,
    )
