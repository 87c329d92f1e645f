"""The HTTP scaffolding every Cognify service has: request counting, /healthz, /metrics, the
bearer key, and the gate every request passes before a route reads anything.

The gate (docs/spec/http-api.md): a body is bounded (413) and too deeply nested JSON is
refused before a parser sees it; the target must be UTF-8 and the query may hold only the
route's own parameters, once each unless repeatable (400); a parameter that does not fit
its declaration is a 400 naming it, a body that does not fit is a 422; every refusal is
JSON, `{"error": reason}`, as the OpenAPI documents (cognify_access.responses).
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, FastAPI, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .bodies import MAX_BODY_BYTES, BoundedBody
from .params import query_problem, target_problem
from .responses import Health, complete, invalid_request, text_response

_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    bearerFormat="cgk_<key_id>_<secret>",
    description="A Cognify API key (`cognify-admin issue-key`), as a bearer token.",
)


async def api_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> str:
    """The key of an `Authorization: Bearer <key>` header ("" when absent)."""
    return credentials.credentials.strip() if credentials is not None else ""


ApiKey = Annotated[str, Depends(api_key)]
_DECLARED: dict[int, dict[str, bool]] = {}  # id(route) -> its query parameters


async def _gate(request: Request) -> None:
    problem = target_problem(request.scope.get("raw_path") or b"", request.scope["query_string"])
    if problem is None:
        route = request.scope.get("route")
        declared = _DECLARED.get(id(route))
        if declared is None:  # once per route (routes live as long as their app)
            declared = _DECLARED[id(route)] = _query_parameters(getattr(route, "dependant", None))
        problem = query_problem((name for name, _ in request.query_params.multi_items()), declared)
    if problem is not None:
        raise StarletteHTTPException(400, problem)


class Counted:
    """Counts each answer by route and status and times it to its first byte. A plain ASGI
    middleware: Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) ran every
    request in a task of its own and copied its body through a memory stream, a tenth of a
    cached read's time in lineage (bench/dashboard.py)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram | None) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", "other")
                self.requests.labels(route, message["status"]).inc()
                if self.latency is not None:
                    self.latency.labels(route).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, counted)


def service_app(
    title: str,
    requests: Counter,
    *,
    healthz: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
    raw_bodies: Mapping[str, int] | None = None,
    description: str = "",
    latency: Histogram | None = None,
) -> FastAPI:
    """A FastAPI app behind the gate above, counting requests by route and status in
    `requests` (labels: route, status), serving Prometheus' /metrics and, unless the service
    has its own, /healthz. Bodies are bounded by `max_body_bytes`, except the paths of
    `raw_bodies`, routes that read their body as bytes, each with its own bound. With
    `latency` (label: route), each request's seconds are observed there too."""
    app = FastAPI(
        title=title, version="0.1.0", description=description, dependencies=[Depends(_gate)]
    )
    app.add_middleware(BoundedBody, max_bytes=max_body_bytes, raw=raw_bodies)
    app.add_middleware(Counted, requests=requests, latency=latency)

    if healthz:

        @app.get("/healthz", responses={200: {"model": Health}})
        async def health() -> dict[str, str]:
            return {"status": "ok"}

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: text_response("Prometheus metrics (text exposition format)")},
    )
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(StarletteHTTPException)
    async def problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, body = invalid_request(exc.errors())
        return JSONResponse(body, status)

    return app


def _query_parameters(dependant: Any) -> dict[str, bool]:
    """The query parameters a route declares (its dependencies' too), each with whether it
    may be repeated (a list-typed parameter)."""
    return {field.alias: _repeatable(field.field_info.annotation) for field in _queries(dependant)}


def _queries(dependant: Any) -> Iterator[Any]:
    if dependant is None:
        return
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _queries(sub)


def _repeatable(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _repeatable(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_repeatable(a) for a in get_args(annotation) if a is not type(None))
    return origin in (list, tuple, set, frozenset)
