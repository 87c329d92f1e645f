"""Benchmark: the hasher against the machine's SHA-256 limit and plain-Python baselines.

    .venv/bin/python bench/hashing.py [--checkpoint-mb 4096] [--records 1000000] [--full]

Every figure is measured in this one run, on the same files and records, and printed with
its ratio against a baseline measured alongside (fast figures: median of --repeat runs,
variants interleaved; 2 shared cores swing 20-30%).

Checkpoints (a multi-file checkpoint of a few GB as the issue asks, 4 GiB by default,
written to a temporary directory and read once, so it sits in page cache): `hashlib` in one
thread; the hasher's checkpoint hashing in one worker (one thread, target >= 0.9x hashlib)
and on all cores (threads, and a pool of worker processes hashing one chunked job through
Kafka, two chunks per worker), against `openssl speed -evp sha256 -multi N` (target >=
85%); `sha256sum` and `openssl dgst` for reference. The pool figures (and the dataset
speed-up below) are medians of --repeat (datasets: --pool-repeat) jobs; the two dataset pools
run side by side, their jobs interleaved.

Datasets (--records records of about 200 bytes): the Merkle root over canonical bytes
against a plain Python loop of RFC 6962 leaf and node hashes (target >= 1.25x) and against
pymerkle (install with `uv sync --group bench`); end to end from JSON Lines and Parquet with
canonical encoding (target >= 500k records/s per core); one chunked job hashed by one and
by two worker processes through Kafka, four chunks per worker (target speed-up >= 1.7x),
for --records and for 4x as many (the file repeated: chunks 4x longer), against the same
chunks hashed by one and by two plain processes (no Kafka: this machine's limit for that
work) and a pure-Python reference.
The hashing core runs on its Rust accelerator (libs/hashing-native) when built; the Merkle,
encoding and end-to-end figures are printed for it and for the pure-Python reference path,
in the same run.

--full: an 8 GiB checkpoint. Needs the local stack (deploy/stack up) for the pool figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from cognify_events import HashJobRequested, HashJobRequestedPayload, HashTarget, Producer, encode
from cognify_events.topics import EVENTS, HASH_CHUNKS, HASH_JOBS, HASH_PROGRESS, Topic
from cognify_hasher.progress import Progress
from cognify_hasher.ranges import hash_range, jsonl_offsets
from cognify_hasher.source import hash_files
from cognify_hasher.storage import Storage
from cognify_hasher.tenancy import grants
from cognify_hashing import MerkleBuilder, _native, canonical_record, hash_dataset
from cognify_hashing.sources import JsonLinesFile
from cognify_kafka import KafkaSettings, delete_topics, ensure_topics, producer, scratch_prefix

ROOT = Path(__file__).resolve().parents[1]
CORES = os.cpu_count() or 1
READ = 8 * 1024 * 1024
T = TypeVar("T")


def median_of(repeat: int, *variants: Callable[[], float]) -> list[float]:
    """Seconds per variant, the median of `repeat` interleaved runs."""
    times: list[list[float]] = [[] for _ in variants]
    for _ in range(repeat):
        for slot, variant in zip(times, variants, strict=True):
            slot.append(variant())
    return [statistics.median(slot) for slot in times]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def row(label: str, value: str, ratio: str = "") -> None:
    print(f"  {label:<58} {value:>16}  {ratio}")


# ---- checkpoint ----------------------------------------------------------------------------


def write_checkpoint(directory: Path, total_mb: int) -> list[tuple[str, int]]:
    directory.mkdir(parents=True)
    shards = 4
    shard = total_mb * 1024 * 1024 // shards
    piece = os.urandom(16 * 1024 * 1024)
    for n in range(shards):
        with open(directory / f"model-{n + 1:05d}-of-{shards:05d}.safetensors", "wb") as out:
            left = shard
            while left > 0:
                out.write(piece[: min(left, len(piece))])
                left -= len(piece)
    (directory / "config.json").write_text(json.dumps({"hidden_size": 4096}) + "\n")
    (directory / "tokenizer.json").write_bytes(os.urandom(2 * 1024 * 1024))
    (directory / "optimizer.pt").write_bytes(os.urandom(64 * 1024 * 1024))
    files = sorted((p.name, p.stat().st_size) for p in directory.iterdir())
    for name, _ in files:  # into page cache
        with open(directory / name, "rb") as handle:
            while handle.read(READ):
                pass
    return files


def hashlib_one_thread(directory: Path, files: list[tuple[str, int]]) -> None:
    buffer = bytearray(READ)
    view = memoryview(buffer)
    for name, _ in files:
        digest = hashlib.sha256()
        with open(directory / name, "rb", buffering=0) as handle:
            while count := handle.readinto(buffer):
                digest.update(view[:count])
        digest.hexdigest()


def openssl_speed(multi: int) -> float:
    """Bytes/s of `openssl speed -evp sha256` on 16 KiB blocks (all `multi` processes)."""
    args = ["openssl", "speed", "-evp", "sha256", "-seconds", "3", "-bytes", "16384"]
    if multi > 1:
        args += ["-multi", str(multi)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^sha256\s+([\d.]+)k\s*$", out, flags=re.M | re.I)
    if not match:
        raise RuntimeError(f"cannot parse openssl speed output:\n{out}")
    return float(match.group(1)) * 1000


def run_tool(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


# ---- datasets ------------------------------------------------------------------------------


def make_records(n: int) -> list[dict[str, Any]]:
    words = ("patient", "stable", "follow", "up", "weeks", "acute", "vitals", "normal", "daily")
    return [
        {
            "id": i,
            "text": " ".join(words[(i * 7 + k) % len(words)] for k in range(20)),
            "label": i % 5,
            "source": "clinical-notes",
        }
        for i in range(n)
    ]


def plain_rfc6962(datas: list[bytes]) -> bytes:
    """The baseline: a plain Python loop of hashlib leaf and node hashes."""
    sha = hashlib.sha256
    level = [sha(b"\x00" + d).digest() for d in datas]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def ours(datas: list[bytes]) -> bytes:
    builder = MerkleBuilder()
    builder.add_leaves(datas)
    return builder.root()


@contextmanager
def pure_python() -> Any:
    """Run the hashing core on its pure-Python reference path (accelerator switched off)."""
    enabled = _native.enabled
    _native.enabled = False
    try:
        yield
    finally:
        _native.enabled = enabled


def pure(call: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        with pure_python():
            return call()

    return run


def accelerator() -> str:
    if _native.enabled:
        return "on (Rust, libs/hashing-native)"
    if _native.accel is None:
        return f"not built ({_native.IMPORT_ERROR})"
    return "off (COGNIFY_HASHING_NATIVE=0)"


def pymerkle_root(datas: list[bytes]) -> bytes | None:
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        return None
    tree = InmemoryTree(algorithm="sha256")
    for data in datas:
        tree.append_entry(data)
    return bytes(tree.get_root())


def scaling(units: Sequence[Callable[[], object]], workers: int) -> float:
    """How much faster `workers` forked processes sharing `units` (round robin) do them than
    one process doing them all: the parallel limit of this machine for that work. The
    clock starts once every process is forked and waiting (this benchmark's process is
    large: forking it is not the work measured)."""
    import gc
    import multiprocessing

    context = multiprocessing.get_context("fork")

    def run(processes: int) -> float:
        ready = context.Barrier(processes + 1)

        def body(first: int) -> None:
            ready.wait()
            for unit in units[first::processes]:
                unit()

        procs = [context.Process(target=body, args=(i,)) for i in range(processes)]
        gc.freeze()  # the children's collections then leave the parent's objects unshared
        for proc in procs:
            proc.start()
        ready.wait()
        started = time.perf_counter()
        for proc in procs:
            proc.join()
        gc.unfreeze()
        return time.perf_counter() - started

    serial, parallel = median_of(3, lambda: run(1), lambda: run(workers))
    return serial / parallel


# ---- the pool through Kafka ----------------------------------------------------------------


class Pool:
    """Worker processes of the hasher on topics and groups of this benchmark's own."""

    def __init__(self, root: Path, workers: int, env: dict[str, str]) -> None:
        self.prefix = scratch_prefix("bench")
        self.group = f"{self.prefix}hasher"
        self.kafka = KafkaSettings()
        self.env = {
            **os.environ,
            "COGNIFY_TOPIC_PREFIX": self.prefix,
            "COGNIFY_HASHER_GROUP": self.group,
            "COGNIFY_HASHER_COMBINE_GROUP": f"{self.prefix}combine",
            "COGNIFY_HASHER_ROOTS": f"*={root}",
            "COGNIFY_HASHER_METRICS_PORT": "0",
            "COGNIFY_HASHER_SESSION_TIMEOUT_MS": "6000",
            **env,
        }
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []

    async def __aenter__(self) -> Pool:
        await ensure_topics(
            self.kafka,
            [
                Topic(self.prefix + t.name, t.partitions, t.purpose)
                for t in (HASH_JOBS, EVENTS, HASH_CHUNKS, HASH_PROGRESS)
            ],
        )
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cognify_hasher"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
            )
            for _ in range(self.workers)
        ]
        await self._stable()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await delete_topics(self.kafka, self.prefix)

    async def _stable(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka.bootstrap_servers)
        await admin.start()
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                [response] = await admin.describe_consumer_groups([self.group])
                group = response.to_object()["groups"][0]
                if group["state"] == "Stable" and len(group["members"]) == self.workers:
                    return
                await asyncio.sleep(0.25)
            raise TimeoutError(f"{self.workers} workers did not join {self.group}")
        finally:
            await admin.close()

    async def hash(self, target: HashTarget, path: Path) -> tuple[float, dict[str, Any]]:
        """Seconds from publishing the job to reading its result, and the result."""
        job_id = f"job-{uuid.uuid4().hex[:12]}"
        job = HashJobRequested(
            workspace_id="ws-bench",
            project="bench",
            run_id=f"run-{job_id}",
            producer=Producer(kind="ingest", id="bench:1"),
            payload=HashJobRequestedPayload(
                job_id=job_id, target=target, target_id=job_id, source_uri=str(path)
            ),
        )
        cons = AIOKafkaConsumer(
            self.prefix + EVENTS.name,
            bootstrap_servers=self.kafka.bootstrap_servers,
            auto_offset_reset="latest",
        )
        await cons.start()
        prod = producer(self.kafka, linger_ms=0)  # the clock runs from this send
        await prod.start()
        try:
            while not cons.assignment():
                await asyncio.sleep(0.05)
            for tp in cons.assignment():
                await cons.position(tp)
            started = time.perf_counter()
            await prod.send_and_wait(self.prefix + HASH_JOBS.name, encode(job), key=job_id.encode())
            while True:
                batches = await cons.getmany(timeout_ms=1000)
                for messages in batches.values():
                    for m in messages:
                        event = json.loads(m.value or b"{}")
                        if event.get("payload", {}).get("job_id") == job_id:
                            return time.perf_counter() - started, event
        finally:
            await prod.stop()
            await cons.stop()


# ---- main ----------------------------------------------------------------------------------


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--checkpoint-mb", type=int, default=4096)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pymerkle-records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pool-repeat", type=int, default=7, help="jobs per dataset pool (each under a second)"
    )
    parser.add_argument("--full", action="store_true", help="an 8 GiB checkpoint")
    parser.add_argument("--no-pool", action="store_true", help="skip the figures needing Kafka")
    args = parser.parse_args()
    size_mb = 8192 if args.full else args.checkpoint_mb
    work = Path(tempfile.mkdtemp(prefix="cognify-bench-hashing-"))
    try:
        print(f"cognify hasher benchmark: {CORES} cores, temporary files in {work}")
        await checkpoint_figures(work, size_mb, args)
        await dataset_figures(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def checkpoint_figures(work: Path, size_mb: int, args: argparse.Namespace) -> None:
    ckpt = work / "checkpoint-1000"
    files = write_checkpoint(ckpt, size_mb)
    total = sum(size for _, size in files)
    gb = total / 1e9
    print(f"\ncheckpoint: {len(files)} files, {gb:.2f} GB, in page cache")
    where = Storage(grants(f"*={work}", "", None)).open("bench", str(ckpt))

    def worker(threads: int) -> Callable[[], float]:
        return lambda: timed(lambda: hash_files(where, files, Progress("c"), threads))

    base, one, many = median_of(
        args.repeat,
        lambda: timed(lambda: hashlib_one_thread(ckpt, files)),
        worker(1),
        worker(CORES),
    )
    limit_one, limit_all = openssl_speed(1), openssl_speed(CORES)
    sums = timed(lambda: run_tool(["sha256sum", *[n for n, _ in files]], ckpt))
    dgst = timed(lambda: run_tool(["openssl", "dgst", "-sha256", *[n for n, _ in files]], ckpt))
    row("hashlib, one thread (baseline)", f"{gb / base:.2f} GB/s")
    row(
        "hasher, one worker, one thread",
        f"{gb / one:.2f} GB/s",
        f"{base / one:.2f}x hashlib (target >= 0.9x)",
    )
    row("openssl speed -evp sha256 (1 process)", f"{limit_one / 1e9:.2f} GB/s")
    row(f"openssl speed -evp sha256 -multi {CORES} (machine limit)", f"{limit_all / 1e9:.2f} GB/s")
    row(
        f"hasher, one worker, {CORES} threads",
        f"{gb / many:.2f} GB/s",
        f"{gb / many / (limit_all / 1e9):.0%} of the limit (target >= 85%)",
    )
    if not args.no_pool:
        # Two chunks per worker: groups of whole files of about total / (2 * CORES) bytes.
        chunk_bytes = max(1, -(-total // (2 * CORES)))
        env = {"COGNIFY_HASHER_CHUNK_BYTES": str(chunk_bytes), "COGNIFY_HASHER_THREADS": "1"}
        async with Pool(work, CORES, env) as pool:
            await pool.hash(HashTarget.CHECKPOINT, ckpt)  # warm-up
            runs = [await pool.hash(HashTarget.CHECKPOINT, ckpt) for _ in range(args.repeat)]
        for _, result in runs:
            assert result["type"] == "hash.computed", result
        seconds = statistics.median(s for s, _ in runs)
        row(
            f"hasher pool, {CORES} processes, one chunked job via Kafka",
            f"{gb / seconds:.2f} GB/s",
            f"{gb / seconds / (limit_all / 1e9):.0%} of the limit (end to end, target >= 85%)",
        )
    row("sha256sum (reference)", f"{gb / sums:.2f} GB/s", f"hasher one thread is {sums / one:.1f}x")
    row("openssl dgst -sha256, one process (reference)", f"{gb / dgst:.2f} GB/s")


async def dataset_figures(work: Path, args: argparse.Namespace) -> None:
    n = args.records
    native = _native.enabled
    records = make_records(n)
    datas = [canonical_record(r) for r in records]
    average = sum(map(len, datas)) / n
    print(f"\ndatasets: {n:,} records, {average:.0f} canonical bytes on average")
    print(f"  hashing accelerator: {accelerator()}")
    assert plain_rfc6962(datas[:1000]) == ours(datas[:1000]) == pure(lambda: ours(datas[:1000]))()
    assert datas[:1000] == pure(lambda: [canonical_record(r) for r in records[:1000]])()
    base, mine, mine_pure = median_of(
        args.repeat,
        lambda: timed(lambda: plain_rfc6962(datas)),
        lambda: timed(lambda: ours(datas)),
        lambda: timed(pure(lambda: ours(datas))),
    )
    row("plain Python loop of hashlib RFC 6962 (baseline)", f"{n / base:,.0f} rec/s")
    if native:
        row(
            "MerkleBuilder over canonical bytes (Rust accelerator)",
            f"{n / mine:,.0f} rec/s",
            f"{base / mine:.2f}x (target >= 1.25x)",
        )
    row(
        "MerkleBuilder over canonical bytes (pure Python)",
        f"{n / mine_pure:,.0f} rec/s",
        f"{base / mine_pure:.2f}x" + ("" if native else " (target >= 1.25x)"),
    )
    subset = datas[: args.pymerkle_records]
    theirs = timed(lambda: pymerkle_root(subset))
    if pymerkle_root(subset[:100]) is None:
        row("pymerkle", "not installed", "(uv sync --group bench)")
    else:
        assert pymerkle_root(subset[:100]) == ours(subset[:100]), "pymerkle agrees on the root"
        mine_subset = timed(lambda: ours(subset))
        row(
            f"pymerkle InmemoryTree ({len(subset):,} records)",
            f"{len(subset) / theirs:,.0f} rec/s",
            f"ours {theirs / mine_subset:.1f}x faster",
        )
    encode_s, encode_pure_s = median_of(
        1,
        lambda: timed(lambda: [canonical_record(r) for r in records]),
        lambda: timed(pure(lambda: [canonical_record(r) for r in records])),
    )
    if native:
        row("canonical encoding alone (records in memory, Rust)", f"{n / encode_s:,.0f} rec/s")
    row(
        "canonical encoding alone (records in memory, pure Python)",
        f"{n / encode_pure_s:,.0f} rec/s",
    )
    jsonl = work / "data" / "records.jsonl"
    jsonl.parent.mkdir()
    with jsonl.open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    parquet = work / "data" / "records.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet, row_group_size=65_536)
    t_jsonl, t_parquet, t_jsonl_pure, t_parquet_pure = median_of(
        max(1, args.repeat - 1),
        lambda: timed(lambda: hash_dataset(jsonl)),
        lambda: timed(lambda: hash_dataset(parquet)),
        lambda: timed(pure(lambda: hash_dataset(jsonl))),
        lambda: timed(pure(lambda: hash_dataset(parquet))),
    )
    digests = [hash_dataset(jsonl), hash_dataset(parquet)]
    digests += [pure(lambda: hash_dataset(jsonl))(), pure(lambda: hash_dataset(parquet))()]
    assert len({d.root for d in digests}) == 1, digests
    target = "target >= 500,000"
    if native:
        row("end to end from JSON Lines (one core, Rust)", f"{n / t_jsonl:,.0f} rec/s", target)
        row("end to end from Parquet (one core, Rust)", f"{n / t_parquet:,.0f} rec/s", target)
    pure_target = "" if native else target
    row(
        "end to end from JSON Lines (one core, pure Python)",
        f"{n / t_jsonl_pure:,.0f} rec/s",
        pure_target,
    )
    row(
        "end to end from Parquet (one core, pure Python)",
        f"{n / t_parquet_pure:,.0f} rec/s",
        pure_target,
    )
    if args.no_pool:
        return
    # Chunks of the largest power of two <= n / 4 records: 8 chunks of 131,072 for 1M
    # records, four per worker, each ~80 ms of hashing against a few ms of Kafka work per
    # chunk and job. The same job 4 times larger (the file repeated: 8 chunks of 524,288)
    # shows the pool where chunks are longer, as with the default 2^20-record chunks.
    speedup, chunk = await pool_speedup(work, jsonl, n, args.pool_repeat)
    larger = jsonl.with_name("records-x4.jsonl")
    with larger.open("wb") as out:
        for _ in range(4):
            with jsonl.open("rb") as part:
                shutil.copyfileobj(part, out)
    await pool_speedup(work, larger, 4 * n, args.pool_repeat)
    total, offsets = jsonl_offsets(jsonl, chunk)
    chunks = [
        partial(
            hash_range, JsonLinesFile(jsonl), Progress("d"), start, min(chunk, total - start), at
        )
        for start, at in zip(range(0, total, chunk), offsets, strict=True)
    ]
    python = [partial(plain_rfc6962, [b"x" * 180 + i.to_bytes(4, "big") for i in range(250_000)])]
    for label, limit in (
        (f"{n:,} records' chunks in 2 plain processes over 1", scaling(chunks, 2)),
        ("pure-Python hashing in 2 processes over 1", scaling(python * 4, 2)),
    ):
        row(label, f"{limit:.2f}x", f"machine reference: the pool reaches {speedup / limit:.0%}")


async def pool_speedup(work: Path, jsonl: Path, n: int, repeat: int) -> tuple[float, int]:
    """One chunked job of `n` records hashed by a pool of 1 and of 2 workers: prints both
    and the speed-up; returns it and the chunk size."""
    chunk = 1 << max(0, (n // 4).bit_length() - 1)
    env = {"COGNIFY_HASHER_CHUNK_RECORDS": str(chunk)}
    root = hash_dataset(jsonl).root
    # Both pools up at once, their runs interleaved (median of `repeat`): a burst of load on
    # the shared cores then hits both figures alike.
    async with Pool(work, 1, env) as one, Pool(work, 2, env) as two:
        pools = {1: one, 2: two}
        for pool in pools.values():
            await pool.hash(HashTarget.DATASET, jsonl)  # warm-up: imports, page cache
        runs: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(repeat):
            for workers, pool in pools.items():
                seconds, result = await pool.hash(HashTarget.DATASET, jsonl)
                assert result["payload"]["hash"] == root
                runs[workers].append(seconds)
    timings = {workers: statistics.median(seconds) for workers, seconds in runs.items()}
    for workers, seconds in timings.items():
        row(
            f"{n:,} records, {-(-n // chunk)} chunks of {chunk:,}: {workers} worker(s)",
            f"{n / seconds:,.0f} rec/s",
        )
    speedup = timings[1] / timings[2]
    row(f"{n:,} records: speed-up, 2 workers over 1", f"{speedup:.2f}x", "target >= 1.7x")
    return speedup, chunk


if __name__ == "__main__":
    asyncio.run(main())
