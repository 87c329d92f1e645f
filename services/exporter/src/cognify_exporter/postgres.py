"""The exporter's PostgreSQL adapter: reads the event store and the lineage projection
through lineage's published views (`lineage_read`, read by `views`), and keeps seal keys,
workspace documentation and the package index (migration 0006)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg  # noqa: TID251 (adapter module)
import cognify_events as ev
from cognify_access.keys import key_id_of, matches
from cognify_access.records import actor_of
from cognify_events import chain, freshness
from cognify_lineage_model.model import Finding, Run, iso

from . import keys, views
from .report import DOC_FIELDS, QUOTED_TYPES
from .seal import Policy

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


async def _init(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, size: int = 4) -> Pool:
    """The exporter's pool: json and jsonb as Python values (the read model's JSON)."""
    return await asyncpg.create_pool(dsn, min_size=1, max_size=size, init=_init)


@dataclass(frozen=True)
class Principal:
    """A caller of the exporter's API: one active key, and the person who holds it."""

    key_id: str
    workspace_id: str
    role: str
    label: str
    holder: str | None = None  # the person's printed name (people, migration 0008)

    @property
    def actor(self) -> str:
        return actor_of(self.key_id, self.label, self.holder)

    @property
    def signer(self) -> str:
        """Who a seal names: the key's holder, never anything the request says."""
        return self.holder or self.actor


async def principal(pool: Pool, token: str) -> Principal | None:
    """The active key behind a bearer token (keys are issued by `cognify-admin`)."""
    key_id = key_id_of(token)
    if key_id is None:
        return None
    row = await pool.fetchrow(
        """SELECT k.key_id, k.workspace_id, k.role, k.key_hash, k.label, p.name
           FROM public.api_keys k LEFT JOIN public.people p USING (person_id)
           WHERE k.key_id = $1 AND k.revoked_at IS NULL""",
        key_id,
    )
    if row is None or not matches(token, row["key_hash"]):
        return None
    return Principal(row["key_id"], row["workspace_id"], row["role"], row["label"], row["name"])


@dataclass(frozen=True)
class Retention:
    retention_years: int
    auto_export_on_seal: bool
    auto_export_format: ev.ExportFormat
    auto_export_template: ev.ExportTemplate = ev.ExportTemplate.DEFAULT
    archive_after_days: int = 0


@dataclass(frozen=True)
class ExportRow:
    run_id: str
    format: ev.ExportFormat
    template: ev.ExportTemplate
    workspace_id: str
    bucket: str
    object_key: str
    envelope_key: str
    package_hash: str
    size: int
    retain_until: datetime


async def run(pool: Pool, run_id: str) -> Run | None:
    async with pool.acquire() as conn:
        return (await views.runs(conn, [run_id])).get(run_id)


async def run_summary(pool: Pool, run_id: str) -> Run | None:
    """The run without its graph and metric points (views.run_rows)."""
    async with pool.acquire() as conn:
        return (await views.run_rows(conn, [run_id])).get(run_id)


async def verified_chain(pool: Pool, run_id: str) -> chain.Verification:
    async with pool.acquire() as conn:
        links, head = await views.chain_rows(conn, run_id)
    return chain.verify(run_id, links, head)


@dataclass(frozen=True)
class Snapshot:
    """A run as one moment of lineage's store: its projection, its chain verified, and the
    findings of its refused events. A seal names this chain's head, so what `seal.reasons`
    checks must be the state folded from exactly these events."""

    run: Run
    chain: chain.Verification
    refusals: list[Finding]
    stale: dict[str, str] = field(default_factory=dict)  # decision event id -> why


async def stale_decisions(conn: Any, run: Run, before: int | None = None) -> dict[str, str]:
    """The run's decisions made about an earlier state of it (freshness.py): by event id,
    why each no longer counts. Decisions recorded without a reviewed length (before v1.1)
    cannot be judged and are left as they are. `before`: judge against the first `before`
    events of the chain only (the sealed ones: what a package records)."""
    out: dict[str, str] = {}
    rows = await conn.fetch(
        """SELECT body FROM lineage_read.events WHERE chain_id = $1
             AND type = ANY('{run.approved,run.rejected}'::text[])
             AND ($2::int IS NULL OR chain_index < $2)""",
        run.run_id,
        before,
    )
    for row in rows:
        event = ev.decode(row["body"])
        if not isinstance(event, ev.RunApproved | ev.RunRejected):
            continue
        length = event.payload.reviewed_chain_length
        if length is None:
            continue
        found = await conn.fetchrow(
            """SELECT min(chain_index) AS first, count(*) AS n,
                      (array_agg(type ORDER BY chain_index))[1] AS type
               FROM lineage_read.events WHERE chain_id = $1 AND chain_index >= $2
                 AND NOT type = ANY($3::text[]) AND ($4::int IS NULL OR chain_index < $4)""",
            run.run_id,
            length,
            list(freshness.NOT_CHANGES),
            before,
        )
        change = None
        if found is not None and found["n"]:
            change = freshness.Change(found["first"], found["type"], found["n"])
        decision = "approved" if isinstance(event, ev.RunApproved) else "rejected"
        why = freshness.stale_reason(event.payload.reviewer.name, decision, length, change)
        if why is not None:
            out[str(event.event_id)] = why
    return out


async def snapshot(pool: Pool, run_id: str) -> Snapshot | None:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        found = (await views.runs(conn, [run_id])).get(run_id)
        if found is None:
            return None
        links, head = await views.chain_rows(conn, run_id)
        refused = await views.refusals(conn, found)
        stale = await stale_decisions(conn, found)
    return Snapshot(found, chain.verify(run_id, links, head), refused, stale)


async def quoted_events(pool: Pool, run_id: str, count: int) -> list[ev.EventBase]:
    """The run's stored events of the types a report quotes, among the first `count`."""
    rows = await pool.fetch(
        """SELECT body FROM lineage_read.events WHERE chain_id = $1 AND chain_index < $2
             AND type = ANY($3::text[]) ORDER BY chain_index""",
        run_id,
        count,
        list(QUOTED_TYPES),
    )
    return [ev.decode(r["body"]) for r in rows]


async def access_log(pool: Pool, workspace_id: str, run_id: str, until: datetime) -> list[Any]:
    rows = await pool.fetch(
        """SELECT actor, role, action, address, allowed, accessed_at FROM lineage_read.access_log
           WHERE workspace_id = $1 AND (object_id = $2 OR object_id LIKE $2 || '/%')
             AND accessed_at <= $3 ORDER BY accessed_at, event_id""",
        workspace_id,
        f"run:{run_id}",
        until,
    )
    return [
        {
            "actor": r["actor"],
            "role": r["role"],
            "action": r["action"],
            "address": r["address"],
            "allowed": r["allowed"],
            "time": iso(r["accessed_at"]),
        }
        for r in rows
    ]


async def documentation(pool: Pool, workspace_id: str) -> tuple[Policy, dict[str, str | None]]:
    row = await pool.fetchrow(
        "SELECT * FROM workspace_documentation WHERE workspace_id = $1", workspace_id
    )
    if row is None:
        return Policy(), {}
    return Policy(row["required_approvals"]), {k: row[k] for k in DOC_FIELDS}


async def documentation_events(pool: Pool, workspace_id: str, run_id: str) -> list[ev.EventBase]:
    """The workspace's `documentation.updated` events stored before the run's seal, in
    store order: what the sealed run's package cites (orgdocs.py), whatever changes later."""
    rows = await pool.fetch(
        """SELECT body FROM lineage_read.events WHERE chain_id = $1
             AND type = 'documentation.updated'
             AND position < (SELECT min(position) FROM lineage_read.events
                             WHERE chain_id = $2 AND type = 'run.sealed')
           ORDER BY chain_index""",
        f"workspace:{workspace_id}",
        run_id,
    )
    return [ev.decode(r["body"]) for r in rows]


async def current_documentation_events(pool: Pool, workspace_id: str) -> list[ev.EventBase]:
    """Every `documentation.updated` event of the workspace, in store order: the document
    as a seal now would cite it (orgdocs.py)."""
    rows = await pool.fetch(
        """SELECT body FROM lineage_read.events WHERE chain_id = $1
             AND type = 'documentation.updated' ORDER BY chain_index""",
        f"workspace:{workspace_id}",
    )
    return [ev.decode(r["body"]) for r in rows]


async def set_documentation(
    pool: Pool, workspace_id: str, required_approvals: int = 1, **text: str | None
) -> None:
    fields = {k: text.get(k) for k in DOC_FIELDS}
    await pool.execute(
        f"""INSERT INTO workspace_documentation (workspace_id, required_approvals,
                {", ".join(fields)}) VALUES ($1, $2, {
            ", ".join(f"${i + 3}" for i in range(len(fields)))
        })
            ON CONFLICT (workspace_id) DO UPDATE SET required_approvals = $2,
                {", ".join(f"{k} = EXCLUDED.{k}" for k in fields)}, updated_at = now()""",
        workspace_id,
        required_approvals,
        *fields.values(),
    )


async def retention(pool: Pool, workspace_id: str) -> Retention:
    row = await pool.fetchrow(
        """SELECT retention_years, auto_export_on_seal, auto_export_format,
                  auto_export_template, archive_after_days
           FROM retention_settings WHERE workspace_id = $1""",
        workspace_id,
    )
    if row is None:
        return Retention(1, False, ev.ExportFormat.JSON)
    return Retention(
        row["retention_years"],
        row["auto_export_on_seal"],
        ev.ExportFormat(row["auto_export_format"]),
        ev.ExportTemplate(row["auto_export_template"]),
        row["archive_after_days"],
    )


def _sealed_key(row: Any) -> keys.SealedKey:
    return keys.SealedKey(
        row["workspace_id"],
        row["key_id"],
        bytes(row["public_key"]),
        bytes(row["private_key_sealed"]),
    )


async def seal_key(pool: Pool, workspace_id: str, master_key: bytes) -> keys.SealedKey:
    """The workspace's current seal key, made on first use (the first writer wins a race)."""
    current = "SELECT * FROM seal_keys WHERE workspace_id = $1 AND retired_at IS NULL"
    row = await pool.fetchrow(current, workspace_id)
    if row is None:
        new = keys.generate(workspace_id, master_key)
        await pool.execute(
            """INSERT INTO seal_keys (workspace_id, key_id, public_key, private_key_sealed)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (workspace_id) WHERE retired_at IS NULL DO NOTHING""",
            workspace_id,
            new.key_id,
            new.public_key,
            new.private_key_sealed,
        )
        row = await pool.fetchrow(current, workspace_id)
    assert row is not None
    return _sealed_key(row)


async def seal_key_history(pool: Pool, workspace_id: str) -> list[keys.PublishedKey]:
    """Every seal key the workspace has had, oldest first: packages signed by a retired
    key still verify against it."""
    rows = await pool.fetch(
        """SELECT key_id, public_key, created_at, retired_at FROM seal_keys
           WHERE workspace_id = $1 ORDER BY created_at, key_id""",
        workspace_id,
    )
    return [
        keys.PublishedKey(r["key_id"], bytes(r["public_key"]), r["created_at"], r["retired_at"])
        for r in rows
    ]


async def rotate_seal_key(pool: Pool, workspace_id: str, master_key: bytes) -> keys.SealedKey:
    """Retire the current seal key (kept, and published as retired) and make a new one.
    LookupError when there is no such workspace."""
    if (
        await pool.fetchval("SELECT 1 FROM workspaces WHERE workspace_id = $1", workspace_id)
        is None
    ):
        raise LookupError(f"no such workspace: {workspace_id}")
    new = keys.generate(workspace_id, master_key)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """UPDATE seal_keys SET retired_at = now()
               WHERE workspace_id = $1 AND retired_at IS NULL""",
            workspace_id,
        )
        await conn.execute(
            """INSERT INTO seal_keys (workspace_id, key_id, public_key, private_key_sealed)
               VALUES ($1, $2, $3, $4)""",
            workspace_id,
            new.key_id,
            new.public_key,
            new.private_key_sealed,
        )
    return new


async def export_row(
    pool: Pool, run_id: str, fmt: ev.ExportFormat, template: ev.ExportTemplate
) -> ExportRow | None:
    r = await pool.fetchrow(
        "SELECT * FROM exports WHERE run_id = $1 AND format = $2 AND template = $3",
        run_id,
        fmt.value,
        template.value,
    )
    if r is None:
        return None
    return ExportRow(
        r["run_id"],
        ev.ExportFormat(r["format"]),
        ev.ExportTemplate(r["template"]),
        r["workspace_id"],
        r["bucket"],
        r["object_key"],
        r["envelope_key"],
        r["package_hash"],
        r["size"],
        r["retain_until"],
    )


async def record_export(pool: Pool, row: ExportRow) -> None:
    await pool.execute(
        """INSERT INTO exports (run_id, format, template, workspace_id, bucket, object_key,
               envelope_key, package_hash, size, retain_until)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING""",
        row.run_id,
        row.format.value,
        row.template.value,
        row.workspace_id,
        row.bucket,
        row.object_key,
        row.envelope_key,
        row.package_hash,
        row.size,
        row.retain_until,
    )


async def is_sealed(pool: Pool, run_id: str) -> bool:
    found = await pool.fetchval(
        "SELECT 1 FROM lineage_read.runs WHERE run_id = $1 AND sealed_at IS NOT NULL", run_id
    )
    return found is not None


async def refusal(pool: Pool, event_id: UUID) -> str | None:
    """Why lineage refused the event (`refused_events`), or None when it has not."""
    found: str | None = await pool.fetchval(
        "SELECT reason FROM lineage_read.refused_events WHERE event_id = $1", event_id
    )
    return found


async def connect(dsn: str) -> asyncpg.Connection[asyncpg.Record]:
    return await asyncpg.connect(dsn)
