"""Which paths the dashboard forwards to a service (pure)."""

from __future__ import annotations

import pytest
from cognify_dashboard.proxy import upstream_path

P = "/api/lineage/"


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b"/api/lineage/v1/runs", "/v1/runs"),
        (b"/api/lineage/v1/runs/run_2025.a:b@c-1/lineage", "/v1/runs/run_2025.a:b@c-1/lineage"),
        (b"/api/lineage/v2/workspaces/ws-a/access-log", "/v2/workspaces/ws-a/access-log"),
    ],
)
def test_api_paths_are_forwarded(raw: bytes, path: str) -> None:
    assert upstream_path(raw, P) == path


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/lineage/",
        b"/api/lineage/v1",
        b"/api/lineage/v1/",
        b"/api/lineage/v3/runs",
        b"/api/lineage/metrics",
        b"/api/lineage/healthz",
        b"/api/lineage/openapi.json",
        b"/api/lineage/v1/../metrics",
        b"/api/lineage/v1/runs/..",
        b"/api/lineage/v1/./runs",
        b"/api/lineage/v1/%2e%2e/metrics",
        b"/api/lineage/v1/runs/%2E%2E",
        b"/api/lineage/v1/runs/a%2fb",
        b"/api/lineage/v1//runs",
        b"/api/lineage/v1/runs\\..\\x",
        b"/api/lineage/http://evil.example/v1",
        b"/api/lineage//evil.example/v1/runs",
        b"/api/lineage/v1/runs/\xc3\xa9",
        b"/api/ingest/v1/runs",  # another service's prefix
        b"/api/lineage/v1/" + b"a" * 2000,
    ],
)
def test_anything_else_stays_in_the_dashboard(raw: bytes) -> None:
    assert upstream_path(raw, P) is None
