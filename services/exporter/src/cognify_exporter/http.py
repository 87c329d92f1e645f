"""The exporter's HTTP API (port COGNIFY_EXPORTER_HTTP_PORT, 8082): seal, export, fetch a
package and its envelope, publish each workspace's public seal key.

Bearer API keys as everywhere (the `api_keys` table); any key of a workspace may seal and
export its runs: the approval the workspace policy requires is what guards a seal. A run of
another workspace is answered 404, like a missing one.

Every use by a caller with a valid key, allowed or refused (404, 409), is recorded as an
`access.recorded` event on the canonical topic, as ingest and lineage do: `seal` on
`run:<run_id>`; `export`, `package.read` and `envelope.read` on the package,
`run:<run_id>/package:<template>.<format>`; `model-signature.read` on
`run:<run_id>/model-signature`. A seal's own record comes after the seal, so
it is never in the access log that seal fixes.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from cognify_access.params import RunId, WorkspaceId
from cognify_access.records import request_recorded
from cognify_access.responses import refusals
from cognify_access.service import ApiKey, service_app
from cognify_events import ExportFormat, ExportTemplate
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from . import attestation, keys, metrics, oms, omskeys, orgdocs, package, postgres
from .omskeys import OmsKey
from .postgres import Principal
from .receipts import Documentation, Exported, Sealed, SealKey, package_content
from .workflow import Exporter, NotFound, Refused, StaleSeal, export_json

T = TypeVar("T")


class SealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    formats: Annotated[list[ExportFormat], Field(max_length=4)] = []  # one per format
    template: ExportTemplate = ExportTemplate.DEFAULT


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: ExportFormat = ExportFormat.PDF
    template: ExportTemplate = ExportTemplate.DEFAULT


async def _principal(request: Request, token: ApiKey) -> Principal:
    exporter: Exporter = request.app.state.exporter
    found = await postgres.principal(exporter.pool, token) if token else None
    if found is None:
        raise HTTPException(401, "a valid API key is needed", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(_principal)]
RETRY_AFTER_S = 5  # a seal lineage has not folded yet, or found stale: soon worth a retry
# A seal or export: no key, no such run in the key's workspace, the run cannot be sealed
# (the reasons listed), the seal not folded in time or stale every time (retry).
WORK = refusals(401, 404, 409, 503)
READ = refusals(401, 404)


def package_object(run_id: str, template: ExportTemplate, fmt: ExportFormat) -> str:
    """The object id of a package in access records: a part of its run."""
    return f"run:{run_id}/package:{template.value}.{fmt.value}"


def create_app(exporter: Exporter) -> FastAPI:
    app = service_app("Cognify exporter", metrics.HTTP_REQUESTS, latency=metrics.HTTP_SECONDS)
    app.state.exporter = exporter

    async def record(p: Principal, request: Request, action: str, obj: str, ok: bool) -> None:
        metrics.ACCESS.labels(action, "true" if ok else "false").inc()
        await exporter.publish(request_recorded(p, request, action, obj, ok, exporter.producer))

    async def recorded(
        p: Principal, request: Request, action: str, obj: str, work: Awaitable[T]
    ) -> T | JSONResponse:
        """`work` (a seal or an export), recorded: refused when the run is not the caller's
        (404) or cannot be sealed (409), allowed otherwise. A seal published but not folded
        in time (TimeoutError), or refused as stale every time (StaleSeal), was allowed:
        recorded, and answered 503 with Retry-After (the caller may ask again)."""
        try:
            result = await work
        except NotFound:
            await record(p, request, action, obj, False)
            raise HTTPException(404, "no such run") from None
        except Refused as exc:
            await record(p, request, action, obj, False)
            return JSONResponse({"error": "the run cannot be sealed", "reasons": exc.reasons}, 409)
        except (TimeoutError, StaleSeal) as exc:
            await record(p, request, action, obj, True)
            headers = {"Retry-After": str(RETRY_AFTER_S)}
            return JSONResponse({"error": str(exc)}, 503, headers=headers)
        await record(p, request, action, obj, True)
        return result

    @app.get(
        "/v1/workspaces/{workspace_id}/seal-key",
        responses={200: {"model": SealKey}, **refusals(401, 404)},
    )
    async def seal_key(workspace_id: WorkspaceId, request: Request, p: Caller) -> Any:
        """The workspace's current seal key and its history (rotated keys, retired, still
        valid for what they signed), for a key of that workspace only: any other is a 404,
        like a workspace that does not exist, so the answer tells no one who exists. Each
        read is recorded (`seal-key.read` on `workspace:<id>`). docs/spec/trust.md."""
        obj = f"workspace:{workspace_id}"
        if p.workspace_id != workspace_id:
            await record(p, request, "seal-key.read", obj, False)
            raise HTTPException(404, "no such workspace")
        key = await exporter.public_key(workspace_id)
        public = keys.public_of(key)
        history = await postgres.seal_key_history(exporter.pool, workspace_id)
        await record(p, request, "seal-key.read", obj, True)
        return {
            "workspace_id": workspace_id,
            "key_id": key.key_id,
            "algorithm": "ed25519",
            "public_key_pem": attestation.public_pem(public),
            "public_key_b64": base64.b64encode(key.public_key).decode(),
            "keys": [k.json() for k in history],
        }

    @app.get(
        "/v1/workspaces/{workspace_id}/oms-key",
        responses={200: {"model": OmsKey}, **refusals(401, 404)},
    )
    async def oms_key(workspace_id: WorkspaceId, request: Request, p: Caller) -> Any:
        """The workspace's OpenSSF Model Signing public key (ECDSA P-256, beside the seal
        key; docs/decisions/oms.md), as `model_signing verify key --public_key` reads it.
        Same rules as the seal key: another workspace's key gets a 404; each read recorded
        (`oms-key.read` on `workspace:<id>`)."""
        obj = f"workspace:{workspace_id}"
        if p.workspace_id != workspace_id:
            await record(p, request, "oms-key.read", obj, False)
            raise HTTPException(404, "no such workspace")
        key = await omskeys.oms_key(exporter.pool, workspace_id, exporter.master_key)
        await record(p, request, "oms-key.read", obj, True)
        return omskeys.published(key)

    @app.get(
        "/v1/runs/{run_id}/model-signature",
        response_class=Response,
        responses={
            200: {
                "description": "the sealed final model's OMS v1.0 signature (Sigstore bundle)",
                "content": {oms.BUNDLE_MEDIA_TYPE: {"schema": {"type": "object"}}},
            },
            **READ,
        },
    )
    async def model_signature(run_id: RunId, request: Request, p: Caller) -> Any:
        """The OpenSSF Model Signing signature the seal made of the run's final model
        (modelsig.py), stored under Object Lock beside its packages: for `model_signing
        verify key MODEL_DIR --signature <this> --public_key <oms-key>`. 404 for a run of
        another workspace, one not sealed, or a model without hasher-listed files. Each read
        is recorded (`model-signature.read` on `run:<run_id>/model-signature`)."""
        obj = f"run:{run_id}/model-signature"
        key = oms.object_key(p.workspace_id, run_id)
        data = await exporter.packages.stored(key)
        await record(p, request, "model-signature.read", obj, data is not None)
        if data is None:
            raise HTTPException(404, "no model signature for this run (sealed with a model?)")
        return Response(
            data,
            media_type=oms.BUNDLE_MEDIA_TYPE,
            headers={
                "X-Cognify-Object-Key": key,
                "Content-Disposition": f'attachment; filename="{key.rsplit("/", 1)[-1]}"',
            },
        )

    @app.get(
        "/v2/workspaces/{workspace_id}/documentation",
        responses={200: {"model": Documentation}, **refusals(401, 403, 404)},
    )
    async def documentation(workspace_id: WorkspaceId, request: Request, p: Caller) -> Any:
        """The organisation's documentation of the workspace as a seal now would cite it:
        each field with its text, version and who set it when (admin keys only; set with
        ingest's `PATCH /v2/workspaces/{ws}/documentation`). Each read is recorded
        (`documentation.read` on `workspace:<id>`)."""
        obj = f"workspace:{workspace_id}"
        if p.role != "admin":
            await record(p, request, "documentation.read", obj, False)
            raise HTTPException(403, f"role {p.role} may not read the documentation")
        if p.workspace_id != workspace_id:
            await record(p, request, "documentation.read", obj, False)
            raise HTTPException(404, "no such workspace")
        _, legacy = await postgres.documentation(exporter.pool, workspace_id)
        changes = await postgres.current_documentation_events(exporter.pool, workspace_id)
        await record(p, request, "documentation.read", obj, True)
        return {"workspace_id": workspace_id, **orgdocs.fold(changes, legacy).json()}

    @app.post("/v1/runs/{run_id}/seal", responses={200: {"model": Sealed}, **WORK})
    async def seal(run_id: RunId, body: SealIn, request: Request, p: Caller) -> Any:
        work = exporter.seal(run_id, p.signer, p.workspace_id, body.formats, body.template)
        return await recorded(p, request, "seal", f"run:{run_id}", work)

    @app.post(
        "/v1/runs/{run_id}/exports", status_code=201, responses={201: {"model": Exported}, **WORK}
    )
    async def export(run_id: RunId, body: ExportIn, request: Request, p: Caller) -> Any:
        work = exporter.export(run_id, body.format, body.template, p.signer, p.workspace_id)
        obj = package_object(run_id, body.template, body.format)
        row = await recorded(p, request, "export", obj, work)
        return row if isinstance(row, JSONResponse) else export_json(row)

    async def row_for(
        run_id: str,
        fmt: ExportFormat,
        template: ExportTemplate,
        p: Principal,
        request: Request,
        action: str,
    ) -> Any:
        """The stored package, if the caller may read it; the refusal otherwise (recorded
        either way)."""
        obj = package_object(run_id, template, fmt)
        row = await postgres.export_row(exporter.pool, run_id, fmt, template)
        if row is None or row.workspace_id != p.workspace_id:
            await record(p, request, action, obj, False)
            raise HTTPException(404, "no such package; POST /v1/runs/{run_id}/exports first")
        await record(p, request, action, obj, True)
        return row

    @app.get(
        "/v1/runs/{run_id}/exports/{template}/{fmt}",
        response_class=Response,
        responses={200: package_content(), **READ},
    )
    async def fetch(
        run_id: RunId, template: ExportTemplate, fmt: ExportFormat, request: Request, p: Caller
    ) -> Any:
        row = await row_for(run_id, fmt, template, p, request, "package.read")
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

    @app.get(
        "/v1/runs/{run_id}/exports/{template}/{fmt}/envelope",
        responses={
            200: {
                "description": "the package's DSSE envelope (in-toto statement, Ed25519)",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **READ,
        },
    )
    async def envelope(
        run_id: RunId, template: ExportTemplate, fmt: ExportFormat, request: Request, p: Caller
    ) -> Any:
        row = await row_for(run_id, fmt, template, p, request, "envelope.read")
        data = await exporter.packages.read(row.envelope_key)
        return Response(data, media_type="application/json")

    return app
