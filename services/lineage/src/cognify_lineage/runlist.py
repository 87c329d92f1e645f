"""The runs list (`GET /v1/runs`), answered from a cache of encoded pages.

Reviewers page through the same workspace again and again (20 of them at once in
bench/dashboard.py, each page reloaded on every live update), and the list changes only when
a run of the workspace does. Each request reads the workspace's version first, one indexed
row (`version`); a page encoded under the same version is the page the query would give
again, byte for byte, and is answered as it was (`Pages`), with an ETag that lets a client
that holds it revalidate for a 304.

The version (migration 0028): every write of a run's row stamps it with the writing
transaction's id, and the workspace's version is the largest stamp among its runs. An
answer may be cached only when it was read in a snapshot where no transaction with a lower
id than that maximum was still running ("settled"): a transaction that commits later then
has a higher id and raises the version. Page, total and version come from one statement,
so the version stored is exactly the state the page shows. The cache key holds the
workspace and every parameter; the caller's key and role are checked before the cache is
looked at, and every answer, cached or not, is recorded as an access.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cognify_lineage_model.model import iso

from .graphcache import GraphCache
from .postgres import Pool

# How the runs list may be ordered: a column (descending with a leading "-"), each with
# run_id as the tie-breaker so pages never overlap. The default, newest activity first, is
# served by the index runs_workspace_recent (migration 0021).
SORTS = {
    "last_event_at": "last_event_at",
    "started_at": "started_at",
    "run_id": "run_id",
    "project": "project",
    "status": "status",
    "ended_at": "(doc->'info'->'end'->>'ended_at')",
}
NULLABLE = frozenset({"started_at", "ended_at"})
APPROVALS = ("approved", "rejected", "pending")
_APPROVAL = "coalesce(doc->'info'->'review'->>'decision', 'pending')"
MAX_BYTES = 16 * 1024 * 1024

# The workspace's version, and whether it is settled in this statement's snapshot (above).
_VERSION = """SELECT max(changed_xid)::text AS version,
       NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) AS running (xid)
                   WHERE running.xid < max(runs.changed_xid)) AS settled
FROM runs WHERE workspace_id = $1"""


@dataclass(frozen=True)
class Query:
    """One request's parameters: with the workspace, the cache key."""

    workspace_id: str
    project: str | None = None
    status: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    approval: str | None = None
    q: str | None = None
    sort: str = "-last_event_at"
    limit: int = 100
    offset: int = 0

    @property
    def key(self) -> str:
        return json.dumps(
            [
                self.workspace_id,
                self.project,
                self.status,
                self.tags,
                self.approval,
                self.q,
                self.sort,
                self.limit,
                self.offset,
            ]
        )


def order_by(sort: str) -> str | None:
    """The ORDER BY of a `sort` parameter (a whitelisted column), or None."""
    name = sort.removeprefix("-")
    column = SORTS.get(name)
    if column is None:
        return None
    direction = "DESC" if sort.startswith("-") else "ASC"
    nulls = " NULLS LAST" if name in NULLABLE else ""  # else the index's order exactly
    return f"{column} {direction}{nulls}, run_id {direction}"


def etag(query: Query, version: str | None) -> str:
    """A strong ETag for the page of `query` at `version`: another workspace, parameter or
    version is another tag."""
    text = json.dumps([query.key, version])
    return '"runs-' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (or is `*`)."""
    if not if_none_match:
        return False
    given = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return tag in given or "*" in given


async def version(pool: Pool, workspace_id: str) -> tuple[str | None, bool]:
    """The workspace's version and whether it is settled (one index read)."""
    row = await pool.fetchrow(_VERSION, workspace_id)
    return (row["version"], bool(row["settled"])) if row is not None else (None, True)


async def page(pool: Pool, query: Query) -> tuple[bytes, str | None, bool]:
    """The page encoded as the API answers it, and the version and settledness of the
    snapshot it was read in (one statement). `q` looks for text in the run id, name and tags
    (case-insensitive); `approval` is the latest decision or `pending`."""
    # Only the filters given, as parameters: the planner sees exactly the query to run,
    # and with none it counts and pages from the index runs_workspace_recent alone.
    args: list[Any] = [query.workspace_id]
    where = ["workspace_id = $1"]

    def given(sql: str, value: Any) -> None:
        args.append(value)
        where.append(sql.replace("$?", f"${len(args)}"))

    if query.project is not None:
        given("project = $?", query.project)
    if query.status is not None:
        given("status = $?", query.status)
    if query.tags:
        given("tags @> $?::jsonb", dict(query.tags))
    if query.approval is not None:
        given(f"{_APPROVAL} = $?", query.approval)
    if query.q:
        given(
            "(strpos(lower(run_id), $?) > 0 OR strpos(lower(coalesce(name, '')), $?) > 0"
            " OR strpos(lower(tags::text), $?) > 0)",
            query.q.lower(),
        )
    condition = " AND ".join(where)
    order = order_by(query.sort) or order_by("-last_event_at")
    n = len(args)
    # The page's run ids first (from the index, past the offset without reading the
    # documents), then the columns that need each run's document and findings for those
    # runs only; the total and the version in the same snapshot, on every row (and on the
    # one row of nulls an empty page gives).
    rows = await pool.fetch(
        f"""WITH meta AS (
                SELECT (SELECT count(*) FROM runs WHERE {condition}) AS total, v.*
                FROM ({_VERSION}) AS v),
            page AS (
                SELECT run_id, row_number() OVER (ORDER BY {order}) AS n
                FROM runs WHERE {condition}
                ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2})
            SELECT meta.total, meta.version, meta.settled, r.* FROM meta LEFT JOIN LATERAL (
                SELECT page.n, run_id, project, name, status, tags, started_at,
                    last_event_at, sealed_at, doc->'info'->'end'->>'ended_at' AS ended_at,
                    {_APPROVAL} AS approval,
                    (SELECT count(*) FROM findings f
                     WHERE f.run_id = runs.run_id AND f.resolved_at IS NULL) AS open_findings
                FROM page JOIN runs USING (run_id)) AS r ON true
            ORDER BY r.n""",
        *args,
        query.limit,
        query.offset,
    )
    runs = [
        {
            "run_id": r["run_id"],
            "project": r["project"],
            "name": r["name"],
            "status": r["status"],
            "tags": r["tags"],
            "started_at": iso(r["started_at"]) if r["started_at"] else None,
            "last_event_at": iso(r["last_event_at"]),
            "sealed_at": iso(r["sealed_at"]) if r["sealed_at"] else None,
            "ended_at": r["ended_at"],
            "approval": r["approval"],
            "open_findings": r["open_findings"],
        }
        for r in rows
        if r["run_id"] is not None
    ]
    answer = {
        "runs": runs,
        "limit": query.limit,
        "offset": query.offset,
        "total": int(rows[0]["total"]),
    }
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    return body, rows[0]["version"], bool(rows[0]["settled"])


@dataclass
class Pages:
    """Encoded pages by query, each under the version it was read at (bounded by bytes,
    least recently used first out; GraphCache's rules)."""

    cache: GraphCache

    @classmethod
    def create(cls, max_bytes: int = MAX_BYTES) -> Pages:
        return cls(GraphCache(max_bytes=max_bytes))

    def get(self, query: Query, version: str | None) -> bytes | None:
        return self.cache.get(query.key, (version,))

    def put(self, query: Query, version: str | None, body: bytes) -> None:
        self.cache.put(query.key, (version,), body)
