"""The site the browser tests review: the real stack (Kafka, PostgreSQL, MinIO), Cognify's
services each started as its own process (`python -m cognify_<name>`, processes.py) on a
database and topics of this session's own, and the runs a reviewer finds there, recorded
through the real SDK.

- the walkthrough's run (`examples/walkthrough.py`: a Trainer fine-tune, two datasets, a
  config, hashed checkpoints, evaluations, the model), the one reviewed and sealed;
- a second run of the same project with another dataset version and configuration, for
  Compare (`loop_run.py`, a custom loop through the SDK);
- a run for the keyboard-only review (the same way);
- a run that cannot be sealed: its dataset was registered under the same name and path by
  the keyboard run with other records, an open dataset-changed finding, and nobody approved.

Keys: a reviewer, a writer and an admin of the workspace (people's keys carry a name and a
title, `cognify-admin issue-key`), and a reviewer of another workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import free_port, fresh_database, own_topics
from tests.integration.processes import Service, service, service_env

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "clinical-nlp-v2"
T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    name: str
    title: str


REVIEWER = Person("Dr. Ana Ortiz", "Compliance officer")
ADMIN = Person("Sam Okafor", "Workspace administrator")
OTHER = Person("Lee Chen", "External auditor")


@dataclass
class Keys:
    reviewer: str
    writer: str
    admin: str
    other_workspace_reviewer: str


@dataclass
class Runs:
    walkthrough: str
    second: str
    keyboard: str
    pending: str


@dataclass
class Site:
    url: str
    workspace: str
    other_workspace: str
    keys: Keys
    runs: Runs
    services: dict[str, Service]
    data: Path
    lineage_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.lineage_url = self.services["lineage"].url

    def logs(self) -> str:
        """The tail of each service's log, for a failure message."""
        return "\n".join(f"== {n}\n{s.tail(20)}" for n, s in self.services.items())

    def lineage(self, run_id: str, key: str | None = None) -> dict[str, Any]:
        """GET lineage /v1/runs/{run_id}/lineage (the reviewer's key by default)."""
        return get_json(f"{self.lineage_url}/v1/runs/{run_id}/lineage", key or self.keys.reviewer)

    def run(self, run_id: str, key: str | None = None) -> dict[str, Any]:
        return get_json(f"{self.lineage_url}/v1/runs/{run_id}", key or self.keys.reviewer)

    def annotations(self, run_id: str) -> list[dict[str, Any]]:
        url = f"{self.lineage_url}/v1/runs/{run_id}/annotations"
        return list(get_json(url, self.keys.reviewer)["annotations"])

    def approvals(self, run_id: str) -> list[dict[str, Any]]:
        url = f"{self.lineage_url}/v1/runs/{run_id}/approvals"
        return list(get_json(url, self.keys.reviewer)["approvals"])


class Loop:
    """An asyncio loop in a thread of its own: the services' processes and the database
    are async resources (the integration harness), the browser tests are synchronous."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.exits = contextlib.AsyncExitStack()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 600) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def enter(self, cm: contextlib.AbstractAsyncContextManager[T]) -> T:
        return self.run(self.exits.enter_async_context(cm))

    def close(self) -> None:
        try:
            self.run(self.exits.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def get_json(url: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def stack_env() -> dict[str, str]:
    """`deploy/stack env`, failing loudly (never skipping) when the stack is down."""
    status = subprocess.run(
        [str(ROOT / "deploy/stack"), "status"], capture_output=True, text=True, check=False
    )
    if status.returncode != 0:
        raise AssertionError(
            "the local stack is not up; run `deploy/stack up` (the test command does)\n"
            f"{status.stdout}{status.stderr}"
        )
    out = subprocess.run(
        [str(ROOT / "deploy/stack"), "env"], capture_output=True, text=True, check=True
    ).stdout
    return dict(
        line.removeprefix("export ").split("=", 1)
        for line in out.splitlines()
        if line.startswith("export ")
    )


def admin_cli(dsn: str, *args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cognify-admin")), "--dsn", dsn, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"cognify-admin {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def make_keys(dsn: str, workspace: str, other: str) -> Keys:
    admin_cli(
        dsn, "create-workspace", "--id", workspace, "--name", "Clinical NLP", "--tier", "healthcare"
    )
    admin_cli(dsn, "create-workspace", "--id", other, "--name", "Radiology", "--tier", "standard")

    def person(ws: str, role: str, who: Person) -> str:
        args = ["--name", who.name, "--title", who.title]
        return admin_cli(
            dsn, "issue-key", "--workspace", ws, "--role", role, "--label", role, *args
        )

    return Keys(
        reviewer=person(workspace, "reviewer", REVIEWER),
        writer=admin_cli(dsn, "issue-key", "--workspace", workspace, "--role", "writer"),
        admin=person(workspace, "admin", ADMIN),
        other_workspace_reviewer=person(other, "reviewer", OTHER),
    )


def sdk(args: list[str], env: dict[str, str], what: str) -> str:
    """Run an SDK program to the end; its run id."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{what}: {done.stdout[-2000:]}{done.stderr[-4000:]}"
    run_id = next(x for x in done.stdout.splitlines() if x.startswith("run_id="))
    print(f"[site] {what}: {run_id} in {time.monotonic() - started:.0f} s", flush=True)
    return run_id.split("=", 1)[1]


def loop_spec(data: Path, name: str, *, dataset: str, version: str, seed: int, lr: float) -> str:
    return json.dumps(
        {
            "project": PROJECT,
            "tags": {"team": "ml-platform", "use_case": "discharge-summary", "variant": name},
            "dataset": {
                "name": dataset,
                "version": version,
                "path": str(data / f"{dataset}-v{version}" / "train.jsonl"),
                "records": 40 + 8 * seed,
                "seed": seed,
            },
            "config": {"learning_rate": lr, "per_device_train_batch_size": 8, "max_steps": 12},
            "steps": 12,
            "save_every": 6,
            "out": str(data / name),
        }
    )


def settled(site_lineage: Any, run_id: str, timeout_s: float = 180) -> dict[str, Any]:
    """The run's graph once it has ended and every hash job has an answer."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = site_lineage(run_id)
            pending = [n["id"] for n in last["nodes"] if n.get("hash_status") == "pending"]
            if last.get("status") not in (None, "running") and not pending:
                return dict(last)
        except urllib.error.HTTPError as exc:
            last = f"{exc.code} {exc.read()[:200]!r}"
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} not settled in lineage within {timeout_s} s: {last}")


@contextlib.contextmanager
def started(work: Path) -> Iterator[Site]:
    os.environ.update({k: v for k, v in stack_env().items() if k not in os.environ})
    loop = Loop()
    try:
        kafka = KafkaSettings()
        dsn = loop.enter(fresh_database())
        prefix, _ = loop.enter(own_topics(kafka))
        unique = uuid.uuid4().hex[:8]
        workspace, other = f"ws-clinical-{unique}", f"ws-radiology-{unique}"
        keys = make_keys(dsn, workspace, other)
        data = work / "data"
        data.mkdir(parents=True, exist_ok=True)
        ports = {n: free_port() for n in ("ingest", "lineage", "exporter", "hasher", "dashboard")}
        env = {
            **service_env(dsn, prefix, ports),
            "COGNIFY_HASHER_ROOTS": f"{workspace}={data}",
            "COGNIFY_HASHER_PROGRESS_INTERVAL_S": "0.5",
        }
        logs = work / "logs"
        logs.mkdir(exist_ok=True)
        services = {
            name: loop.enter(service(name, ports[name], env, logs))
            for name in ("lineage", "ingest", "exporter", "hasher", "dashboard")
        }
        writer = {
            **os.environ,
            "COGNIFY_WORKSPACE_ID": workspace,
            "COGNIFY_API_KEY": keys.writer,
            "COGNIFY_TOPIC_PREFIX": prefix,
            "COGNIFY_SPOOL_DIR": str(work / "spool"),
            "COGNIFY_COMPLIANCE_TIER": "healthcare",
            "TOKENIZERS_PARALLELISM": "false",
            "COGNIFY_INGEST_URL": services["ingest"].url,
            "COGNIFY_EXPORTER_URL": services["exporter"].url,
        }
        site = Site(
            url=services["dashboard"].url,
            workspace=workspace,
            other_workspace=other,
            keys=keys,
            runs=Runs("", "", "", ""),
            services=services,
            data=data,
        )
        walk = [str(ROOT / "examples/walkthrough.py"), str(data / "walkthrough")]
        site.runs.walkthrough = sdk(walk, writer, "the walkthrough")
        loop_run = str(Path(__file__).with_name("loop_run.py"))
        site.runs.second = sdk(
            [
                loop_run,
                loop_spec(data, "second", dataset="clinical-notes", version="3.2", seed=2, lr=2e-4),
            ],
            writer,
            "a second run of the project",
        )
        site.runs.keyboard = sdk(
            [
                loop_run,
                loop_spec(data, "keyboard", dataset="triage-notes", version="1.0", seed=3, lr=1e-4),
            ],
            writer,
            "the keyboard run",
        )
        # The next run must find the keyboard run's dataset root known before it re-registers
        # the same name and path with other records (seed 4): the change is a finding.
        settled(site.lineage, site.runs.keyboard)
        site.runs.pending = sdk(
            [
                loop_run,
                loop_spec(data, "pending", dataset="triage-notes", version="1.0", seed=4, lr=1e-4),
            ],
            writer,
            "a run with a pending problem",
        )
        for run_id in (site.runs.walkthrough, site.runs.second, site.runs.pending):
            try:
                settled(site.lineage, run_id)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{site.logs()}") from None
        yield site
    finally:
        loop.close()
