"""Export a large sealed run: 100,000 metric points, 200 checkpoints, 20 evaluations.

Two measurements of the same run, in the same process:

- **baseline, pure path**: the report from the folded run in memory, then each format
  rendered, hashed and signed (what rendering alone costs);
- **whole export path**: what `POST /v1/runs/{id}/exports` does for each format: the run,
  its chain, its quoted events (50,000+ stored rows), the access log and the documentation
  read from PostgreSQL, the storage encryption asked of MinIO, render and sign, the
  package and its envelope written to the Object Lock bucket, the export row recorded.

The run is stored first (untimed) in a scratch database through lineage's own
`apply_batch` and sealed there, as lineage folds a seal. Target: the whole path for all
four formats < 10 s. Needs the local stack (`deploy/stack up`, `eval "$(deploy/stack
env)"`). Run: `.venv/bin/python bench/export.py`.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import cognify_events as ev
from cognify_exporter import package, postgres, report, seal
from cognify_exporter.objectstore import PackageStore
from cognify_exporter.settings import DEV_MASTER_KEY
from cognify_exporter.workflow import Exporter
from cognify_ingest import workspaces
from cognify_lineage import dag
from cognify_lineage import postgres as lineage_pg
from cognify_lineage_model.model import iso
from cognify_objectstore import ObjectStore, StoreSettings
from cognify_postgres import apply_migrations
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration.scratch import database
from tests.unit.exporter.fixtures import REVIEWER, approval, sealed_report
from tests.unit.lineage.script import Script, root

POINTS, CHECKPOINTS, EVALS = 100_000, 200, 20


def big_run(s: Script) -> list[ev.Event]:
    events: list[ev.Event] = [
        s.started(),
        s.config(),
        s.dataset("ds_notes_v3", merkle_root=root(1)),
    ]
    steps = POINTS // 2  # two metrics per logged step
    for step in range(1, steps + 1):
        events.append(s.metrics(step, 2.0 / (1 + step / 1000)))
        if step % (steps // CHECKPOINTS) == 0:
            events.append(s.checkpoint(step))
            events.append(s.hashed(ev.HashTarget.CHECKPOINT, f"ckpt_step_{step}", root(step)))
        if step % (steps // EVALS) == 0:
            events.append(s.evaluation(step))
    events += [
        s.model(f"ckpt_step_{steps}"),
        s.ended(),
        s.hashed(ev.HashTarget.MODEL, "model_final", root(7)),
        approval(s),
    ]
    return events


EXPORTER = ev.Producer(kind=ev.ProducerKind.EXPORTER, id="bench", version="0")
FORMATS = list(ev.ExportFormat)


def pure(run_id: str, events: list[ev.Event]) -> float:
    """The baseline: report and every format from the folded run, no store at all."""
    state = dag.fold_all(events)
    run = state.runs[run_id]
    key = Ed25519PrivateKey.generate()
    t = time.perf_counter()
    assert seal.reasons(run, seal.Policy()) == []
    chain = seal.Chain("sha256:" + "ab" * 32, len(events))
    when = run.started_at + timedelta(days=1) if run.started_at else None
    assert when is not None
    sealed = seal.seal_event(run, chain, "bench", when, REVIEWER)
    run = dag.fold(state, sealed).runs[run_id]
    quoted = [e for e in events if e.type in report.QUOTED_TYPES]
    the_seal = report.Seal(
        str(sealed.event_id), iso(when), "bench", chain.head, chain.length, "ed25519:bench"
    )
    rep = report.build(run, quoted, the_seal, {})
    total = time.perf_counter() - t
    print(f"  seal check + report  {total:6.2f} s")
    for fmt in FORMATS:
        t = time.perf_counter()
        pkg = package.build(rep, fmt, ev.ExportTemplate.DEFAULT, key)
        took = time.perf_counter() - t
        total += took
        print(f"  {fmt.value:<10s} {took:10.2f} s  ({len(pkg.data):,} bytes)")
    print(f"  total                {total:6.2f} s")
    return total


async def stored(dsn: str, s: Script, events: list[ev.Event]) -> None:
    """The run in lineage's store, as its worker would have applied it, then sealed."""
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn)
        await workspaces.create_workspace(conn, s.workspace, "bench", "standard")
    finally:
        await conn.close()
    pool = await lineage_pg.create_pool(dsn)
    try:
        offset = 0

        async def apply(batch: list[ev.Event]) -> None:
            nonlocal offset
            items: list[tuple[lineage_pg.Message, Any]] = []
            for e in batch:
                body = ev.encode(e)
                items.append(
                    (lineage_pg.Message("bench", 0, offset, body), lineage_pg.decode(body))
                )
                offset += 1
            await lineage_pg.apply_batch(pool, "bench", "bench", {0: items})

        for i in range(0, len(events), 2_000):
            await apply(events[i : i + 2_000])
        found = await postgres.snapshot(pool, s.run_id)
        assert found is not None and found.chain.valid, "the stored run's chain"
        when = s.t0 + timedelta(days=1)
        chain = seal.Chain(found.chain.head, found.chain.length)
        await apply([seal.seal_event(found.run, chain, "bench", when, REVIEWER)])
        assert await postgres.is_sealed(pool, s.run_id), "lineage did not fold the seal"
    finally:
        await pool.close()


async def whole(dsn: str, run_id: str) -> float:
    """Every format through Exporter.export: PostgreSQL read, render, sign, MinIO write."""

    async def publish(*_: object) -> None:
        return None  # export.completed goes to Kafka; not what this measures

    store = ObjectStore(StoreSettings())
    await asyncio.to_thread(store.ensure_bucket)
    pool = await postgres.create_pool(dsn)
    try:
        exporter = Exporter(pool, PackageStore(store), publish, EXPORTER, DEV_MASTER_KEY)
        await postgres.seal_key(pool, "ws-bench", DEV_MASTER_KEY)  # made once, untimed
        t = time.perf_counter()
        await exporter.sealed_report(run_id)  # what the first export does first; kept
        total = time.perf_counter() - t
        print(f"  report from the store {total:5.2f} s  (run, points, events, access log, docs)")
        for fmt in FORMATS:
            t = time.perf_counter()
            row = await exporter.export(run_id, fmt, ev.ExportTemplate.DEFAULT, "bench")
            took = time.perf_counter() - t
            total += took
            print(f"  {fmt.value:<10s} {took:10.2f} s  ({row.size:,} bytes, {row.object_key})")
        print(f"  total                {total:6.2f} s")
        return total
    finally:
        await pool.close()


async def amain() -> None:
    run_id = f"run-bench-{uuid.uuid4().hex[:8]}"
    s = Script("ws-bench", run_id)
    t0 = time.perf_counter()
    events = big_run(s)
    run = dag.fold_all(events).runs[run_id]
    print(
        f"run: {len(events):,} events ({len(run.metrics):,} metric points, "
        f"{sum(n.type == 'checkpoint' for n in run.nodes.values())} checkpoints, "
        f"{sum(n.type == 'eval' for n in run.nodes.values())} evaluations), "
        f"built and folded in {time.perf_counter() - t0:.1f} s"
    )
    for fmt in FORMATS:  # imports, fonts: paid once by a running exporter, by neither here
        package.build(sealed_report(), fmt, ev.ExportTemplate.HIPAA, Ed25519PrivateKey.generate())
    print("baseline, pure path (report, render, sign; no store):")
    base = pure(run_id, events)
    async with database() as dsn:
        t = time.perf_counter()
        await stored(dsn, s, events)
        print(
            f"setup (untimed): stored in PostgreSQL by lineage and sealed in "
            f"{time.perf_counter() - t:.1f} s"
        )
        print("whole export path (PostgreSQL read + render + sign + MinIO write + record):")
        full = await whole(dsn, run_id)
    verdict = "MET" if full < 10 else "MISSED"
    print(
        f"result: whole path {full:.2f} s for {len(FORMATS)} formats, target < 10 s: "
        f"{verdict}; {full / base:.2f}x the pure path measured alongside ({base:.2f} s)"
    )


def main() -> None:
    asyncio.run(amain())


if __name__ == "__main__":
    main()
