"""The HTTP scaffolding every Cognify service has: request counting, /healthz, /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest


def service_app(title: str, requests: Counter, *, healthz: bool = True) -> FastAPI:
    """A FastAPI app counting requests by route and status in `requests` (labels: route,
    status), serving Prometheus' /metrics and, unless the service has its own, /healthz."""
    app = FastAPI(title=title, version="0.1.0")

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        route = request.scope.get("route")
        requests.labels(getattr(route, "path", "other"), response.status_code).inc()
        return response

    if healthz:

        @app.get("/healthz")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
