"""What the services answer besides their own bodies, as models the OpenAPI documents: the
refusal body every service sends (`{"error": reason}`), the statuses each route may give,
and the translation of a request that does not fit its declaration into a 400 or a 422."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

MAX_PROBLEMS = 10  # a refusal names at most this many problems


class ParameterProblem(BaseModel):
    """One part of a request that does not fit: where (`path`, `query`, `header`, `body`),
    which parameter or body field, and why."""

    where: str = Field(alias="in")
    name: str
    reason: str


class Problem(BaseModel):
    """Every refusal: `error` says why, in words. A 400 or 422 from validation lists each
    problem; the exporter's 409 lists each reason the run cannot be sealed."""

    error: str
    problems: list[ParameterProblem] | None = None
    reasons: list[str] | None = None


class Health(BaseModel):
    status: str = Field(description='"ok", or "starting" (503) while not ready')


_WHY = {
    400: "a path or query parameter is invalid (the reason names it); nothing was read",
    401: "no valid API key (Authorization: Bearer cgk_...)",
    403: "the key's role may not do this",
    404: "no such object in the key's workspace (another workspace's looks the same)",
    409: "the object's state forbids this (e.g. the run is sealed); the reason says why",
    413: "the body is larger than this route accepts",
    422: "the body is not what this route accepts (the reason says why)",
    503: "not ready, or a wait ran out; retry after the Retry-After header's seconds",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    503: {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}},
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries of a route's refusals, each a `Problem`."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": Problem, "description": _WHY[code]}
        if code in _HEADERS:
            entry["headers"] = _HEADERS[code]
        out[code] = entry
    return out


def complete(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI of a service behind the gate (cognify_access.service), completed with
    what the gate answers on every route: 400 everywhere, 413 and 422 where a body is
    taken. FastAPI's own 422 for parameters is removed: a parameter that does not fit is a
    400 here."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            default = responses.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(default.get("schema", {})):
                del responses["422"]
            codes = [400] + ([413, 422] if "requestBody" in operation else [])
            for code in codes:
                responses.setdefault(str(code), {"description": _WHY[code], **ref})
    return openapi


def text_response(description: str, media_type: str = "text/plain") -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


def invalid_request(errors: Sequence[Mapping[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The status and body for validation errors: 400 when a path, query or header
    parameter does not fit (named first: the target is wrong whatever the body), else 422
    (only the body does not fit)."""
    problems = sorted((_problem(e) for e in errors), key=lambda p: p["in"] == "body")
    problems = problems[:MAX_PROBLEMS]
    status = 422 if all(p["in"] == "body" for p in problems) else 400
    first = problems[0] if problems else {"in": "request", "name": "", "reason": "invalid"}
    where = "body" if first["in"] == "body" else f"{first['in']} parameter"
    name = f" {first['name']}" if first["name"] else ""
    return status, {"error": f"invalid {where}{name}: {first['reason']}", "problems": problems}


def _problem(error: Mapping[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in error.get("loc", ())]
    where = loc[0] if loc else "request"
    return {
        "in": where,
        "name": ".".join(loc[1:])[:128],
        "reason": str(error.get("msg", "invalid"))[:512],
    }


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its local references (`#/$defs/...`) replaced by what they name,
    so that it can sit anywhere in an OpenAPI document. A reference cycle is refused (none
    of the schemas documented here has one)."""
    defs: dict[str, Any] = schema.get("$defs", {})

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen:
                raise ValueError(f"a reference cycle through {name}")
            rest = {k: resolve(v, seen) for k, v in node.items() if k != "$ref"}
            return {**resolve(defs[name], (*seen, name)), **rest}
        return {
            k: resolve(v, seen) for k, v in node.items() if k not in ("$defs", "$schema", "$id")
        }

    out: dict[str, Any] = resolve(schema, ())
    return out
