"""The projection tables <-> `model` values (an adapter: SQL only, no decisions).

`load` reads the folded state of some runs (`changes.save` writes it back). Append-only
parts (metric points, annotations, approvals, access records) are not loaded for folding
unless asked (`full=True`, for the read API and the tests): what the fold adds to them in
a batch is exactly what is new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TypeAlias

import asyncpg  # noqa: TID251 (adapter module)
from cognify_lineage_model.model import (
    Access,
    DatasetKey,
    DatasetRoot,
    Run,
)
from cognify_lineage_model.rows import runs_from_rows

Conn: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)
TABLES = (
    "runs",
    "lineage_nodes",
    "lineage_edges",
    "findings",
    "metric_points",
    "annotations",
    "approvals",
    "access_log",
    "dataset_roots",
)


async def load(conn: Conn, run_ids: Iterable[str], *, full: bool = False) -> dict[str, Run]:
    """The projected runs, read from one snapshot: a reader outside the fold's transaction
    (the exporter, the API) must not see a run's nodes committed after its run row."""
    if conn.is_in_transaction():
        return await _load(conn, list(run_ids), full)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _load(conn, list(run_ids), full)


async def _load(conn: Conn, ids: list[str], full: bool) -> dict[str, Run]:
    async def rows(sql: str) -> list[asyncpg.Record]:
        return await conn.fetch(sql, ids)

    return runs_from_rows(
        await rows("SELECT * FROM runs WHERE run_id = ANY($1)"),
        await rows("SELECT * FROM lineage_nodes WHERE run_id = ANY($1)"),
        await rows("SELECT * FROM lineage_edges WHERE run_id = ANY($1)"),
        await rows("SELECT * FROM findings WHERE run_id = ANY($1)"),
        await rows("SELECT * FROM metric_points WHERE run_id = ANY($1)") if full else (),
        await rows("SELECT * FROM annotations WHERE run_id = ANY($1)") if full else (),
        await rows(
            """SELECT a.* FROM approvals a JOIN events e USING (event_id)
               WHERE a.run_id = ANY($1) ORDER BY e.position"""
        )
        if full
        else (),
    )


# A btree index entry holds at most 2,704 bytes, and a dataset's source (up to 4,096
# characters, 16 KiB of UTF-8) is part of dataset_roots' key: a longer one is keyed by its
# SHA-256, and so is any source that starts like such a key (no two sources share a key).
_SOURCE_KEY_BYTES = 1_024
_DIGESTED = "sha256-of-source:"


def source_key(source: str) -> str:
    """The `dataset_roots.source` value of a dataset's source."""
    data = source.encode()
    if len(data) <= _SOURCE_KEY_BYTES and not source.startswith(_DIGESTED):
        return source
    return _DIGESTED + hashlib.sha256(data).hexdigest()


async def load_datasets(conn: Conn, keys: Iterable[DatasetKey]) -> dict[DatasetKey, DatasetRoot]:
    wanted = {(w, n, source_key(s)): (w, n, s) for w, n, s in keys}
    if not wanted:
        return {}
    rows = await conn.fetch(
        """SELECT d.* FROM dataset_roots d
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (w, n, s)
             ON d.workspace_id = k.w AND d.name = k.n AND d.source = k.s""",
        *(list(col) for col in zip(*wanted, strict=True)),
    )
    return {
        wanted[(r["workspace_id"], r["name"], r["source"])]: DatasetRoot(
            r["root"], r["run_id"], r["dataset_id"]
        )
        for r in rows
    }


async def load_access(conn: Conn, workspace_id: str) -> tuple[Access, ...]:
    rows = await conn.fetch(
        """SELECT a.* FROM access_log a JOIN events e USING (event_id)
           WHERE a.workspace_id = $1 ORDER BY e.position""",
        workspace_id,
    )
    return tuple(
        Access(
            str(r["event_id"]),
            r["workspace_id"],
            r["actor"],
            r["role"],
            r["action"],
            r["object_id"],
            r["address"],
            r["allowed"],
            r["accessed_at"],
        )
        for r in rows
    )
