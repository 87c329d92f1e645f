"""Ingest's PostgreSQL adapter: workspaces, keys, run owners, seals, with a small cache.

Ingest checks every event against this state, so it reads it in one round trip per batch
(`directory_for`) and caches it: run owners and seals never change back and are kept; the
absence of a seal and a workspace's key list expire after `ttl_s`, so a seal or a revoked
key takes effect within that delay.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, TypeAlias

import asyncpg  # noqa: TID251 (adapter module)
from cognify_events import Event

from .credentials import Person, Principal, Role, key_id_of, matches
from .validate import Directory, KeyInfo

# A plain connection or one borrowed from a pool: both run the same queries.
Conn: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)


class Registry:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 2.0) -> None:
        self.pool = pool
        self.ttl_s = ttl_s
        # workspace -> (its compliance tier, None when there is no such workspace; expiry)
        self._workspaces: dict[str, tuple[str | None, float]] = {}
        self._keys: dict[str, tuple[tuple[KeyInfo, ...], float]] = {}
        self._owners: dict[str, str] = {}
        self._sealed: set[str] = set()
        self._unsealed: dict[str, float] = {}  # run -> expiry of "not sealed"

    async def directory_for(self, events: Iterable[Event]) -> Directory:
        now = time.monotonic()
        wss = {e.workspace_id for e in events}
        runs = {e.run_id for e in events if e.run_id is not None}
        stale_ws = [w for w in wss if self._workspaces.get(w, (None, 0.0))[1] < now]
        stale_keys = [w for w in wss if self._keys.get(w, ((), 0.0))[1] < now]
        unowned = [r for r in runs if r not in self._owners]
        unsure = [r for r in runs if r not in self._sealed and self._unsealed.get(r, 0) < now]
        if stale_ws or stale_keys or unowned or unsure:
            async with self.pool.acquire() as conn:
                await self._refresh(conn, stale_ws, stale_keys, unowned, unsure, now)
        return Directory(
            workspaces={w for w in wss if self._workspaces[w][0] is not None},
            tiers={w: t for w in wss if (t := self._workspaces[w][0]) is not None},
            keys={w: self._keys[w][0] for w in wss if w in self._keys},
            owners={r: self._owners[r] for r in runs if r in self._owners},
            sealed={r for r in runs if r in self._sealed},
        )

    async def _refresh(
        self,
        conn: Conn,
        stale_ws: list[str],
        stale_keys: list[str],
        unowned: list[str],
        unsure: list[str],
        now: float,
    ) -> None:
        expiry = now + self.ttl_s
        if stale_ws:
            known = {
                r["workspace_id"]: r["compliance_tier"]
                for r in await conn.fetch(
                    """SELECT workspace_id, compliance_tier FROM workspaces
                       WHERE workspace_id = ANY($1)""",
                    stale_ws,
                )
            }
            self._workspaces.update({w: (known.get(w), expiry) for w in stale_ws})
        if stale_keys:
            found: dict[str, list[KeyInfo]] = {w: [] for w in stale_keys}
            for r in await conn.fetch(
                """SELECT workspace_id, key_id, role, signing_key FROM api_keys
                   WHERE workspace_id = ANY($1) AND revoked_at IS NULL
                     AND signing_key IS NOT NULL""",
                stale_keys,
            ):
                info = KeyInfo(r["key_id"], Role(r["role"]), bytes.fromhex(r["signing_key"]))
                found[r["workspace_id"]].append(info)
            for w, infos in found.items():
                self._keys[w] = (tuple(infos), expiry)
        if unowned:
            for r in await conn.fetch(
                "SELECT run_id, workspace_id FROM run_owners WHERE run_id = ANY($1)", unowned
            ):
                self._owners[r["run_id"]] = r["workspace_id"]
        if unsure:
            sealed = {
                r["run_id"]
                for r in await conn.fetch(
                    """SELECT run_id FROM lineage_read.runs
                       WHERE run_id = ANY($1) AND sealed_at IS NOT NULL""",
                    unsure,
                )
            }
            self._sealed |= sealed
            self._unsealed.update({r: expiry for r in unsure if r not in sealed})

    async def claim(self, claims: list[tuple[str, str, str]]) -> dict[str, str]:
        """Claim runs (run_id, workspace_id, project) for their workspaces; first claim wins.
        Returns the owner of every run asked about."""
        if not claims:
            return {}
        runs = [c[0] for c in claims]
        async with self.pool.acquire() as conn:
            await conn.execute(
                """INSERT INTO run_owners (run_id, workspace_id, project)
                   SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
                   ON CONFLICT (run_id) DO NOTHING""",
                runs,
                [c[1] for c in claims],
                [c[2] for c in claims],
            )
            rows = await conn.fetch(
                "SELECT run_id, workspace_id FROM run_owners WHERE run_id = ANY($1)", runs
            )
        self._owners.update({r["run_id"]: r["workspace_id"] for r in rows})
        return {r["run_id"]: r["workspace_id"] for r in rows}

    def mark_sealed(self, run_id: str) -> None:
        self._sealed.add(run_id)

    async def principal(self, token: str) -> Principal | None:
        """The active key behind a bearer token, or None."""
        key_id = key_id_of(token)
        if key_id is None:
            return None
        row = await self.pool.fetchrow(
            """SELECT k.key_id, k.workspace_id, k.role, k.key_hash, k.label, p.person_id,
                      p.name, p.title, p.email
               FROM api_keys k LEFT JOIN people p USING (person_id)
               WHERE k.key_id = $1 AND k.revoked_at IS NULL""",
            key_id,
        )
        if row is None or not matches(token, row["key_hash"]):
            return None
        person = None
        if row["person_id"] is not None:
            person = Person(row["person_id"], row["name"], row["title"], row["email"])
        return Principal(
            row["key_id"], row["workspace_id"], Role(row["role"]), row["label"], person
        )

    async def run(self, run_id: str) -> dict[str, Any] | None:
        """What the review commands need to know about a run: owner, project, seal."""
        row = await self.pool.fetchrow(
            """SELECT o.workspace_id, o.project, r.sealed_at IS NOT NULL AS sealed
               FROM run_owners o LEFT JOIN lineage_read.runs r USING (run_id)
               WHERE o.run_id = $1""",
            run_id,
        )
        return None if row is None else dict(row)

    async def chain_head(self, run_id: str) -> tuple[str, int] | None:
        """The run's event chain as lineage has stored it now (head hash, length): what a
        reviewer's decision is about. None before lineage has stored any event of it."""
        row = await self.pool.fetchrow(
            "SELECT head_hash, length FROM lineage_read.chain_heads WHERE chain_id = $1", run_id
        )
        return None if row is None else (row["head_hash"], row["length"])

    def forget_tier(self, workspace_id: str) -> None:
        """This process changed the tier: its gate reads it again at the next event (other
        ingest processes within their cache's `ttl_s`, 2 s)."""
        self._workspaces.pop(workspace_id, None)

    async def tier(self, workspace_id: str) -> str:
        """The workspace's compliance tier."""
        tier: str | None = await self.pool.fetchval(
            "SELECT compliance_tier FROM workspaces WHERE workspace_id = $1", workspace_id
        )
        return tier or "standard"

    async def node_exists(self, run_id: str, node_id: str) -> bool:
        """A node of the run's graph, or a sequence conflict or provenance-incomplete
        finding of the run: a reviewer sees one by annotating it (docs/spec/lineage.md,
        "Sequence conflicts", "Incomplete provenance")."""
        found = await self.pool.fetchval(
            """SELECT 1 FROM lineage_read.lineage_nodes WHERE run_id = $1 AND node_id = $2
               UNION ALL SELECT 1 FROM lineage_read.refused_events
               WHERE run_id = $1 AND 'sequence-conflict:' || event_id::text = $2
               UNION ALL SELECT 1 FROM lineage_read.findings
               WHERE run_id = $1 AND finding_id = $2 AND kind = 'provenance-incomplete'""",
            run_id,
            node_id,
        )
        return found is not None

    async def open_findings(self, run_id: str, kind: str) -> list[str]:
        rows = await self.pool.fetch(
            """SELECT subject FROM lineage_read.findings
               WHERE run_id = $1 AND kind = $2 AND resolved_at IS NULL ORDER BY subject""",
            run_id,
            kind,
        )
        return [r["subject"] for r in rows]

    async def dataset_finding_exists(self, run_id: str, dataset_id: str) -> bool:
        found = await self.pool.fetchval(
            """SELECT 1 FROM lineage_read.findings WHERE run_id = $1 AND kind = 'dataset-changed'
               AND subject = $2""",
            run_id,
            dataset_id,
        )
        return found is not None
