"""`deploy/stack up prometheus` runs a real Prometheus that scrapes the services and
evaluates deploy/prometheus/alerts.yml: stopping ingest makes CognifyServiceDown fire.

The test runs its own ingest (its own port, topics and group) and its own Prometheus (its
own state directory and port), so the services other tests use are left alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cognify_kafka import KafkaSettings, delete_topics, scratch_prefix

from .tools import ROOT, tool

T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def _wait(what: str, probe: Callable[[], T | None], limit_s: float) -> T:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            found = probe()
        except OSError:
            found = None
        if found is not None:
            return found
        time.sleep(1)
    pytest.fail(f"{what} within {limit_s:.0f} s", pytrace=False)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    prefix = scratch_prefix("alerts")
    environment = {
        **os.environ,
        "COGNIFY_STATE": str(tmp_path / "state"),
        "COGNIFY_PROMETHEUS_PORT": str(_free_port()),
        "COGNIFY_INGEST_HTTP_PORT": str(_free_port()),
        # The other services' targets point at ports nobody listens on: only ingest is up.
        "COGNIFY_LINEAGE_HTTP_PORT": str(_free_port()),
        "COGNIFY_HASHER_METRICS_PORT": str(_free_port()),
        "COGNIFY_EXPORTER_HTTP_PORT": str(_free_port()),
        "COGNIFY_TOPIC_PREFIX": prefix,
        "COGNIFY_INGEST_GROUP": f"{prefix}ingest",
    }
    yield environment
    subprocess.run(
        [str(ROOT / "deploy/stack"), "down", "prometheus"],
        env=environment,
        capture_output=True,
        check=False,
        timeout=60,
    )
    asyncio.run(delete_topics(KafkaSettings(), prefix))


def _alerts(base: str, port: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = _get(f"{base}/api/v1/alerts")["data"]["alerts"]
    return [
        a
        for a in alerts
        if a["labels"]["alertname"] == "CognifyServiceDown"
        and a["labels"]["instance"] == f"127.0.0.1:{port}"
    ]


def test_stopping_ingest_fires_cognify_service_down(env: dict[str, str]) -> None:
    tool("prometheus")
    up = subprocess.run(
        [str(ROOT / "deploy/stack"), "up", "prometheus"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert up.returncode == 0, up.stderr
    base = f"http://127.0.0.1:{env['COGNIFY_PROMETHEUS_PORT']}"
    port = env["COGNIFY_INGEST_HTTP_PORT"]
    status = subprocess.run(
        [str(ROOT / "deploy/stack"), "status"], env=env, capture_output=True, text=True
    )
    assert f"prometheus up    {base}" in status.stdout

    ingest = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "cognify_ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait(
            "ingest answering /healthz",
            lambda: (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
                or None
            ),
            120,
        )
        query = urllib.parse.quote(f'up{{job="cognify-ingest",instance="127.0.0.1:{port}"}}')

        def scraped_up() -> bool | None:
            result = _get(f"{base}/api/v1/query?query={query}")["data"]["result"]
            return True if result and result[0]["value"][1] == "1" else None

        _wait("Prometheus scraping ingest (up == 1)", scraped_up, 60)
        # HTTP latency by route: the probes' own /healthz requests, timed by ingest.
        latency = urllib.parse.quote(
            f'cognify_ingest_http_request_seconds_count{{route="/healthz",instance="127.0.0.1:{port}"}}'
        )

        def healthz_timed() -> bool | None:
            result = _get(f"{base}/api/v1/query?query={latency}")["data"]["result"]
            return True if result and float(result[0]["value"][1]) >= 1 else None

        _wait("ingest's /healthz latency scraped", healthz_timed, 60)
        # Scrapes made before ingest listened may have left the alert pending: with ingest
        # up, the next rule evaluation (every 5 s) clears it.
        _wait("no alert while ingest is up", lambda: True if not _alerts(base, port) else None, 30)
    finally:
        ingest.send_signal(signal.SIGTERM)
        try:
            ingest.wait(timeout=30)
        except subprocess.TimeoutExpired:
            ingest.kill()
            ingest.wait()
    stopped = time.monotonic()

    def firing() -> dict[str, Any] | None:
        return next((a for a in _alerts(base, port) if a["state"] == "firing"), None)

    alert = _wait("CognifyServiceDown firing for the stopped ingest", firing, 150)
    # `for: 1m` in the rule: it cannot fire sooner than a minute after the first failed scrape.
    assert time.monotonic() - stopped >= 55
    assert alert["labels"]["job"] == "cognify-ingest"
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["runbook"] == "docs/operations.md#cognifyservicedown"
