"""The exporter's HTTP API (port COGNIFY_EXPORTER_HTTP_PORT, 8082): seal, export, fetch a
package and its envelope, publish each workspace's public seal key.

Bearer API keys as everywhere (the `api_keys` table); any key of a workspace may seal and
export its runs: the approval the workspace policy requires is what guards a seal. A run of
another workspace is answered 404, like a missing one.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from cognify_access.keys import bearer
from cognify_access.service import service_app
from cognify_events import ExportFormat, ExportTemplate
from cognify_lineage import queries
from cognify_lineage.auth import Principal
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from . import attestation, keys, metrics, package, postgres
from .workflow import Exporter, NotFound, Refused, export_json


class SealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    formats: list[ExportFormat] = []
    template: ExportTemplate = ExportTemplate.DEFAULT


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: ExportFormat = ExportFormat.PDF
    template: ExportTemplate = ExportTemplate.DEFAULT


async def _principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    exporter: Exporter = request.app.state.exporter
    token = bearer(authorization)
    found = await queries.principal(exporter.pool, token) if token else None
    if found is None:
        raise HTTPException(401, "a valid API key is needed", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(_principal)]


def create_app(exporter: Exporter) -> FastAPI:
    app = service_app("Cognify exporter", metrics.HTTP_REQUESTS)
    app.state.exporter = exporter

    @app.get("/v1/workspaces/{workspace_id}/seal-key")
    async def seal_key(workspace_id: str) -> Any:
        """Public by design: auditors need it to verify packages offline."""
        found = await exporter.pool.fetchval(
            "SELECT 1 FROM workspaces WHERE workspace_id = $1", workspace_id
        )
        if found is None:
            raise HTTPException(404, "no such workspace")
        key = await exporter.public_key(workspace_id)
        public = keys.public_of(key)
        return {
            "workspace_id": workspace_id,
            "key_id": key.key_id,
            "algorithm": "ed25519",
            "public_key_pem": attestation.public_pem(public),
            "public_key_b64": base64.b64encode(key.public_key).decode(),
        }

    @app.post("/v1/runs/{run_id}/seal")
    async def seal(run_id: str, body: SealIn, p: Caller) -> Any:
        try:
            return await exporter.seal(
                run_id, p.label or p.key_id, p.workspace_id, body.formats, body.template
            )
        except NotFound:
            raise HTTPException(404, "no such run") from None
        except Refused as exc:
            return JSONResponse({"error": "the run cannot be sealed", "reasons": exc.reasons}, 409)

    @app.post("/v1/runs/{run_id}/exports", status_code=201)
    async def export(run_id: str, body: ExportIn, p: Caller) -> Any:
        try:
            row = await exporter.export(
                run_id, body.format, body.template, p.label or p.key_id, p.workspace_id
            )
        except NotFound:
            raise HTTPException(404, "no such run") from None
        except Refused as exc:
            return JSONResponse({"error": "the run cannot be sealed", "reasons": exc.reasons}, 409)
        return export_json(row)

    async def row_for(
        run_id: str, fmt: ExportFormat, template: ExportTemplate, p: Principal
    ) -> Any:
        row = await postgres.export_row(exporter.pool, run_id, fmt, template)
        if row is None or row.workspace_id != p.workspace_id:
            raise HTTPException(404, "no such package; POST /v1/runs/{run_id}/exports first")
        return row

    @app.get("/v1/runs/{run_id}/exports/{template}/{fmt}")
    async def fetch(run_id: str, template: ExportTemplate, fmt: ExportFormat, p: Caller) -> Any:
        row = await row_for(run_id, fmt, template, p)
        data = await exporter.packages.read(row.object_key)
        name = row.object_key.rsplit("/", 1)[-1]
        return Response(
            data,
            media_type=package.CONTENT_TYPES[fmt],
            headers={
                "X-Cognify-Package-Hash": row.package_hash,
                "X-Cognify-Object-Key": row.object_key,
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )

    @app.get("/v1/runs/{run_id}/exports/{template}/{fmt}/envelope")
    async def envelope(run_id: str, template: ExportTemplate, fmt: ExportFormat, p: Caller) -> Any:
        row = await row_for(run_id, fmt, template, p)
        data = await exporter.packages.read(row.envelope_key)
        return Response(data, media_type="application/json")

    @app.exception_handler(HTTPException)
    async def problem(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    return app
