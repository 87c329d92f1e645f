"""The exporter, running for real beside ingest and lineage on the test's own topics and
database (tests/integration/lineage/harness.py), writing to the real MinIO bucket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cognify_exporter import archive
from cognify_exporter.app import serve
from cognify_exporter.settings import ExporterSettings
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, StoreSettings

from tests.integration.lineage.harness import (
    Keys,
    Stack,
    as_role,
    eventually,
    free_port,
    http,
    make_workspace,
    stack,
)
from tests.unit.lineage.script import Script, hash_results, training


@dataclass
class Cluster:
    s: Stack
    exporter_url: str
    keys: Keys
    workspace: str


@contextlib.asynccontextmanager
async def cluster(
    kafka: KafkaSettings, unique: str, store: StoreSettings | None = None
) -> AsyncIterator[Cluster]:
    """`store`: another object store than the stack's MinIO (a test's own server)."""
    async with stack(kafka) as s:
        port = free_port()
        settings = ExporterSettings(
            kafka=kafka,
            postgres=as_role(s.dsn, "exporter"),
            events_topic=s.topics.events,
            group_id=f"{s.prefix}exporter",
            http_port=port,
            migrate=False,
            seal_fold_timeout_s=30,
            store=store or StoreSettings(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, stop))
        url = f"http://127.0.0.1:{port}"

        async def up() -> bool:
            if task.done():
                task.result()
            return (await http("GET", f"{url}/healthz"))[0] == 200

        await eventually(up, "the exporter to answer /healthz")
        keys = await make_workspace(s.dsn, f"ws-{unique}")
        try:
            yield Cluster(s, url, keys, f"ws-{unique}")
        finally:
            stop.set()
            await task
            # A new workspace archives after 90 days: its exports set a lifecycle rule on
            # the shared bucket (docs/spec/retention.md), which would outlive the test
            # (MinIO keeps at most 1,000 rules per bucket). The packages stay, locked.
            used = ObjectStore(settings.store)
            await asyncio.to_thread(used.remove_transition, archive.rule_id(f"ws-{unique}"))


async def trained(c: Cluster, run_id: str, *, hashed: bool = True, ended: bool = True) -> Script:
    """A scripted run through ingest into lineage; waits until it is folded."""
    from tests.integration.lineage.harness import signed

    script = Script(c.workspace, run_id)
    events = training(script)
    if not ended:
        events = events[:-1]
    await c.s.send_raw([signed(e, c.keys.writer) for e in events])
    results = hash_results(script) if hashed else hash_results(script)[:2]
    await c.s.send_events(results)

    async def folded() -> bool:
        run = (await c.s.runs(run_id, full=False)).get(run_id)
        if run is None or len(run.nodes) != 9:
            return False
        done = sum(n.hash_status == "computed" for n in run.nodes.values())
        return done == (9 if hashed else 7) and (run.status == "completed") == ended

    await eventually(folded, f"run {run_id} folded")
    return script


async def approve(c: Cluster, run_id: str) -> None:
    status, body = await http(
        "POST",
        f"{c.s.ingest_url}/v1/runs/{run_id}/approve",
        c.keys.reviewer,
        {"reviewer": {"name": "Dana Reyes", "role": "compliance-officer"}},
    )
    assert status == 201, body

    async def recorded() -> bool:
        run = (await c.s.runs(run_id)).get(run_id)
        return run is not None and len(run.approvals) == 1

    await eventually(recorded, "the approval folded")
