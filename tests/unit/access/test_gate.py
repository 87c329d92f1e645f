"""The gate every service's requests pass (cognify_access.service): a parameter that does not
fit is a 400 naming it, a body that does not fit a 422, a body too large a 413, all as
`{"error": reason}`; and the OpenAPI documents each of them. Requests go into the ASGI app
in memory."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from cognify_access.params import Offset, PlainText, RunId
from cognify_access.service import ApiKey, service_app
from fastapi import FastAPI, Query, Request
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, ConfigDict

from .asgi import call


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


def _app(max_body_bytes: int = 1024) -> FastAPI:
    requests = Counter("t_requests", "", ["route", "status"], registry=CollectorRegistry())
    app = service_app("test", requests, max_body_bytes=max_body_bytes, raw_bodies={"/raw": 4096})

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/v1/runs/{run_id}")
    async def read(
        run_id: RunId,
        key: ApiKey,
        name: Annotated[PlainText | None, Query(max_length=256)] = None,
        tag: Annotated[list[str] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        return {"run_id": run_id, "key": key, "name": name, "tag": tag, "offset": offset}

    @app.post("/v1/runs/{run_id}/notes", status_code=201)
    async def note(run_id: RunId, body: NoteIn) -> dict[str, str]:
        return {"text": body.text}

    return app


async def test_a_request_that_fits_reaches_the_route() -> None:
    status, body = await call(
        _app(),
        "GET",
        b"/v1/runs/run-1?name=loss&tag=a:1&tag=b:2&offset=9007199254740991",
        headers=[(b"authorization", b"Bearer cgk_abc")],
    )
    assert status == 200, body
    assert body == {
        "run_id": "run-1",
        "key": "cgk_abc",
        "name": "loss",
        "tag": ["a:1", "b:2"],
        "offset": 2**53 - 1,
    }


@pytest.mark.parametrize(
    ("target", "where", "name"),
    [
        (b"/v1/runs/x?offset=9223372036854775808", "query", "offset"),  # 2^63
        (b"/v1/runs/x?offset=9007199254740992", "query", "offset"),  # 2^53
        (b"/v1/runs/x?offset=-1", "query", "offset"),
        (b"/v1/runs/x?offset=1e3", "query", "offset"),
        (b"/v1/runs/x?limit=0", "query", "limit"),
        (b"/v1/runs/x?limit=1001", "query", "limit"),
        (b"/v1/runs/x?name=%00", "query", "name"),
        (b"/v1/runs/x?name=" + b"n" * 257, "query", "name"),
        (b"/v1/runs/a%00b", "path", "run_id"),
        (b"/v1/runs/-x", "path", "run_id"),
        (b"/v1/runs/a%20b", "path", "run_id"),
        (b"/v1/runs/" + b"r" * 129, "path", "run_id"),
    ],
)
async def test_a_parameter_that_does_not_fit_is_a_400_naming_it(
    target: bytes, where: str, name: str
) -> None:
    status, body = await call(_app(), "GET", target)
    assert status == 400, body
    assert body["problems"][0]["in"] == where and body["problems"][0]["name"] == name
    assert body["error"].startswith(f"invalid {where} parameter {name}: ")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (b"/v1/runs/%FF%FE", "the path is not UTF-8 once percent-decoded"),
        (b"/v1/runs/x?name=%C3", "query parameter 'name' is not UTF-8 once percent-decoded"),
        (b"/v1/runs/x?limit=1&limit=2", "query parameter 'limit' is given more than once"),
        (
            b"/v1/runs/x?stauts=failed",
            "unknown query parameter 'stauts' (this route takes: limit, name, offset, tag)",
        ),
    ],
)
async def test_the_target_itself_is_checked_before_the_route(target: bytes, reason: str) -> None:
    assert await call(_app(), "GET", target) == (400, {"error": reason})


async def test_the_healthz_and_metrics_routes_take_no_parameters() -> None:
    assert (await call(_app(), "GET", b"/healthz"))[0] == 200
    status, body = await call(_app(), "GET", b"/healthz?x=1")
    assert status == 400 and "unknown query parameter 'x'" in body["error"]


async def test_a_body_that_does_not_fit_is_a_422() -> None:
    app = _app()
    assert await call(app, "POST", b"/v1/runs/r/notes", b'{"text": "ok"}') == (201, {"text": "ok"})
    status, body = await call(app, "POST", b"/v1/runs/r/notes", b'{"text": "ok", "x": 1}')
    assert status == 422 and body["problems"][0] == {
        "in": "body",
        "name": "x",
        "reason": "Extra inputs are not permitted",
    }
    status, body = await call(app, "POST", b"/v1/runs/r/notes", b'{"text": ')
    assert status == 422 and body["error"].startswith("invalid body")


async def test_a_body_nested_too_deeply_to_parse_is_a_422_not_an_error() -> None:
    status, body = await call(_app(10**6), "POST", b"/v1/runs/r/notes", b"[" * 100_000)
    assert (status, body) == (
        422,
        {"error": "the body nests arrays and objects too deeply to be read"},
    )


async def test_a_body_over_the_bound_is_a_413_declared_or_streamed() -> None:
    big = b'{"text": "' + b"x" * 2000 + b'"}'
    declared = [(b"content-length", str(len(big)).encode())]
    too_large = {"error": "the body is larger than 1,024 bytes"}
    assert await call(_app(), "POST", b"/v1/runs/r/notes", big, declared) == (413, too_large)
    assert await call(_app(), "POST", b"/v1/runs/r/notes", big, chunk=100) == (413, too_large)
    small = b'{"text": "' + b"x" * 900 + b'"}'
    assert (await call(_app(), "POST", b"/v1/runs/r/notes", small, chunk=100))[0] == 201


async def test_an_unknown_route_answers_as_json_too() -> None:
    assert await call(_app(), "GET", b"/nowhere") == (404, {"error": "Not Found"})


def test_the_openapi_documents_what_the_gate_answers() -> None:
    spec = _app().openapi()
    ops = {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}
    for (method, path), op in ops.items():
        assert "400" in op["responses"], (method, path)
        if "requestBody" in op:
            assert {"413", "422"} <= set(op["responses"]), (method, path)
        problem = op["responses"]["400"]["content"]["application/json"]["schema"]
        assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "422" not in ops[("get", "/v1/runs/{run_id}")]["responses"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    metrics = ops[("get", "/metrics")]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]


async def test_a_raw_route_has_its_own_bound_and_reads_its_body_itself() -> None:
    deep = b"[" * 3000  # the route (ingest's codec) bounds the shape of what it reads
    assert await call(_app(), "POST", b"/raw", deep, chunk=500) == (200, {"bytes": 3000})
    too_large = {"error": "the body is larger than 4,096 bytes"}
    assert await call(_app(), "POST", b"/raw", b"x" * 4097, chunk=1000) == (413, too_large)
