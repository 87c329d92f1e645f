"""Cognify's services started for real, each as its own process (`python -m cognify_<name>`),
on a test's own topics and database: what the schemathesis run and the poison-pill campaign
talk to, so that "no service restarted" means the same process answered throughout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.integration.lineage.harness import eventually

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Service:
    name: str
    url: str
    process: asyncio.subprocess.Process
    log: Path

    def alive(self) -> bool:
        return self.process.returncode is None

    def tail(self, lines: int = 40) -> str:
        return tail(self.log, lines)


@contextlib.asynccontextmanager
async def service(name: str, port: int, env: dict[str, str], logs: Path) -> AsyncIterator[Service]:
    """`python -m cognify_<name>` until the block ends (SIGTERM, then SIGKILL), once it
    answers /healthz."""
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"cognify_{name}", env=env, stdout=out, stderr=out, cwd=ROOT
        )
    running = Service(name, f"http://127.0.0.1:{port}", proc, log)

    async def healthy() -> bool:
        if not running.alive():
            raise AssertionError(f"{name} exited {proc.returncode}:\n{running.tail()}")
        return await asyncio.to_thread(answers_200, f"{running.url}/healthz")

    try:
        await eventually(healthy, f"{name} to answer /healthz", timeout=60)
        yield running
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def answers_200(url: str) -> bool:
    """The status alone: the hasher answers /healthz with its metrics text, not JSON."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def service_env(dsn: str, prefix: str, ports: dict[str, int]) -> dict[str, str]:
    """The environment of services on the test's database, topics, groups and ports."""
    group = prefix.rstrip(".")
    return {
        **os.environ,
        "COGNIFY_PG_DSN": dsn,
        "COGNIFY_MIGRATE": "0",
        "COGNIFY_TOPIC_PREFIX": prefix,
        "COGNIFY_EVENTS_TOPIC": f"{prefix}cognify.events",
        "COGNIFY_INGEST_GROUP": f"{group}-ingest",
        "COGNIFY_LINEAGE_GROUP": f"{group}-lineage",
        "COGNIFY_EXPORTER_GROUP": f"{group}-exporter",
        "COGNIFY_INGEST_HTTP_PORT": str(ports.get("ingest", 0)),
        "COGNIFY_LINEAGE_HTTP_PORT": str(ports.get("lineage", 0)),
        "COGNIFY_EXPORTER_HTTP_PORT": str(ports.get("exporter", 0)),
        # The hasher answers /healthz (any path) on its metrics port.
        "COGNIFY_HASHER_METRICS_PORT": str(ports.get("hasher", 0)),
        "COGNIFY_HASHER_GROUP": f"{group}-hasher",
        "COGNIFY_HASHER_COMBINE_GROUP": f"{group}-hasher-combine",
        "COGNIFY_DASHBOARD_HTTP_PORT": str(ports.get("dashboard", 0)),
        "COGNIFY_EXPORTER_SEAL_WAIT_S": "5",
        "COGNIFY_ANCHOR_PREFIX": f"test-anchors/{prefix}",
        "COGNIFY_ANCHOR_RETAIN_DAYS": "1",
    }
