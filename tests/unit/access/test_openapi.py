"""The OpenAPI of each service documents what it answers (pure: the apps are built, never
served; schemathesis holds the running services to it in tests/integration)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cognify_access.responses import inline_refs, invalid_request
from cognify_events.catalog import BY_TYPE
from cognify_exporter.http import create_app as exporter_app
from cognify_ingest.http import create_app as ingest_app
from cognify_lineage import views
from cognify_lineage.api import create_app as lineage_app
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[3]
PUBLIC = {"/healthz", "/metrics"}


def _spec(name: str) -> dict[str, Any]:
    """The app's OpenAPI; building it needs no store (None stands for the adapters)."""
    factories: dict[str, Callable[[Any], FastAPI]] = {
        "ingest": ingest_app,
        "lineage": lineage_app,
        "exporter": exporter_app,
    }
    return factories[name](None).openapi()


@pytest.mark.parametrize("name", ["ingest", "lineage", "exporter"])
def test_every_operation_documents_its_refusals(name: str) -> None:
    spec = _spec(name)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert "400" in codes, (method, path)
            assert ("422" in codes) == ("requestBody" in op), (method, path)
            if path not in PUBLIC:
                assert "401" in codes and op["security"] == [{"apiKey": []}], (method, path)
            ok = [c for c in codes if c.startswith("2")]
            assert ok and all("content" in op["responses"][c] for c in ok), (method, path)


def test_post_events_takes_one_event_of_any_type() -> None:
    op = _spec("ingest")["paths"]["/v1/events"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    types = {s["properties"]["type"]["const"] for s in schema["oneOf"]}
    assert types == set(BY_TYPE)
    assert "$ref" not in json.dumps(schema)


def test_the_lineage_graph_is_documented_with_the_specs_own_schema() -> None:
    shipped = Path(views.__file__).parent / "lineage-graph.schema.json"
    spec = ROOT / "docs/spec/lineage-graph.schema.json"
    assert shipped.read_bytes() == spec.read_bytes()
    op = _spec("lineage")["paths"]["/v1/runs/{run_id}/lineage"]["get"]
    documented = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert documented == views.lineage_schema()
    assert documented["properties"]["nodes"]["items"]["required"][0] == "type"


def test_local_references_are_inlined_and_a_cycle_is_refused() -> None:
    schema = {
        "$schema": "x",
        "properties": {"a": {"$ref": "#/$defs/A", "description": "kept"}},
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "string"},
        },
    }
    assert inline_refs(schema) == {
        "properties": {
            "a": {
                "type": "object",
                "properties": {"b": {"type": "string"}},
                "description": "kept",
            }
        }
    }
    with pytest.raises(ValueError, match="cycle through A"):
        inline_refs({"$ref": "#/$defs/A", "$defs": {"A": {"items": {"$ref": "#/$defs/A"}}}})


def test_validation_errors_become_a_400_unless_only_the_body_is_wrong() -> None:
    path = {"loc": ("path", "run_id"), "msg": "String should match pattern"}
    body = {"loc": ("body", "author", "name"), "msg": "Field required"}
    status, answer = invalid_request([body, path])
    assert status == 400
    assert answer["error"] == "invalid path parameter run_id: String should match pattern"
    assert answer["problems"][1] == {
        "in": "body",
        "name": "author.name",
        "reason": "Field required",
    }
    status, answer = invalid_request([body])
    assert (status, answer["error"]) == (422, "invalid body author.name: Field required")
