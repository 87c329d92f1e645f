"""docker-compose.yml describes the production topology; the compose CLI validates it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        ["docker", "compose", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _config(env: dict[str, str] | None = None) -> dict[str, Any]:
    result = _compose("config", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_compose_file_is_valid() -> None:
    result = _compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_service_and_server_of_the_topology_is_described() -> None:
    services = _config()["services"]
    assert {
        "kafka",
        "postgres",
        "minio",
        "prometheus",
        "ingest",
        "lineage",
        "hasher",
        "exporter",
        "dashboard",
    } <= set(services)


def test_each_cognify_service_is_built_from_its_own_dockerfile() -> None:
    services = _config()["services"]
    for name in ("ingest", "lineage", "hasher", "exporter", "dashboard"):
        dockerfile = services[name]["build"]["dockerfile"]
        assert dockerfile == f"services/{name}/Dockerfile"
        assert (ROOT / dockerfile).is_file()
        assert f"cognify-{name}" in (ROOT / dockerfile).read_text()


def test_the_services_believe_forwarded_addresses_from_the_dashboard_only() -> None:
    services = _config()["services"]
    address = services["dashboard"]["networks"]["default"]["ipv4_address"]
    for name in ("ingest", "lineage", "exporter"):
        assert services[name]["environment"]["COGNIFY_TRUSTED_PROXIES"] == address
    assert services["dashboard"]["environment"]["COGNIFY_TRUSTED_PROXIES"] == ""


def test_the_hasher_pool_scales_to_n_replicas() -> None:
    assert _config()["services"]["hasher"]["deploy"]["replicas"] == 2
    assert (
        _config({"COGNIFY_HASHER_REPLICAS": "8"})["services"]["hasher"]["deploy"]["replicas"] == 8
    )


def test_a_broken_compose_file_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  kafka:\n    image: [not, a, string]\n")
    result = _compose("-f", str(broken), "config", "-q")
    assert result.returncode != 0
