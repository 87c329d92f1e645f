"""The HTTP front door: events over HTTP, reviewer and admin commands, retention.

Every route authenticates a bearer key, checks the role (403), then the workspace of the
object it touches (404: another workspace's run looks exactly like a missing one), and
records the call as an `access.recorded` event, allowed or not. Commands become events on
the canonical topic; nothing here writes the lineage projection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from cognify_access.params import DatasetId, RunId, WorkspaceId
from cognify_access.records import client_address, request_recorded
from cognify_access.responses import refusals
from cognify_access.service import ApiKey, service_app
from cognify_events import (
    MAX_EVENT_BYTES,
    REQUIRED_PROVENANCE,
    Event,
    Producer,
    encode,
    partition_key,
)
from fastapi import Depends, FastAPI, HTTPException, Request

from . import commands, documentation, metrics, workspaces
from .credentials import Action, Principal, may
from .gate import Gate, Incoming, Publisher
from .postgres import Registry
from .receipts import (
    AnnotationAdded,
    Decided,
    EventAccepted,
    Receipt,
    RetentionSettings,
    SealRequested,
    TierChanged,
    WhoAmI,
    event_body_schema,
)
from .retention import RetentionPatch, apply_patch
from .routing import Output
from .settings import Topics
from .validate import Accepted


@dataclass
class Door:
    registry: Registry
    gate: Gate
    publisher: Publisher
    topics: Topics
    producer: Producer

    async def emit(self, *events: Event) -> None:
        await self.publisher.publish(
            [Output(self.topics.events, partition_key(e), encode(e)) for e in events]
        )

    async def refuse(
        self, p: Principal, request: Request, action: str, obj: str, status: int, why: str
    ) -> HTTPException:
        await self.emit(request_recorded(p, request, action, obj, False, self.producer))
        metrics.ACCESS.labels(action, "false").inc()
        return HTTPException(status, why)

    async def allow(self, p: Principal, request: Request, action: str, obj: str) -> Event:
        metrics.ACCESS.labels(action, "true").inc()
        return request_recorded(p, request, action, obj, True, self.producer)

    async def run_for(
        self, p: Principal, request: Request, need: Action, action: str, run_id: str
    ) -> str:
        """The project of a run the caller may act on, or the refusal to raise."""
        obj = f"run:{run_id}"
        if not may(p.role, need):
            raise await self.refuse(p, request, action, obj, 403, f"role {p.role} may not {need}")
        run = await self.registry.run(run_id)
        if run is None or run["workspace_id"] != p.workspace_id:
            raise await self.refuse(p, request, action, obj, 404, "no such run")
        if run["sealed"] and need is not Action.READ:
            raise await self.refuse(p, request, action, obj, 409, "the run is sealed")
        return str(run["project"])


async def _principal(request: Request, token: ApiKey) -> Principal:
    door: Door = request.app.state.door
    found = await door.registry.principal(token) if token else None
    if found is None:
        raise HTTPException(401, "a valid API key is needed", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(_principal)]
COMMAND = refusals(401, 403, 404, 409)  # no key, a role that may not, no run, a sealed run


def create_app(door: Door) -> FastAPI:
    # Events are bounded by the strict codec (size, depth) before it parses them.
    raw = {"/v1/events": MAX_EVENT_BYTES}
    app = service_app(
        "Cognify ingest", metrics.HTTP_REQUESTS, raw_bodies=raw, latency=metrics.HTTP_SECONDS
    )
    app.state.door = door

    @app.post(
        "/v1/events",
        status_code=202,
        responses={202: {"model": EventAccepted}, **refusals(401, 403)},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": event_body_schema()}},
            }
        },
    )
    async def post_event(request: Request, p: Caller) -> Any:
        if not may(p.role, Action.WRITE_EVENTS):
            raise await door.refuse(p, request, "events.write", "events", 403, "not a writer key")
        body = await request.body()
        (verdict,) = await door.gate.admit(
            [Incoming(body, None, "http")],
            bearer_workspace=p.workspace_id,
            address=client_address(request),
        )
        if not isinstance(verdict, Accepted):
            raise await door.refuse(p, request, "events.write", "events", 422, verdict.reason)
        obj = f"run:{verdict.event.run_id}"
        await door.emit(await door.allow(p, request, "events.write", obj))
        return {"accepted": True, "event_id": str(verdict.event.event_id)}

    @app.post(
        "/v1/runs/{run_id}/annotations",
        status_code=201,
        responses={201: {"model": AnnotationAdded}, **COMMAND},
    )
    async def annotate(
        run_id: RunId, body: commands.AnnotationIn, request: Request, p: Caller
    ) -> Any:
        project = await door.run_for(p, request, Action.REVIEW, "annotate", run_id)
        if body.node_id != run_id and not await door.registry.node_exists(run_id, body.node_id):
            raise await door.refuse(p, request, "annotate", f"run:{run_id}", 404, "no such node")
        if why := commands.impersonation(p, body.author):  # identity comes from the key
            raise await door.refuse(p, request, "annotate", f"run:{run_id}", 422, why)
        event = commands.annotation(p, project, run_id, body, door.producer)
        await door.emit(event, await door.allow(p, request, "annotate", f"run:{run_id}"))
        return {"event_id": str(event.event_id), "annotation_id": event.payload.annotation_id}

    async def decide(
        run_id: str, body: commands.DecisionIn, request: Request, p: Principal, approve: bool
    ) -> Any:
        action = "approve" if approve else "reject"
        project = await door.run_for(p, request, Action.REVIEW, action, run_id)
        if why := commands.impersonation(p, body.reviewer):  # identity comes from the key
            raise await door.refuse(p, request, action, f"run:{run_id}", 422, why)
        reviewed = await door.registry.chain_head(run_id)
        event = commands.decision(p, project, run_id, approve, body, door.producer, reviewed)
        await door.emit(event, await door.allow(p, request, action, f"run:{run_id}"))
        return {"event_id": str(event.event_id), "decision": event.type, "time": event.time}

    @app.post(
        "/v1/runs/{run_id}/approve", status_code=201, responses={201: {"model": Decided}, **COMMAND}
    )
    async def approve(run_id: RunId, body: commands.DecisionIn, request: Request, p: Caller) -> Any:
        return await decide(run_id, body, request, p, approve=True)

    @app.post(
        "/v1/runs/{run_id}/reject", status_code=201, responses={201: {"model": Decided}, **COMMAND}
    )
    async def reject(run_id: RunId, body: commands.DecisionIn, request: Request, p: Caller) -> Any:
        return await decide(run_id, body, request, p, approve=False)

    @app.post(
        "/v1/runs/{run_id}/seal",
        status_code=202,
        responses={202: {"model": SealRequested}, **COMMAND},
    )
    async def seal(run_id: RunId, body: commands.SealIn, request: Request, p: Caller) -> Any:
        project = await door.run_for(p, request, Action.REVIEW, "seal", run_id)
        undocumented = await door.registry.open_findings(run_id, "dataset-changed")
        if undocumented:
            why = f"datasets changed without a documented diff: {', '.join(undocumented)}"
            raise await door.refuse(p, request, "seal", f"run:{run_id}", 409, why)
        event = commands.seal_request(p, project, run_id, body, door.producer)
        await door.emit(event, await door.allow(p, request, "seal", f"run:{run_id}"))
        return {"event_id": str(event.event_id), "status": "seal requested"}

    @app.post(
        "/v1/runs/{run_id}/datasets/{dataset_id}/diff",
        status_code=201,
        responses={201: {"model": Receipt}, **COMMAND},
    )
    async def diff(
        run_id: RunId, dataset_id: DatasetId, body: commands.DiffIn, request: Request, p: Caller
    ) -> Any:
        project = await door.run_for(p, request, Action.REVIEW, "document-diff", run_id)
        obj = f"run:{run_id}/dataset:{dataset_id}"
        if not await door.registry.dataset_finding_exists(run_id, dataset_id):
            raise await door.refuse(p, request, "document-diff", obj, 404, "no such finding")
        event = commands.diff_documented(p, project, run_id, dataset_id, body, door.producer)
        await door.emit(event, await door.allow(p, request, "document-diff", obj))
        return {"event_id": str(event.event_id)}

    async def workspace_for(
        p: Principal, request: Request, need: Action, action: str, ws: str
    ) -> None:
        obj = f"workspace:{ws}"
        if not may(p.role, need):
            raise await door.refuse(p, request, action, obj, 403, f"role {p.role} may not {need}")
        if ws != p.workspace_id:
            raise await door.refuse(p, request, action, obj, 404, "no such workspace")

    @app.get(
        "/v2/workspaces/{workspace_id}/retention",
        responses={200: {"model": RetentionSettings}, **refusals(401, 404)},
    )
    async def get_retention(workspace_id: WorkspaceId, request: Request, p: Caller) -> Any:
        await workspace_for(p, request, Action.READ, "retention.read", workspace_id)
        async with door.registry.pool.acquire() as conn:
            current = await workspaces.load_retention(conn, workspace_id)
        obj = f"workspace:{workspace_id}"
        if current is None:
            raise await door.refuse(p, request, "retention.read", obj, 404, "no retention settings")
        await door.emit(await door.allow(p, request, "retention.read", obj))
        return current.public()

    @app.patch(
        "/v2/workspaces/{workspace_id}/retention",
        responses={200: {"model": RetentionSettings}, **refusals(401, 403, 404, 409)},
    )
    async def patch_retention(
        workspace_id: WorkspaceId, body: RetentionPatch, request: Request, p: Caller
    ) -> Any:
        action, obj = "retention.update", f"workspace:{workspace_id}"
        await workspace_for(p, request, Action.ADMINISTER, action, workspace_id)
        async with door.registry.pool.acquire() as conn, conn.transaction():
            current = await workspaces.load_retention(conn, workspace_id, for_update=True)
            if current is None:
                raise await door.refuse(p, request, action, obj, 404, "no retention settings")
            new = apply_patch(current, body)
            if isinstance(new, list):
                raise await door.refuse(p, request, action, obj, 409, "; ".join(new))
            # The fact is published before the row commits: a crash in between leaves an
            # event the settings lack (and a retry fixes), never a change nobody recorded.
            await door.emit(
                commands.retention_updated(p, new, door.producer),
                await door.allow(p, request, action, obj),
            )
            await workspaces.store_retention(conn, workspace_id, new, p.actor)
        return new.public()

    @app.put(
        "/v2/workspaces/{workspace_id}/tier",
        responses={200: {"model": TierChanged}, **refusals(401, 403, 404, 422)},
    )
    async def put_tier(
        workspace_id: WorkspaceId, body: commands.TierChange, request: Request, p: Caller
    ) -> Any:
        """Change the workspace's compliance tier (admin keys): a `workspace.tier_changed`
        event naming the key's holder. Datasets registered from then on are checked against
        the new tier; what was registered before keeps its judgement
        (docs/decisions/tier-change.md)."""
        action, obj = "tier.update", f"workspace:{workspace_id}"
        await workspace_for(p, request, Action.ADMINISTER, action, workspace_id)
        if body.tier not in REQUIRED_PROVENANCE:
            known = ", ".join(sorted(REQUIRED_PROVENANCE))
            raise await door.refuse(p, request, action, obj, 422, f"tier is one of {known}")
        async with door.registry.pool.acquire() as conn, conn.transaction():
            previous = await workspaces.load_tier(conn, workspace_id, for_update=True)
            if previous is None:
                raise await door.refuse(p, request, action, obj, 404, "no such workspace")
            event = None
            if previous != body.tier:
                # published before the row commits, as retention: a crash in between leaves
                # an event the row lacks (a retry fixes it), never a change nobody recorded
                event = commands.tier_changed(p, previous, body.tier, door.producer)
                await door.emit(event, await door.allow(p, request, action, obj))
                await workspaces.store_tier(conn, workspace_id, body.tier)
            else:
                await door.emit(await door.allow(p, request, action, obj))
        door.registry.forget_tier(workspace_id)
        return {
            "compliance_tier": body.tier,
            "previous_tier": previous,
            "required_provenance": list(REQUIRED_PROVENANCE.get(body.tier, ())),
            "event_id": None if event is None else str(event.event_id),
            "changed_by": None if event is None else event.payload.changed_by,
        }

    @app.patch(
        "/v2/workspaces/{workspace_id}/documentation",
        responses={200: {"model": documentation.DocumentationChanged}, **refusals(401, 403, 404)},
    )
    async def patch_documentation(
        workspace_id: WorkspaceId,
        body: documentation.DocumentationPatch,
        request: Request,
        p: Caller,
    ) -> Any:
        action, obj = "documentation.update", f"workspace:{workspace_id}"
        await workspace_for(p, request, Action.ADMINISTER, action, workspace_id)
        found = documentation.changes(body)
        if isinstance(found, str):
            raise await door.refuse(p, request, action, obj, 422, found)
        event = documentation.documentation_updated(p, *found, door.producer)
        await door.emit(event, await door.allow(p, request, action, obj))
        return {
            "event_id": str(event.event_id),
            "set": [f.value for f in event.payload.set],
            "cleared": [f.value for f in event.payload.cleared],
            "updated_by": event.payload.updated_by,
        }

    @app.get("/v1/whoami", responses={200: {"model": WhoAmI}, **refusals(401)})
    async def whoami(request: Request, p: Caller) -> Any:
        """The key's workspace, role, id and holder: what the dashboard shows as the signed-in
        person (any valid key; recorded as `whoami` on the workspace, so sign-ins are in the
        access log with their address), and the workspace's compliance tier with the dataset
        provenance it requires (the SDK warns about a dataset lacking it)."""
        await door.emit(await door.allow(p, request, "whoami", f"workspace:{p.workspace_id}"))
        person = p.person
        tier = await door.registry.tier(p.workspace_id)
        return {
            "compliance_tier": tier,
            "required_provenance": list(REQUIRED_PROVENANCE.get(tier, ())),
            "workspace_id": p.workspace_id,
            "role": p.role.value,
            "key_id": p.key_id,
            "label": p.label,
            "person": None
            if person is None
            else {
                "person_id": person.person_id,
                "name": person.name,
                "title": person.title,
                "email": person.email,
            },
        }

    return app
