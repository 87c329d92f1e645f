"""Benchmark: how Cognify's workers scale out, for the sizing table of docs/operations.md.

    .venv/bin/python bench/scale.py [--events 40000] [--checkpoints 8] [--checkpoint-mb 128]

Everything real, on the local stack (deploy/stack up), with topics and a database of the
benchmark's own (bench/pipeline.py's and bench/hashing.py's helpers):

1. ingest + lineage: a backlog of --events signed events on the raw topic drained into
   PostgreSQL by 1 ingest + 1 lineage process, then (a new backlog, new topics) by 2 + 2 in
   the same consumer groups, sharing the same 6 partitions: events/s. The processes join
   their groups before the backlog is published, so no rebalance is timed.
2. lineage alone: the same with the backlog already on the canonical topic, 1 and 2 lineage
   processes: events/s.
3. the hasher pool: --checkpoints checkpoint directories of --checkpoint-mb MB each, one
   job per checkpoint published at once, hashed by 1, 2 and 4 worker processes: GB/s from
   the first job published to the last result read (files in the page cache: this is the
   CPU's figure, not the disk's).

Each line prints the figure and its ratio to the one-process figure. On this machine (2
cores shared by everything, Kafka, PostgreSQL and the benchmark included) a ratio near 1
says the machine, not the service, is the limit: read docs/operations.md's table with that.

What sizes a dedicated core is printed too: the CPU seconds (user + system, from /proc)
each component spent on the drain, per event: every ingest and lineage process, and the
PostgreSQL backends serving them (the local stack's PostgreSQL runs on this machine; its
WAL writer and the Kafka broker are not counted). CPU time hardly depends on what else
the shared cores run, so events per CPU second is the steady figure wall-clock rates are
not, and the component with the fewest events per CPU second saturates first, core for
core. The hasher's GB per CPU second is printed the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import cognify_events as ev
from aiokafka.admin import AIOKafkaAdminClient
from cognify_events import HashJobRequested, HashJobRequestedPayload, HashTarget, Producer
from cognify_kafka import KafkaSettings, producer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hashing  # bench/hashing.py: the hasher Pool, checkpoint files
import pipeline  # bench/pipeline.py: scratch environment, signed runs, services


def row(label: str, value: str, ratio: str = "") -> None:
    print(f"  {label:<58} {value:>16} {ratio}", flush=True)


TICK = os.sysconf("SC_CLK_TCK")
BENCH_APP = "cognify-bench-scale"  # the benchmark's own connections: not PostgreSQL's share


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


async def backends(pool: asyncpg.Pool) -> list[int]:
    """The PostgreSQL server processes serving the services on the benchmark's database
    (the local stack's PostgreSQL runs on this machine; its WAL writer is not counted)."""
    rows = await pool.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name <> $1",
        BENCH_APP,
    )
    return [int(r["pid"]) for r in rows]


@dataclass
class Drain:
    """One drain: its wall-clock rate, and the CPU seconds each component spent on it."""

    events: int
    rate: float
    cpu: dict[str, float]

    def per_core(self, component: str) -> float:
        """Events per CPU second of `component`: what one dedicated core would sustain."""
        return self.events / self.cpu[component] if self.cpu[component] else float("inf")


async def drain(kafka: KafkaSettings, total: int, processes: int, through_ingest: bool) -> Drain:
    """A backlog of `total` events drained by `processes` of each service: events/s, and
    the CPU time of every service process and of PostgreSQL's backends for its database
    over the drain (CPU time, unlike wall time, hardly depends on what else the shared
    cores run, so events per CPU second is the figure that sizes a dedicated core)."""
    async with pipeline.environment(kafka) as (dsn, prefix, key):
        sim = pipeline.Runs("ws-bench", 60, key)
        items = [sim.next(i)[::2] for i in range(total)]
        topic = prefix + (ev.RAW.name if through_ingest else ev.EVENTS.name)
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=2, server_settings={"application_name": BENCH_APP}
        )
        modules = ["cognify_lineage"] + (["cognify_ingest"] if through_ingest else [])
        procs = [pipeline.start(m, dsn, prefix, kafka) for m in modules for _ in range(processes)]
        try:
            # Every process in its group before the backlog arrives: a rebalance in the
            # middle of the drain would be timed as the service's slowness.
            for module in modules:
                group = f"bench-{module.removeprefix('cognify_')}-{prefix}"
                await stable(kafka, group, processes)
            names = [m.removeprefix("cognify_") for m in modules for _ in range(processes)]
            before = {p.pid: cpu_seconds(p.pid) for p in procs}
            pg_before = {pid: cpu_seconds(pid) for pid in await backends(pool)}
            await pipeline.publish(kafka, topic, items)
            overall, _middle = await pipeline.drain_rate(pool, total)
            cpu = dict.fromkeys(names, 0.0)
            for name, p in zip(names, procs, strict=True):
                cpu[name] += cpu_seconds(p.pid) - before[p.pid]
            cpu["postgres"] = sum(
                cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in await backends(pool)
            )
            return Drain(total, float(overall), cpu)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
            await pool.close()


async def stable(kafka: KafkaSettings, group: str, members: int, limit_s: float = 120) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            [response] = await admin.describe_consumer_groups([group])
            found = response.to_object()["groups"][0]
            if found["state"] == "Stable" and len(found["members"]) == members:
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(f"{members} processes did not join {group} in {limit_s:.0f} s")
    finally:
        await admin.close()


async def hash_all(pool: hashing.Pool, checkpoints: list[Path]) -> float:
    """Seconds from publishing one job per checkpoint to reading every result."""
    from aiokafka import AIOKafkaConsumer

    jobs = {f"job-{uuid.uuid4().hex[:12]}": path for path in checkpoints}
    cons = AIOKafkaConsumer(
        pool.prefix + ev.EVENTS.name,
        bootstrap_servers=pool.kafka.bootstrap_servers,
        auto_offset_reset="latest",
    )
    await cons.start()
    prod = producer(pool.kafka, linger_ms=0)
    await prod.start()
    try:
        while not cons.assignment():
            await asyncio.sleep(0.05)
        for tp in cons.assignment():
            await cons.position(tp)
        started = time.perf_counter()
        for job_id, path in jobs.items():
            job = HashJobRequested(
                workspace_id="ws-bench",
                project="bench",
                run_id=f"run-{job_id}",
                producer=Producer(kind="ingest", id="bench:1"),
                payload=HashJobRequestedPayload(
                    job_id=job_id,
                    target=HashTarget.CHECKPOINT,
                    target_id=job_id,
                    source_uri=str(path),
                ),
            )
            await prod.send(pool.prefix + ev.HASH_JOBS.name, ev.encode(job), key=job_id.encode())
        await prod.flush()
        waiting = set(jobs)
        while waiting:
            for messages in (await cons.getmany(timeout_ms=1000)).values():
                for m in messages:
                    text = (m.value or b"").decode()
                    for job_id in list(waiting):
                        if job_id in text and '"hash.computed"' in text:
                            waiting.discard(job_id)
                        elif job_id in text and '"hash.failed"' in text:
                            raise RuntimeError(f"{job_id} failed: {text[:300]}")
        return time.perf_counter() - started
    finally:
        await prod.stop()
        await cons.stop()


async def hasher_figures(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cognify-scale-") as tmp:
        work = Path(tmp)
        checkpoints = []
        for i in range(args.checkpoints):
            directory = work / f"checkpoint-{i}"
            hashing.write_checkpoint(directory, args.checkpoint_mb)
            checkpoints.append(directory)
        total_gb = args.checkpoints * args.checkpoint_mb / 1024
        base = 0.0
        per_core = []
        for workers in (1, 2, 4):
            async with hashing.Pool(work, workers, {}) as pool:
                await hash_all(pool, checkpoints[:1])  # warm-up: imports, page cache
                before = {p.pid: cpu_seconds(p.pid) for p in pool.procs}
                rate = total_gb / await hash_all(pool, checkpoints)
                cpu = sum(cpu_seconds(p.pid) - before[p.pid] for p in pool.procs)
            base = base or rate
            per_core.append(total_gb / cpu)
            row(
                f"hasher: {args.checkpoints} x {args.checkpoint_mb} MB, {workers} worker(s)",
                f"{rate:.2f} GB/s",
                f"x{rate / base:.2f}",
            )
            row("  hasher: GB per CPU second", f"{per_core[-1]:.2f} GB/s per core")
        print(f"hasher, median: {statistics.median(per_core):.2f} GB/s per core")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--checkpoints", type=int, default=8)
    parser.add_argument("--checkpoint-mb", type=int, default=128)
    args = parser.parse_args()
    kafka = KafkaSettings()
    print("scale-out on this machine (2 shared cores)")
    per_core: dict[str, list[float]] = {}
    for through_ingest, label in ((True, "ingest + lineage"), (False, "lineage alone")):
        base = 0.0
        for processes in (1, 2):
            d = await drain(kafka, args.events, processes, through_ingest)
            base = base or d.rate
            row(
                f"{label}: {args.events:,} events, {processes} process(es) each",
                f"{d.rate:,.0f} events/s",
                f"x{d.rate / base:.2f}",
            )
            for component in d.cpu:
                per_core.setdefault(component, []).append(d.per_core(component))
                row(
                    f"  {component}: CPU per event, events per CPU second",
                    f"{1e6 / d.per_core(component):,.0f} us",
                    f"{d.per_core(component):,.0f} events/s per core",
                )
    print("events per CPU second, median of the drains (what one dedicated core sustains)")
    medians = {c: statistics.median(v) for c, v in per_core.items()}
    for component, value in sorted(medians.items(), key=lambda kv: kv[1]):
        row(f"  {component}", f"{value:,.0f} events/s")
    first = min(medians, key=lambda c: medians[c])
    print(f"saturates first, core for core: {first} ({medians[first]:,.0f} events/s per core)")
    await hasher_figures(args)


if __name__ == "__main__":
    asyncio.run(main())
