"""schemathesis against ingest, lineage and the exporter, each started for real as its own
process (`python -m cognify_<service>`) on the test's topics and database, beside the real
Kafka, PostgreSQL and MinIO.

Each API is fuzzed from its own OpenAPI (examples, coverage and fuzzing phases, bounded in
time) with a real key of a workspace that has a real run, so that the routes are exercised
past 401 and past 404: half the run ids and workspace ids schemathesis sends are the real
ones. Every answer must be no server error, a documented status, of the documented content
type, and match the documented schema; the run has to find zero failures.

The run is left unended, so that no seal can succeed and nothing is written to WORM
storage: seals are refused (409) with their reasons.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import (
    Keys,
    eventually,
    free_port,
    fresh_database,
    make_workspace,
    metrics_text,
    own_topics,
    signed,
)
from tests.integration.processes import service, service_env
from tests.unit.lineage.script import Script, hash_results, training

ROOT = Path(__file__).resolve().parents[2]
SECONDS_PER_API = 20  # schemathesis' --max-time for lineage and the exporter
# ingest's commands succeed only for the seeded run with a body naming no one else (REACHED):
# more cases, so one of them gets there on a loaded machine too
SECONDS_FOR_INGEST = 45
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def _config(path: Path, run_id: str, workspace_id: str) -> Path:
    """schemathesis.toml: half the run and workspace ids it sends are the real ones."""
    path.write_text(
        f"""
[dictionaries.runs]
values = ["{run_id}"]

[dictionaries.workspaces]
values = ["{workspace_id}"]

[parameters]
"path.run_id" = {{ dictionary = "runs", probability = 0.5 }}
"path.workspace_id" = {{ dictionary = "workspaces", probability = 0.5 }}
"""
    )
    return path


async def _schemathesis(
    url: str, key: str, config: Path, out: Path, seconds: int = SECONDS_PER_API
) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {key}",
        "--max-time",
        str(seconds),
        "--workers",
        "1",
        "--seed",
        "12",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=out,  # hypothesis' own files stay out of the checkout
    )
    stdout, _ = await asyncio.wait_for(proc.communicate(), seconds * 4)
    return proc.returncode or 0, stdout.decode(errors="replace")


async def _seed(kafka: KafkaSettings, prefix: str, dsn: str, keys: Keys, script: Script) -> None:
    """A run through the real ingest into the real lineage: trained, hashed, not ended."""
    from cognify_events import encode, partition_key
    from cognify_kafka import producer

    prod = producer(kafka)
    await prod.start()
    try:
        raw = [signed(e, keys.writer) for e in training(script)[:-1]]
        sent = [await prod.send(f"{prefix}cognify.events.raw", v, key=k) for k, v in raw]
        sent += [
            await prod.send(f"{prefix}cognify.events", encode(e), key=partition_key(e))
            for e in hash_results(script)
        ]
        await asyncio.gather(*sent)
    finally:
        await prod.stop()

    async def folded() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            count = await conn.fetchval(
                "SELECT count(*) FROM lineage_nodes WHERE run_id = $1 AND hash_status = 'computed'",
                script.run_id,
            )
        finally:
            await conn.close()
        return bool(count and count >= 7)

    await eventually(folded, "the seeded run folded by lineage", timeout=60)


def answered(metrics: str, service: str) -> dict[str, set[int]]:
    """The statuses a service answered, by route (its requests counter on /metrics)."""
    line = re.compile(
        rf'^cognify_{service}_http_requests_total{{route="([^"]*)",status="(\d+)"}} (\S+)$'
    )
    out: dict[str, set[int]] = {}
    for match in filter(None, map(line.match, metrics.splitlines())):
        if float(match[3]) > 0:
            out.setdefault(match[1], set()).add(int(match[2]))
    return out


# What each API must have answered at least once, however few cases a loaded machine lets
# it try: proof that the fuzzing went past the key check (401) and the run lookup (404)
# into the routes themselves.
# Each entry: one of these (route, status) pairs at least. A command that succeeds needs the
# seeded run's id (half the cases) and a body naming no one but the key's holder (an
# optional `reviewer` is generated about half the time, and is a 422 unless it is the
# holder): in 20 s one of the three decisions is reached, not always the same one.
REACHED: dict[str, list[list[tuple[str, int]]]] = {
    "lineage": [[("/v1/runs", 200)], [("/v1/runs/{run_id}/lineage", 200)]],
    "ingest": [
        [("/v1/events", 422)],
        [
            ("/v1/runs/{run_id}/approve", 201),
            ("/v1/runs/{run_id}/reject", 201),
            ("/v1/runs/{run_id}/seal", 202),
        ],
    ],
    "exporter": [
        [("/v1/runs/{run_id}/seal", 409)],
        [("/v1/workspaces/{workspace_id}/seal-key", 200)],
    ],
}


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


async def test_every_api_answers_as_its_openapi_says_with_no_server_error(
    kafka: KafkaSettings, unique: str, workdir: Path
) -> None:
    async with fresh_database() as dsn, own_topics(kafka) as (prefix, _):
        workspace = f"ws-{unique}"
        keys = await make_workspace(dsn, workspace)
        script = Script(workspace, f"run-{unique}")
        ports = {name: free_port() for name in ("ingest", "lineage", "exporter")}
        env = service_env(dsn, prefix, ports)
        async with (
            service("lineage", ports["lineage"], env, workdir) as lineage_service,
            service("ingest", ports["ingest"], env, workdir) as ingest_service,
            service("exporter", ports["exporter"], env, workdir) as exporter_service,
        ):
            lineage, ingest = lineage_service.url, ingest_service.url
            exporter = exporter_service.url
            await _seed(kafka, prefix, dsn, keys, script)
            config = _config(workdir / "schemathesis.toml", script.run_id, workspace)
            reports = []
            for name, url, key in (
                ("lineage", lineage, keys.reviewer),
                ("ingest", ingest, keys.admin),
                ("exporter", exporter, keys.reviewer),
            ):
                seconds = SECONDS_FOR_INGEST if name == "ingest" else SECONDS_PER_API
                code, output = await _schemathesis(url, key, config, workdir, seconds)
                statuses = answered(await metrics_text(f"{url}/metrics"), name)
                print(f"== schemathesis against {name}: exit {code}\n{output}\n{statuses}")
                reports.append((name, code, output, statuses))
        failed = [(name, output) for name, code, output, _ in reports if code != 0]
        assert not failed, "\n\n".join(f"== {name}\n{output[-6000:]}" for name, output in failed)
        for name, _, output, statuses in reports:
            assert re.search(r"\d+ generated, \d+ passed\n", output), output[-3000:]
            assert not [s for seen in statuses.values() for s in seen if s >= 500], statuses
            for alternatives in REACHED[name]:
                reached = [(r, s) for r, s in alternatives if s in statuses.get(r, set())]
                assert reached, (name, alternatives, statuses)
