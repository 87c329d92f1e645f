"""The composition root: the dashboard's HTTP routes over the session store, the proxy, the
live hub and the SPA's files (docs/spec/dashboard.md is the contract).

`python -m cognify_dashboard` serves them on one origin (127.0.0.1:8083 by default), one
uvicorn worker per process, with the live hub's Kafka consumer beside it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import aiohttp
import uvicorn
from cognify_access.bodies import BoundedBody
from cognify_access.encoding import accepts_gzip
from cognify_access.records import client_address
from cognify_access.service import Counted
from cognify_events.base import IDENT_PATTERN
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import metrics, revalidate
from .live import Hub
from .proxy import METHODS, SERVICES, Answer, Forwarder, upstream_path
from .session import Me, Session, Sessions, SignInLimiter
from .settings import DashboardSettings
from .static import SecurityHeaders, Spa

log = logging.getLogger("cognify_dashboard")
SESSION_COOKIE = "cognify_session"
CSRF_COOKIE = "cognify_csrf"
CSRF_HEADER = "x-csrf-token"
MAX_KEY = 256
NO_STORE = {"cache-control": "no-store"}
_IDENT = re.compile(IDENT_PATTERN)


@dataclass
class Dashboard:
    settings: DashboardSettings
    sessions: Sessions
    limiter: SignInLimiter
    forwarder: Forwarder
    hub: Hub
    spa: Spa
    kept: revalidate.Revalidation = field(default_factory=revalidate.Revalidation)


def _address(request: Request) -> str:
    return client_address(request) or "unknown"


def session_of(request: Request) -> Session:
    """The request's session, or the refusal: 401 without one, 403 for a state-changing
    request without the session's CSRF token."""
    d: Dashboard = request.app.state.dashboard
    session = d.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise HTTPException(401, "not signed in, or the session has expired")
    if request.method not in ("GET", "HEAD") and not session.csrf_ok(
        request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(403, "missing or wrong X-CSRF-Token")
    return session


Signed = Annotated[Session, Depends(session_of)]


def create_app(d: Dashboard) -> FastAPI:
    app = FastAPI(title="Cognify dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BoundedBody)
    app.add_middleware(SecurityHeaders)
    app.state.dashboard = d

    app.add_middleware(Counted, requests=metrics.HTTP_REQUESTS, latency=metrics.HTTP_SECONDS)

    def start(response: Response, session: Session) -> None:
        secure = d.settings.secure_cookies
        response.set_cookie(
            SESSION_COOKIE, session.token, httponly=True, samesite="strict", secure=secure
        )
        response.set_cookie(CSRF_COOKIE, session.csrf, samesite="strict", secure=secure)

    def end(response: Response) -> None:
        secure = d.settings.secure_cookies
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure)
        response.delete_cookie(CSRF_COOKIE, samesite="strict", secure=secure)

    async def whoami(key: str, request: Request) -> tuple[int, Any]:
        try:
            return await d.forwarder.json("ingest", "/v1/whoami", key, _address(request))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("ingest unreachable for whoami: %r", exc)
            return 503, None

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        # `live`: the Kafka consumer is at the topics' ends (new events reach open pages).
        return {"status": "ok", "live": d.hub.ready.is_set()}

    @app.get("/metrics")
    async def prometheus() -> Response:
        metrics.SESSIONS.set(len(d.sessions))
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/api/session")
    async def sign_in(request: Request) -> Any:
        # A JSON body only: a form of another site cannot send one without a CORS preflight,
        # which this origin never grants (no sign-in CSRF).
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise HTTPException(415, 'send {"api_key": ...} as application/json')
        address = _address(request)
        wait = d.limiter.retry_after(address)
        if wait > 0:
            metrics.SIGN_INS.labels("limited").inc()
            headers = {"Retry-After": str(int(wait) + 1)}
            raise HTTPException(429, "too many refused keys from this address", headers)
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(422, "the body is not JSON") from None
        key = body.get("api_key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
            raise HTTPException(422, 'the body must be {"api_key": "cgk_..."}')
        status, who = await whoami(key.strip(), request)
        if status == 401 or (status == 200 and not isinstance(who, dict)):
            d.limiter.failed(address)
            metrics.SIGN_INS.labels("refused").inc()
            raise HTTPException(401, "this API key is not valid (or has been revoked)")
        if status != 200:
            metrics.SIGN_INS.labels("unavailable").inc()
            raise HTTPException(503, f"the services cannot confirm the key now ({status})")
        d.limiter.succeeded(address)
        d.sessions.close(request.cookies.get(SESSION_COOKIE))
        session = d.sessions.open(key.strip(), Me.from_whoami(who))
        metrics.SIGN_INS.labels("ok").inc()
        response = JSONResponse(session.me.json())
        start(response, session)
        return response

    @app.get("/api/session")
    async def current(request: Request) -> Any:
        session = d.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is not None and time.monotonic() - session.checked_at > d.settings.recheck_s:
            status, _ = await whoami(session.api_key, request)
            if status == 401:  # revoked since sign-in
                d.sessions.close(session.token)
                session = None
            elif status == 200:
                session.checked_at = time.monotonic()
        if session is None:
            response = JSONResponse({"detail": "not signed in"}, 401)
            end(response)
            return response
        return session.me.json()

    @app.delete("/api/session", status_code=204)
    async def sign_out(session: Signed) -> Response:
        d.sessions.close(session.token)
        response = Response(status_code=204)
        end(response)
        return response

    @app.get("/api/live")
    async def live(
        request: Request,
        session: Signed,
        run_id: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Any:
        if run_id is not None:
            if not _IDENT.match(run_id):
                raise HTTPException(404, "no such run")
            try:
                status, _ = await d.forwarder.json(
                    "lineage", f"/v1/runs/{run_id}", session.api_key, _address(request)
                )
            except (aiohttp.ClientError, TimeoutError):
                raise HTTPException(503, "lineage is unreachable") from None
            if status != 200:
                raise HTTPException(status if status in (401, 403, 404) else 502, "no such run")
        sub = d.hub.subscribe(session.me.workspace_id, run_id)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(d.hub.stream(sub), media_type="text/event-stream", headers=headers)

    @app.api_route("/api/{service}/{rest:path}", methods=sorted(METHODS))
    async def forward(service: str, rest: str, request: Request) -> Any:
        path = upstream_path(request.scope.get("raw_path") or b"", f"/api/{service}/")
        if service not in SERVICES or path is None:
            raise HTTPException(404, "not found")
        session = session_of(request)
        body = await request.body() if request.method not in ("GET", "HEAD") else None
        query = request.scope.get("query_string", b"")
        # A GET the browser does not revalidate itself is revalidated here (revalidate.py):
        # the service checks the key and records the read every time, and a 304 from it
        # answers the body kept from its last 200 to this key.
        asked = request.headers.get("if-none-match")
        zipped = accepts_gzip(request.headers.get("accept-encoding"))
        kept_key = (
            revalidate.key_of(session.api_key, service, path, query, zipped)
            if request.method == "GET" and asked is None
            else None
        )
        kept = d.kept.get(kept_key) if kept_key is not None else None
        try:
            answer = await d.forwarder.send(
                service,
                request.method,
                path,
                query,
                session.api_key,
                _address(request),
                body,
                request.headers.get("content-type"),
                if_none_match=asked or (kept.etag if kept is not None else None),
                gzip=zipped,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.PROXIED.labels(service, "unreachable").inc()
            raise HTTPException(503, f"{service} is unreachable: {type(exc).__name__}") from None
        metrics.PROXIED.labels(service, f"{answer.status // 100}xx").inc()
        if answer.status == 401:  # the key was revoked: the session ends with it
            d.sessions.close(session.token)
        # What a key may read stays out of shared caches and the browser's disk cache.
        if kept_key is not None:
            try:
                return await kept_answer(service, kept_key, kept, answer)
            except (aiohttp.ClientError, TimeoutError) as exc:
                d.kept.drop(kept_key)
                metrics.PROXIED.labels(service, "unreachable").inc()
                raise HTTPException(503, f"{service} broke off: {type(exc).__name__}") from None
        return StreamingResponse(answer.body, answer.status, headers={**NO_STORE, **answer.headers})

    async def kept_answer(
        service: str, kept_key: str, kept: revalidate.Kept | None, answer: Answer
    ) -> Response:
        """The answer to a GET the dashboard revalidates (revalidate.py): the kept body on
        the service's 304, a 200 with a strong ETag read whole and kept, anything else as
        it comes (and nothing kept for that path any more)."""
        if kept is not None and answer.status == 304:
            await answer.read()
            metrics.REVALIDATED.labels(service, "not-modified").inc()
            return Response(kept.body, 200, headers={**NO_STORE, **kept.headers})
        tag = answer.headers.get("etag")
        if (
            answer.status == 200
            and revalidate.strong(tag)
            and answer.length is not None
            and answer.length <= d.kept.max_entry
        ):
            content = await answer.read()
            d.kept.put(kept_key, revalidate.Kept(str(tag), answer.headers, content))
            metrics.REVALIDATED.labels(service, "kept").inc()
            return Response(content, 200, headers={**NO_STORE, **answer.headers})
        d.kept.drop(kept_key)
        return StreamingResponse(answer.body, answer.status, headers={**NO_STORE, **answer.headers})

    @app.api_route("/api/{rest:path}", methods=sorted(METHODS))
    async def no_api(rest: str) -> Any:
        raise HTTPException(404, "not found")

    app.mount("/assets", d.spa.assets, name="assets")

    @app.api_route("/{rest:path}", methods=["GET", "HEAD"])
    async def page(rest: str) -> Response:
        return d.spa.root_file(rest) or d.spa.index()

    return app


def build(settings: DashboardSettings) -> Dashboard:
    urls = {
        "ingest": settings.ingest_url,
        "lineage": settings.lineage_url,
        "exporter": settings.exporter_url,
    }
    return Dashboard(
        settings=settings,
        sessions=Sessions(idle_s=settings.idle_s),
        limiter=SignInLimiter(settings.sign_in_failures, settings.sign_in_window_s),
        forwarder=Forwarder(urls),
        hub=Hub(settings.kafka, settings.events_topic, settings.progress_topic),
        spa=Spa(settings.web_dist),
    )


async def serve(settings: DashboardSettings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    d = build(settings)
    config = uvicorn.Config(
        create_app(d),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    hub = asyncio.create_task(d.hub.run(stop))
    web = asyncio.create_task(server.serve())
    log.info("dashboard up: http://%s:%s", settings.http_host, settings.http_port)
    try:
        await asyncio.wait([web, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
    finally:
        stop.set()
        server.should_exit = True
        await asyncio.gather(web, hub, return_exceptions=True)
        await d.forwarder.aclose()
