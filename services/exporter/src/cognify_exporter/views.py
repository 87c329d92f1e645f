"""The exporter's reader of lineage's published read contract, the views of `lineage_read`
(docs/spec/trust.md, "PostgreSQL roles"; docs/decisions/lineage-contract.md).

Its own queries, by explicit column lists, and the read model's pure row mapping
(`cognify_lineage_model.rows`): lineage's code is not imported, and its tables are not read
(the exporter's role may not). A run, its refused events' findings and its chain are read
from one snapshot when the caller's connection is in a transaction (`postgres.snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import asyncpg  # noqa: TID251 (adapter module)
from cognify_events import chain
from cognify_lineage_model.findings import SEQUENCE_CONFLICT
from cognify_lineage_model.model import Annotation, Finding, Run
from cognify_lineage_model.rows import (
    ANNOTATION_COLUMNS,
    APPROVAL_COLUMNS,
    EDGE_COLUMNS,
    FINDING_COLUMNS,
    NODE_COLUMNS,
    POINT_COLUMNS,
    REFUSAL_COLUMNS,
    RUN_COLUMNS,
    annotation_from_row,
    findings_from_refusals,
    is_conflict,
    runs_from_rows,
)

Conn: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)


def _columns(names: Iterable[str], alias: str = "") -> str:
    return ", ".join(f"{alias}{n}" for n in names)


_RUNS = f"SELECT {_columns(RUN_COLUMNS)} FROM lineage_read.runs WHERE run_id = ANY($1)"
_NODES = f"SELECT {_columns(NODE_COLUMNS)} FROM lineage_read.lineage_nodes WHERE run_id = ANY($1)"
_EDGES = f"SELECT {_columns(EDGE_COLUMNS)} FROM lineage_read.lineage_edges WHERE run_id = ANY($1)"
_FINDINGS = f"SELECT {_columns(FINDING_COLUMNS)} FROM lineage_read.findings WHERE run_id = ANY($1)"
_POINTS = f"SELECT {_columns(POINT_COLUMNS)} FROM lineage_read.metric_points WHERE run_id = ANY($1)"
_NOTES = f"""SELECT {_columns(ANNOTATION_COLUMNS)} FROM lineage_read.annotations
    WHERE run_id = ANY($1)"""
# decisions in store order: the position of each decision's event
_APPROVALS = f"""SELECT {_columns(APPROVAL_COLUMNS, "a.")} FROM lineage_read.approvals a
    JOIN lineage_read.events e USING (event_id) WHERE a.run_id = ANY($1) ORDER BY e.position"""
_REFUSED = f"""SELECT {_columns(REFUSAL_COLUMNS)},
    'sha256:' || encode(sha256(body), 'hex') AS body_sha256
    FROM lineage_read.refused_events WHERE run_id = $1 AND workspace_id = $2 ORDER BY position"""
_CONFLICT_NOTES = f"""SELECT {_columns(ANNOTATION_COLUMNS)} FROM lineage_read.annotations
    WHERE run_id = $1 AND node_id LIKE $2 ORDER BY created_at, annotation_id"""
_CHAIN = """SELECT chain_index, event_id, body, prev_hash, hash FROM lineage_read.events
    WHERE chain_id = $1 ORDER BY chain_index"""
_HEAD = "SELECT head_hash FROM lineage_read.chain_heads WHERE chain_id = $1"


async def runs(conn: Conn, run_ids: Iterable[str]) -> dict[str, Run]:
    """The runs as lineage projected them, everything included (metric points, annotations,
    decisions), from one snapshot: in the caller's transaction, or in one of its own."""
    ids = list(run_ids)
    if not conn.is_in_transaction():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await runs(conn, ids)
    return runs_from_rows(
        *[await conn.fetch(sql, ids) for sql in (_RUNS, _NODES, _EDGES, _FINDINGS)],
        *[await conn.fetch(sql, ids) for sql in (_POINTS, _NOTES, _APPROVALS)],
    )


async def run_rows(conn: Conn, run_ids: Iterable[str]) -> dict[str, Run]:
    """The runs' own rows only (status, workspace, project, seal, info): no nodes, edges,
    metric points or decisions. What deciding about an export needs, in one small read."""
    return runs_from_rows(await conn.fetch(_RUNS, list(run_ids)))


async def refusals(conn: Conn, run: Run) -> list[Finding]:
    """The findings of the run's refused events (`lineage_read.refused_events`); a sequence
    conflict is resolved by a reviewer's annotation of it."""
    found = await conn.fetch(_REFUSED, run.run_id, run.workspace_id)
    notes: list[Annotation] = []
    if any(is_conflict(r["reason"]) for r in found):
        rows = await conn.fetch(_CONFLICT_NOTES, run.run_id, f"{SEQUENCE_CONFLICT}:%")
        notes = [annotation_from_row(r) for r in rows]
    return findings_from_refusals(found, notes)


async def chain_rows(conn: Conn, chain_id: str) -> tuple[list[chain.StoredLink], str | None]:
    """A chain's events and its recorded head, from one snapshot (read apart, a head
    committed in between looks like a chain cut short: issue 12)."""
    if not conn.is_in_transaction():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await chain_rows(conn, chain_id)
    rows = await conn.fetch(_CHAIN, chain_id)
    head: str | None = await conn.fetchval(_HEAD, chain_id)
    links = [
        chain.StoredLink(r["chain_index"], str(r["event_id"]), r["body"], r["prev_hash"], r["hash"])
        for r in rows
    ]
    return links, head
