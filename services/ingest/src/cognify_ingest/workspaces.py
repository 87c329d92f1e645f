"""Workspaces, keys and retention in PostgreSQL: what the admin CLI and the retention
endpoint change. (An adapter: the only ingest module besides postgres.py that runs SQL.)
"""

from __future__ import annotations

from cognify_events import ExportFormat

from .credentials import IssuedKey, Role, issue
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


async def issue_key(conn: Conn, workspace_id: str, role: Role, label: str = "") -> IssuedKey:
    issued = issue()
    await conn.execute(
        """INSERT INTO api_keys (key_id, workspace_id, role, key_hash, signing_key, label)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        issued.key_id,
        workspace_id,
        role.value,
        issued.key_hash,
        issued.signing_key_hex,
        label,
    )
    return issued


async def revoke_key(conn: Conn, key_id: str) -> bool:
    status = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    return bool(status.endswith(" 1"))


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
                  floor_years FROM retention_settings WHERE workspace_id = $1"""
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
    )


async def store_retention(conn: Conn, workspace_id: str, new: Retention, updated_by: str) -> None:
    await conn.execute(
        """UPDATE retention_settings SET retention_years = $2, archive_after_days = $3,
               auto_export_on_seal = $4, auto_export_format = $5, updated_by = $6,
               updated_at = now()
           WHERE workspace_id = $1""",
        workspace_id,
        new.retention_years,
        new.archive_after_days,
        new.auto_export_on_seal,
        new.auto_export_format.value,
        updated_by,
    )
