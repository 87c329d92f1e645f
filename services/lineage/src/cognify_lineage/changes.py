"""Writing back what the fold changed (an adapter: SQL only, no decisions).

`save(before, after)` compares the state `projection.load` read with the state `dag.fold`
returned and writes only the difference. The append-only tables' keys give the fold's
semantics: a metric point of the same name and step is replaced, an annotation id is kept
once, an approval or access record (keyed by its event id) is written once.
"""

from __future__ import annotations

import uuid
from typing import Any

from cognify_lineage_model.model import Projection, Run

from .projection import Conn, source_key


async def save(conn: Conn, before: Projection, after: Projection) -> None:
    """Write what the fold changed between `before` (as loaded) and `after`."""
    runs = [r for run_id, r in after.runs.items() if before.runs.get(run_id) != r]
    if runs:
        await _save_runs(conn, runs, before)
    datasets = [(k, v) for k, v in after.datasets.items() if before.datasets.get(k) != v]
    if datasets:
        await conn.executemany(
            """INSERT INTO dataset_roots (workspace_id, name, source, root, run_id, dataset_id)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (workspace_id, name, source) DO UPDATE SET root = EXCLUDED.root,
                   run_id = EXCLUDED.run_id, dataset_id = EXCLUDED.dataset_id""",
            [(k[0], k[1], source_key(k[2]), v.root, v.run_id, v.dataset_id) for k, v in datasets],
        )
    access = after.access[len(before.access) :]
    if access:
        await conn.executemany(
            """INSERT INTO access_log (event_id, workspace_id, actor, role, action, object_id,
                   address, allowed, accessed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (event_id) DO NOTHING""",
            [
                (
                    uuid.UUID(a.event_id),
                    a.workspace_id,
                    a.actor,
                    a.role,
                    a.action,
                    a.object_id,
                    a.address,
                    a.allowed,
                    a.time,
                )
                for a in access
            ],
        )


async def _save_runs(conn: Conn, runs: list[Run], before: Projection) -> None:
    await conn.executemany(
        """INSERT INTO runs (run_id, workspace_id, project, status, name, tags, started_at,
               last_event_at, sealed_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, name = EXCLUDED.name,
               tags = EXCLUDED.tags, started_at = EXCLUDED.started_at,
               last_event_at = EXCLUDED.last_event_at, sealed_at = EXCLUDED.sealed_at,
               doc = EXCLUDED.doc""",
        [
            (
                r.run_id,
                r.workspace_id,
                r.project,
                r.status,
                r.name,
                dict(r.tags),
                r.started_at,
                r.last_event_at,
                r.sealed_at,
                {"info": dict(r.info), "seq_high": r.seq_high, "gaps": [list(g) for g in r.gaps]},
            )
            for r in runs
        ],
    )
    nodes, edges, findings, gone, points, notes, approvals = [], [], [], [], [], [], []
    moved: list[Any] = []
    for run in runs:
        old = before.runs.get(run.run_id) or Run(run.run_id, "", "", run.last_event_at)
        nodes += [
            (
                run.run_id,
                n.id,
                n.ordinal,
                n.type,
                n.hash,
                n.hash_status,
                n.hash_reason,
                n.time,
                dict(n.attrs),
            )
            for n in run.nodes.values()
            if old.nodes.get(n.id) != n
        ]
        edges += [
            (run.run_id, a, b, o) for (a, b), o in run.edges.items() if (a, b) not in old.edges
        ]
        # an evaluation's checkpoint edge moves when its own step's checkpoint arrives later
        moved += [(run.run_id, a, b) for (a, b) in old.edges if (a, b) not in run.edges]
        findings += [
            (
                run.run_id,
                f.id,
                f.kind,
                f.subject,
                dict(f.detail),
                f.opened_at,
                f.resolved_at,
                None if f.resolution is None else dict(f.resolution),
            )
            for f in run.findings.values()
            if old.findings.get(f.id) != f
        ]
        gone += [(run.run_id, fid) for fid in old.findings if fid not in run.findings]
        points += [(run.run_id, *point) for point in run.metrics.values()]
        notes += [
            (run.run_id, a.id, a.node_id, a.author_name, a.author_role, a.text, a.time)
            for a in run.annotations.values()
        ]
        approvals += [
            (
                uuid.UUID(a.event_id),
                run.run_id,
                a.decision,
                a.reviewer_name,
                a.reviewer_role,
                a.comment,
                a.time,
                a.lineage_digest,
            )
            for a in run.approvals[len(old.approvals) :]
        ]
    if moved:
        await conn.executemany(
            "DELETE FROM lineage_edges WHERE run_id = $1 AND from_id = $2 AND to_id = $3", moved
        )
    await _write_children(conn, nodes, edges, findings, gone, points, notes, approvals)


async def _write_children(
    conn: Conn,
    nodes: list[Any],
    edges: list[Any],
    findings: list[Any],
    gone: list[Any],
    points: list[Any],
    notes: list[Any],
    approvals: list[Any],
) -> None:
    if nodes:
        await conn.executemany(
            """INSERT INTO lineage_nodes (run_id, node_id, ordinal, type, hash, hash_status,
                   hash_reason, node_time, attrs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (run_id, node_id) DO UPDATE SET ordinal = EXCLUDED.ordinal,
                   type = EXCLUDED.type, hash = EXCLUDED.hash, hash_status = EXCLUDED.hash_status,
                   hash_reason = EXCLUDED.hash_reason, node_time = EXCLUDED.node_time,
                   attrs = EXCLUDED.attrs""",
            nodes,
        )
    if edges:
        await conn.executemany(
            """INSERT INTO lineage_edges (run_id, from_id, to_id, ordinal)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            edges,
        )
    if gone:
        await conn.executemany("DELETE FROM findings WHERE run_id = $1 AND finding_id = $2", gone)
    if findings:
        await conn.executemany(
            """INSERT INTO findings (run_id, finding_id, kind, subject, detail, opened_at,
                   resolved_at, resolution) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (run_id, finding_id) DO UPDATE SET kind = EXCLUDED.kind,
                   subject = EXCLUDED.subject, detail = EXCLUDED.detail,
                   opened_at = EXCLUDED.opened_at, resolved_at = EXCLUDED.resolved_at,
                   resolution = EXCLUDED.resolution""",
            findings,
        )
    if points:
        await _write_points(conn, points)
    if notes:
        await conn.executemany(
            """INSERT INTO annotations (run_id, annotation_id, node_id, author_name, author_role,
                   body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT DO NOTHING""",
            notes,
        )
    if approvals:
        await conn.executemany(
            """INSERT INTO approvals (event_id, run_id, decision, reviewer_name, reviewer_role,
                   comment, decided_at, lineage_digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT DO NOTHING""",
            approvals,
        )


_UNIQUE_VIOLATION = "23505"
_POINT_COLUMNS = ["run_id", "name", "step", "value", "epoch", "point_time"]


async def _write_points(conn: Conn, points: list[Any]) -> None:
    """The hot path (thousands of points per second): binary COPY straight into the table.
    A point of the same name and step as a stored one is replaced, as in the fold; that is
    rare, so only when the COPY meets one do the points go through the session's staging
    table (postgres._init) and an upsert."""
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "metric_points", records=points, columns=_POINT_COLUMNS
            )
        return
    except Exception as exc:  # asyncpg's UniqueViolationError; asyncpg stays in the adapters
        if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
    await conn.copy_records_to_table("metric_points_in", records=points, columns=_POINT_COLUMNS)
    await conn.execute(
        """INSERT INTO metric_points SELECT * FROM metric_points_in
           ON CONFLICT (run_id, name, step) DO UPDATE SET value = EXCLUDED.value,
               epoch = EXCLUDED.epoch, point_time = EXCLUDED.point_time"""
    )
