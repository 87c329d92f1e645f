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
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
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


async def drain(kafka: KafkaSettings, total: int, processes: int, through_ingest: bool) -> float:
    """Events/s for a backlog of `total` events drained by `processes` of each service."""
    async with pipeline.environment(kafka) as (dsn, prefix, key):
        sim = pipeline.Runs("ws-bench", 60, key)
        items = [sim.next(i)[::2] for i in range(total)]
        topic = prefix + (ev.RAW.name if through_ingest else ev.EVENTS.name)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        modules = ["cognify_lineage"] + (["cognify_ingest"] if through_ingest else [])
        procs = [pipeline.start(m, dsn, prefix, kafka) for m in modules for _ in range(processes)]
        try:
            # Every process in its group before the backlog arrives: a rebalance in the
            # middle of the drain would be timed as the service's slowness.
            for module in modules:
                group = f"bench-{module.removeprefix('cognify_')}-{prefix}"
                await stable(kafka, group, processes)
            await pipeline.publish(kafka, topic, items)
            overall, _middle = await pipeline.drain_rate(pool, total)
            return float(overall)
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
        for workers in (1, 2, 4):
            async with hashing.Pool(work, workers, {}) as pool:
                await hash_all(pool, checkpoints[:1])  # warm-up: imports, page cache
                rate = total_gb / await hash_all(pool, checkpoints)
            base = base or rate
            row(
                f"hasher: {args.checkpoints} x {args.checkpoint_mb} MB, {workers} worker(s)",
                f"{rate:.2f} GB/s",
                f"x{rate / base:.2f}",
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--checkpoints", type=int, default=8)
    parser.add_argument("--checkpoint-mb", type=int, default=128)
    args = parser.parse_args()
    kafka = KafkaSettings()
    print("scale-out on this machine (2 shared cores)")
    for through_ingest, label in ((True, "ingest + lineage"), (False, "lineage alone")):
        base = 0.0
        for processes in (1, 2):
            rate = await drain(kafka, args.events, processes, through_ingest)
            base = base or rate
            row(
                f"{label}: {args.events:,} events, {processes} process(es) each",
                f"{rate:,.0f} events/s",
                f"x{rate / base:.2f}",
            )
    await hasher_figures(args)


if __name__ == "__main__":
    asyncio.run(main())
