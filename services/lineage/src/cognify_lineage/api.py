"""The read API over HTTP (JSON): runs, one run, its lineage graph, metric series, events
with the chain verified, findings (with the events refused after the seal), annotations,
approvals.

Any key of a workspace (writer, reviewer, admin) may read that workspace; a run of another
workspace is answered exactly like a missing one (404). Every read, allowed or refused, is
recorded as an `access.recorded` event (the HIPAA template needs who read what, when, from
where).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from cognify_access.encoding import accepts_gzip
from cognify_access.params import (
    MAX_TEXT,
    Offset,
    PlainText,
    RunId,
    TagText,
    WorkspaceId,
    tag_filter,
)
from cognify_access.records import request_recorded
from cognify_access.responses import Health, refusals
from cognify_access.service import ApiKey, service_app
from cognify_events import Producer
from cognify_events.base import IDENT_PATTERN
from cognify_lineage_model import graph
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from . import anchors, metrics, queries, runlist, views
from .anchoring import Segments
from .auth import Principal
from .graphcache import GraphCache
from .kafka import Publisher
from .postgres import Pool, chain_rows
from .runcache import Flights, Folded, RunCache, Verdict, Verdicts
from .settings import DEV_ANCHOR_SEED

DEV_ANCHOR_KEY_ID = anchors.key_id(
    Ed25519PrivateKey.from_private_bytes(DEV_ANCHOR_SEED).public_key()
)

READ = refusals(401, 403, 404)  # a read of one run: no key, a role that may not read, no run


@dataclass
class Reader:
    pool: Pool
    publisher: Publisher
    producer: Producer
    # The anchors (anchoring.py) and lineage's anchor key; None: chains are not compared
    # with anchors.
    segments: Segments | None = None
    anchor_key: Ed25519PublicKey | None = None
    graphs: GraphCache = field(default_factory=GraphCache)
    pages: runlist.Pages = field(default_factory=runlist.Pages.create)
    graphs_gzip: GraphCache = field(default_factory=lambda: GraphCache(max_bytes=16 << 20))
    runs: RunCache = field(default_factory=RunCache)
    verdicts: Verdicts = field(default_factory=Verdicts)
    flights: Flights = field(default_factory=Flights)

    async def record(self, p: Principal, request: Request, action: str, obj: str, ok: bool) -> None:
        await self.publisher.emit(request_recorded(p, request, action, obj, ok, self.producer))

    async def run(self, p: Principal, request: Request, action: str, run_id: str) -> Folded:
        """The run, if the caller may read it; the refusal otherwise (recorded either way).
        Loaded once per version (runcache.py)."""
        version = await self.check(p, request, action, run_id)
        return await self.folded(run_id, version)

    async def folded(self, run_id: str, version: tuple[Any, ...]) -> Folded:
        """The run under `version` (read before), kept or loaded now."""
        kept = self.runs.get(run_id, version)
        if kept is not None:
            metrics.RUN_CACHE.labels("hit").inc()
            return kept
        metrics.RUN_CACHE.labels("miss").inc()

        async def load() -> Folded:
            found = await queries.run(self.pool, run_id)
            if found is None:  # gone between the two reads (a rebuild): as if never there
                raise HTTPException(404, "no such run")
            return self.runs.put(run_id, version, found)

        return await self.flights.run(("run", run_id, version), load)

    async def verdict(self, run_id: str, version: tuple[Any, ...]) -> Verdict:
        """The chain's verification under `version`: kept (runcache.Verdicts), or now."""
        kept = self.verdicts.get(run_id, version)
        if kept is not None:
            return kept
        return await self.flights.run(
            ("verdict", run_id, version), lambda: self.verify(run_id, version)
        )

    async def verify(self, run_id: str, version: tuple[Any, ...]) -> Verdict:
        """The chain verified now (and against its anchors), kept for the pages after."""
        began = self.verdicts.clock()
        links, head = await chain_rows(self.pool, run_id)
        status = await queries.chain_status(self.pool, self.segments, run_id, links, head)
        return self.verdicts.put(run_id, version, status, began)

    async def check(
        self, p: Principal, request: Request, action: str, run_id: str
    ) -> tuple[Any, ...]:
        """`run`'s refusals from one row, for reads that need no folded run: the run's
        version (queries.version) when the caller may read it."""
        obj = f"run:{run_id}"
        if not p.may_read:
            await self.record(p, request, action, obj, False)
            raise HTTPException(403, f"role {p.role} may not read")
        found = await queries.version(self.pool, run_id)
        if found is None or found[0] != p.workspace_id:
            await self.record(p, request, action, obj, False)
            raise HTTPException(404, "no such run")
        await self.record(p, request, action, obj, True)
        return found[1]


def kept_etag(kind: str, run_id: str, version: tuple[Any, ...], zipped: bool = False) -> str:
    """A strong ETag for an answer about the run kept under its version (graphcache.py), one
    per representation (gzip or not): the version read before the answer was built, so an
    answer built from a later read is at worst revalidated once more, never answered 304
    for a change. `kind` names the answer (`graph`, or `metrics` and the series asked for)."""
    digest = hashlib.sha256(repr((kind, run_id, version)).encode()).hexdigest()[:40]
    suffix = "-gz" if zipped else ""
    return f'"{kind.split(" ", 1)[0]}-{digest}{suffix}"'


async def kept_answer(
    reader: Reader,
    request: Request,
    kind: str,
    run_id: str,
    version: tuple[Any, ...],
    build: Callable[[], Awaitable[bytes]],
    outcomes: Counter,
) -> Response:
    """A JSON answer about the run that changes only with its version: 304 to a matching
    `If-None-Match`, else the encoding kept under the version (gzip when the caller takes it,
    compressed once per version), built by `build` on a miss. Called after the key was
    checked and the read recorded."""
    zipped = accepts_gzip(request.headers.get("accept-encoding"))
    tag = kept_etag(kind, run_id, version, zipped)
    headers = {"ETag": tag, "Vary": "Accept-Encoding"}
    if runlist.matches(request.headers.get("if-none-match"), tag):
        outcomes.labels("not-modified").inc()
        return Response(status_code=304, headers=headers)
    key = f"{kind}\x00{run_id}"
    cache = reader.graphs_gzip if zipped else reader.graphs
    cached = cache.get(key, version)
    if cached is None:
        outcomes.labels("miss").inc()

        async def plain() -> bytes:
            body = await build()
            reader.graphs.put(key, version, body)
            return body

        async def represented() -> bytes:
            body = reader.graphs.get(key, version)
            if body is None:
                body = await reader.flights.run((key, version), plain)
            if not zipped:
                return body
            # Megabytes compress for tens of milliseconds: off the event loop (zlib lets go
            # of the GIL).
            packed = await asyncio.to_thread(gzip.compress, body, 6, mtime=0)
            reader.graphs_gzip.put(key, version, packed)
            return packed

        # Reviewers asking at once for what is not kept yet wait for one build.
        cached = await reader.flights.run((key, version, zipped), represented)
    else:
        outcomes.labels("hit").inc()
    if zipped:
        headers["Content-Encoding"] = "gzip"
    return Response(cached, media_type="application/json", headers=headers)


async def _principal(request: Request, token: ApiKey) -> Principal:
    reader: Reader = request.app.state.reader
    found = await queries.principal(reader.pool, token) if token else None
    if found is None:
        raise HTTPException(401, "a valid API key is needed", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(_principal)]


def create_app(reader: Reader, ready: Callable[[], Awaitable[bool]] | None = None) -> FastAPI:
    app = service_app(
        "Cognify lineage", metrics.HTTP_REQUESTS, healthz=False, latency=metrics.HTTP_SECONDS
    )
    app.state.reader = reader

    @app.get("/healthz", responses={200: {"model": Health}, 503: {"model": Health}})
    async def healthz() -> Response:
        ok = await ready() if ready is not None else True
        return JSONResponse({"status": "ok" if ok else "starting"}, 200 if ok else 503)

    @app.get("/v1/runs", responses={200: {"model": views.RunList}, **refusals(401, 403)})
    async def list_runs(
        request: Request,
        p: Caller,
        project: Annotated[str | None, Query(pattern=IDENT_PATTERN)] = None,
        status: Annotated[str | None, Query(pattern=r"^[A-Za-z_-]{1,32}$")] = None,
        tag: Annotated[
            list[TagText] | None,
            Query(description="key:value (key up to 64 characters, value up to 256), repeatable"),
        ] = None,
        approval: Annotated[
            str | None,
            Query(
                pattern=f"^({'|'.join(runlist.APPROVALS)})$",
                description="the latest decision: approved, rejected, or pending (none yet)",
            ),
        ] = None,
        q: Annotated[
            PlainText | None,
            Query(
                min_length=1,
                max_length=MAX_TEXT,
                description="text in the run id, name or tags (case-insensitive)",
            ),
        ] = None,
        sort: Annotated[
            str,
            Query(
                pattern=f"^-?({'|'.join(runlist.SORTS)})$",
                description="a column, descending with a leading '-' (default -last_event_at)",
            ),
        ] = "-last_event_at",
        limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
        offset: Offset = 0,
    ) -> Any:
        tags = tag_filter(tag or [])
        if isinstance(tags, str):
            raise HTTPException(400, tags)
        obj = f"workspace:{p.workspace_id}"
        if not p.may_read:
            await reader.record(p, request, "runs.list", obj, False)
            raise HTTPException(403, f"role {p.role} may not read")
        # The key and its role are checked above, before any cache is looked at; the cache
        # key and the ETag hold the key's workspace (runlist.py).
        query = runlist.Query(
            p.workspace_id,
            project,
            status,
            tuple(sorted(tags.items())),
            approval,
            q,
            sort,
            limit,
            offset,
        )
        version, _ = await runlist.version(reader.pool, p.workspace_id)
        tag_now = runlist.etag(query, version)
        if runlist.matches(request.headers.get("if-none-match"), tag_now):
            metrics.PAGE_CACHE.labels("not-modified").inc()
            await reader.record(p, request, "runs.list", obj, True)
            return Response(status_code=304, headers={"ETag": tag_now})
        body = reader.pages.get(query, version)
        if body is not None:
            metrics.PAGE_CACHE.labels("hit").inc()
        else:
            metrics.PAGE_CACHE.labels("miss").inc()
            body, version, settled = await runlist.page(reader.pool, query)
            tag_now = runlist.etag(query, version)
            if settled:
                reader.pages.put(query, version, body)
        await reader.record(p, request, "runs.list", obj, True)
        return Response(body, media_type="application/json", headers={"ETag": tag_now})

    @app.get(
        "/v2/workspaces/{workspace_id}/access-log",
        responses={200: {"model": views.AccessLog}, **refusals(401, 403, 404)},
    )
    async def access_log(
        workspace_id: WorkspaceId,
        request: Request,
        p: Caller,
        limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
        offset: Offset = 0,
    ) -> Any:
        """Who read, annotated, approved, sealed and exported what, from which address:
        the workspace's access records, newest first (admin keys only)."""
        obj = f"workspace:{workspace_id}"
        if p.role != "admin":
            await reader.record(p, request, "access-log.read", obj, False)
            raise HTTPException(403, f"role {p.role} may not read the access log")
        if workspace_id != p.workspace_id:
            await reader.record(p, request, "access-log.read", obj, False)
            raise HTTPException(404, "no such workspace")
        entries, total = await queries.access_log(reader.pool, workspace_id, limit, offset)
        await reader.record(p, request, "access-log.read", obj, True)
        return {
            "workspace_id": workspace_id,
            "entries": entries,
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @app.get("/v1/runs/{run_id}", responses={200: {"model": views.RunSummary}, **READ})
    async def get_run(run_id: RunId, request: Request, p: Caller) -> Any:
        folded = await reader.run(p, request, "run.read", run_id)
        findings = await queries.run_findings(reader.pool, folded.run)
        return {**graph.summary(folded.run, folded.digest), "findings": findings}

    @app.get(
        "/v1/runs/{run_id}/lineage",
        responses={
            200: {
                "description": "the lineage graph (docs/spec/lineage-graph.schema.json)",
                "content": {"application/json": {"schema": views.lineage_schema()}},
            },
            **READ,
        },
    )
    async def lineage(run_id: RunId, request: Request, p: Caller) -> Any:
        version = await reader.check(p, request, "lineage.read", run_id)

        async def build() -> bytes:
            run = (await reader.folded(run_id, version)).run
            # Already JSON (graph.py): encoded as it is. FastAPI's generic encoder walked
            # the graph of a 2,000-checkpoint run for 77 ms of the 100 it took.
            return bytes(JSONResponse(graph.lineage(run)).body)

        # Gzip when the caller takes it (the dashboard passes the browser's wish on): a
        # 2,000-checkpoint graph is 0.9 MB of JSON and a tenth of that compressed.
        return await kept_answer(
            reader, request, "graph", run_id, version, build, metrics.GRAPH_CACHE
        )

    @app.get("/v1/runs/{run_id}/findings", responses={200: {"model": views.Findings}, **READ})
    async def findings(run_id: RunId, request: Request, p: Caller) -> Any:
        run = (await reader.run(p, request, "findings.read", run_id)).run
        return {"run_id": run_id, "findings": await queries.run_findings(reader.pool, run)}

    @app.get("/v1/runs/{run_id}/metrics", responses={200: {"model": views.MetricSeries}, **READ})
    async def metric_series(
        run_id: RunId,
        request: Request,
        p: Caller,
        name: Annotated[PlainText | None, Query(min_length=1, max_length=MAX_TEXT)] = None,
    ) -> Any:
        version = await reader.check(p, request, "metrics.read", run_id)

        async def build() -> bytes:
            series = await queries.metric_series(reader.pool, run_id, name)
            return bytes(JSONResponse({"run_id": run_id, "series": series}).body)

        # A long run's series are megabytes (20,000 points: 1.6 MB): kept like the graph,
        # since they too change only with the run's events.
        kind = "metrics" if name is None else f"metrics {name}"
        return await kept_answer(
            reader, request, kind, run_id, version, build, metrics.SERIES_CACHE
        )

    @app.get("/v1/runs/{run_id}/events", responses={200: {"model": views.EventPage}, **READ})
    async def events(
        run_id: RunId,
        request: Request,
        p: Caller,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
        offset: Offset = 0,
    ) -> Any:
        version = await reader.check(p, request, "events.read", run_id)
        # The chain's verification as kept for a few seconds with the pages answered with
        # it (runcache.Verdicts), or verified now.
        kept = await reader.verdict(run_id, version)
        body = kept.page(limit, offset)
        if body is None:
            page = await queries.events_verified(reader.pool, run_id, limit, offset, kept.status)
            # Plain JSON already (the events as stored, parsed): encoded as it is, not walked
            # by FastAPI's generic encoder (a page of 1,000 events).
            body = bytes(JSONResponse(page).body)
            kept.keep_page(limit, offset, body)
        return Response(body, media_type="application/json")

    @app.get("/v1/runs/{run_id}/chain", responses={200: {"model": views.ChainStatus}, **READ})
    async def chain_status(run_id: RunId, request: Request, p: Caller) -> Any:
        """The run's hash chain, recomputed from the stored events and compared with the
        heads lineage anchored in Object Lock storage (docs/spec/anchors.md)."""
        version = await reader.check(p, request, "chain.read", run_id)
        # Always afresh, and the run page's events say so from now on.
        return {"run_id": run_id, "chain": (await reader.verify(run_id, version)).status}

    @app.get("/v1/anchor-key", responses={200: {"model": views.AnchorKey}, **refusals(401, 404)})
    async def anchor_key(p: Caller) -> Any:
        """Lineage's anchor public key (and earlier ones it still trusts): what verifies
        the anchors. Any key may read it; an auditor should compare its fingerprint with one
        obtained from the operator (docs/spec/trust.md)."""
        if reader.anchor_key is None or reader.segments is None:
            raise HTTPException(404, "this lineage anchors nothing")
        current = anchors.key_id(reader.anchor_key)
        return {
            "key_id": current,
            "algorithm": "ed25519",
            "public_key_pem": reader.anchor_key.public_bytes(
                Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
            ).decode(),
            "public_key_b64": base64.b64encode(
                reader.anchor_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
            ).decode(),
            "trusted": sorted(reader.segments.trusted),
            "development": current == DEV_ANCHOR_KEY_ID,
        }

    @app.get("/v1/runs/{run_id}/annotations", responses={200: {"model": views.Annotations}, **READ})
    async def annotations(run_id: RunId, request: Request, p: Caller) -> Any:
        await reader.check(p, request, "annotations.read", run_id)
        return {"run_id": run_id, "annotations": await queries.annotation_list(reader.pool, run_id)}

    @app.get("/v1/runs/{run_id}/approvals", responses={200: {"model": views.Approvals}, **READ})
    async def approvals(run_id: RunId, request: Request, p: Caller) -> Any:
        folded = await reader.run(p, request, "approvals.read", run_id)
        found = await queries.approval_list(reader.pool, run_id, folded.run, folded.digest)
        return {"run_id": run_id, "lineage_digest": folded.digest, "approvals": found}

    return app
