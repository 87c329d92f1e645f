"""The single-page app's files and the headers on every answer (in-process ASGI calls, no
sockets, no services: nothing here reaches the proxy)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cognify_dashboard.app import build, create_app
from cognify_dashboard.settings import DashboardSettings
from cognify_dashboard.static import CSP
from fastapi.testclient import TestClient


def client(dist: Path) -> TestClient:
    settings = dataclasses.replace(DashboardSettings(), web_dist=dist)
    return TestClient(create_app(build(settings)))


def test_an_unbuilt_app_says_so_and_serves_no_assets(tmp_path: Path) -> None:
    c = client(tmp_path)
    page = c.get("/runs")
    assert page.status_code == 503 and "npm ci" in page.text
    assert c.get("/assets/index.js").status_code == 404
    assert c.get("/healthz").json()["status"] == "ok"


def test_every_client_route_is_the_app_and_every_answer_has_the_policy(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "index.html").write_text("<!doctype html><title>Cognify</title>")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    c = client(tmp_path)
    for path in ("/", "/signin", "/runs", "/runs/run-1", "/compare?a=x&b=y", "/admin", "/x/y"):
        page = c.get(path)
        assert page.status_code == 200 and "Cognify" in page.text, path
        assert page.headers["cache-control"] == "no-cache"
    asset = c.get("/assets/index-abc.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert c.get("/favicon.svg").text == "<svg/>"
    assert c.get("/assets/missing.js").status_code == 404
    for answer in (c.get("/runs"), asset, c.get("/api/nowhere"), c.get("/api/session")):
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP


def test_the_api_refuses_before_any_service_is_asked(tmp_path: Path) -> None:
    c = client(tmp_path)
    assert c.get("/api/nowhere").status_code == 404
    assert c.get("/api/lineage/metrics").status_code == 404  # not v1/v2: never forwarded
    assert c.get("/api/lineage/v1/runs").status_code == 401  # no session
    assert c.delete("/api/session").status_code == 401
    assert c.post("/api/session", content=b"api_key=x").status_code == 415
    bad = c.post("/api/session", json={"key": "x"})
    assert bad.status_code == 422


def test_assets_are_gzipped_for_a_browser_that_takes_it_and_cached_for_good(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    script = "export const answer = 42;\n" * 200
    (dist / "assets" / "index-abc.js").write_text(script)
    (dist / "assets" / "logo-abc.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "secret.js").write_text("not an asset")
    (dist / "assets" / "linked.js").symlink_to(tmp_path / "secret.js")
    (dist / "index.html").write_text("<!doctype html><title>Cognify</title>")
    c = client(dist)
    zipped = c.get("/assets/index-abc.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.text == script  # httpx inflated it
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(script) / 10
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert "javascript" in zipped.headers["content-type"]
    assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert zipped.headers["content-security-policy"] == CSP
    again = c.get("/assets/index-abc.js", headers={"Accept-Encoding": "gzip"})
    assert again.content == zipped.content
    plain = c.get("/assets/index-abc.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert plain.text == script and "content-encoding" not in plain.headers
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    image = c.get("/assets/logo-abc.png", headers={"Accept-Encoding": "gzip"})
    assert image.content == b"\x89PNG not really" and "content-encoding" not in image.headers
    # Only the built files, never a link out of the folder nor a path around it.
    for path in ("/assets/linked.js", "/assets/../../secret.js", "/assets/%2e%2e/%2e%2e/secret.js"):
        answer = c.get(path, headers={"Accept-Encoding": "gzip"})
        assert "not an asset" not in answer.text, path
    missing = c.get("/assets/missing.js", headers={"Accept-Encoding": "gzip"})
    assert missing.status_code == 404 and "cache-control" not in missing.headers
