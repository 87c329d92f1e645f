"""A job through the worker's core without Kafka: planned, hashed in chunks, combined, and
compared with the unchunked hash; failures become events with their reason."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import cast

import pytest
from cognify_events import (
    HashChunkComputed,
    HashChunkFailed,
    HashChunkRequested,
    HashComputed,
    HashFailed,
    HashJobRequested,
    HashJobRequestedPayload,
    HashTarget,
    Producer,
)
from cognify_hasher.combine import Ledger
from cognify_hasher.progress import Cancelled, Progress, Snapshot
from cognify_hasher.settings import Chunking, Topics
from cognify_hasher.storage import Storage
from cognify_hasher.tenancy import grants
from cognify_hasher.work import Output, Work
from cognify_hashing import hash_dataset, scan_checkpoint

ME = Producer(kind="hasher", id="h:1")
TOPICS = Topics()


def _job(target: HashTarget, uri: str, job_id: str = "job-1") -> HashJobRequested:
    return HashJobRequested(
        workspace_id="ws",
        project="p",
        run_id="run-1",
        producer=Producer(kind="ingest", id="i:1"),
        payload=HashJobRequestedPayload(
            job_id=job_id, target=target, target_id="t-1", source_uri=uri
        ),
    )


def _work(root: Path, **chunking: int) -> Work:
    return Work(Storage(grants(f"*={root}", "", None)), Chunking(**chunking), TOPICS, ME, threads=2)


def _checkpoint(directory: Path) -> Path:
    (directory / "sub").mkdir(parents=True)
    for n in range(5):
        (directory / f"shard-{n}.bin").write_bytes(os.urandom(3_000 + 500 * n))
    (directory / "sub" / "config.json").write_text("{}\n")
    return directory


def _run(work: Work, job: HashJobRequested) -> list[HashComputed | HashFailed]:
    """Plan, hash every chunk, combine: what the pool does across its workers."""
    outputs = work.job(job, Progress("t"))
    if all(o.topic == TOPICS.events for o in outputs):
        return [o.event for o in outputs]  # type: ignore[misc]
    ledger = Ledger(ME)
    results = []
    for offset, out in enumerate(reversed(outputs)):  # chunks may finish in any order
        assert isinstance(out.event, HashChunkRequested) and out.topic == TOPICS.jobs
        [chunk_result] = work.chunk(out.event, Progress("t"))
        assert isinstance(chunk_result.event, HashChunkComputed | HashChunkFailed)
        results += ledger.add(("chunks", 0), offset, chunk_result.event)
    return results


def test_a_checkpoint_hashed_in_chunks_has_the_unchunked_hash(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "checkpoint-4")
    whole = _run(_work(tmp_path), _job(HashTarget.CHECKPOINT, str(ckpt)))
    chunked = _run(_work(tmp_path, bytes=4_000, files=2), _job(HashTarget.CHECKPOINT, str(ckpt)))
    expected = scan_checkpoint(ckpt)
    for [result] in (whole, chunked):
        assert isinstance(result, HashComputed)
        assert result.payload.hash == expected.checkpoint_hash
        assert [(f.path, f.sha256) for f in result.payload.files] == [
            (e.path, e.sha256) for e in expected.entries
        ]
        assert result.payload.source_version is None, "a local path has no version"
    assert whole[0].event_id == chunked[0].event_id, "one result id per job"


def test_a_dataset_hashed_in_chunks_has_the_unchunked_root(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"i": i, "t": "x" * (i % 7)}) + "\n" for i in range(333)))
    [result] = _run(_work(tmp_path, records=50), _job(HashTarget.DATASET, str(data)))
    assert isinstance(result, HashComputed)
    assert result.payload.hash == hash_dataset(data).root
    assert result.payload.record_count == 333
    assert result.payload.record_schema == hash_dataset(data).schema
    assert result.payload.source_version is None, "a local path has no version"
    [whole] = _run(_work(tmp_path), _job(HashTarget.DATASET, str(data), "job-2"))
    assert isinstance(whole, HashComputed) and whole.payload.source_version is None


def test_a_checkpoint_rotated_away_is_a_failure_with_the_reason(tmp_path: Path) -> None:
    [result] = _run(_work(tmp_path), _job(HashTarget.CHECKPOINT, str(tmp_path / "checkpoint-2")))
    assert isinstance(result, HashFailed)
    assert "does not exist: rotated away (save_total_limit)" in result.payload.reason


def test_a_file_vanishing_between_planning_and_hashing_fails_the_whole_job(
    tmp_path: Path,
) -> None:
    ckpt = _checkpoint(tmp_path / "checkpoint-4")
    work = _work(tmp_path, bytes=4_000, files=2)
    chunks = work.job(_job(HashTarget.CHECKPOINT, str(ckpt)), Progress("t"))
    (ckpt / "shard-3.bin").unlink()  # save_total_limit rotating the checkpoint away
    ledger, results = Ledger(ME), []
    for offset, out in enumerate(chunks):
        assert isinstance(out.event, HashChunkRequested)
        [result] = work.chunk(out.event, Progress("t"))
        results += ledger.add(("chunks", 0), offset, result.event)  # type: ignore[arg-type]
    [failed] = results
    assert isinstance(failed, HashFailed)
    assert "'shard-3.bin'" in failed.payload.reason and "rotated away" in failed.payload.reason


def test_a_symlink_inside_a_checkpoint_has_no_manifest(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "checkpoint-4")
    (ckpt / "link.bin").symlink_to(ckpt / "shard-0.bin")
    [result] = _run(_work(tmp_path), _job(HashTarget.CHECKPOINT, str(ckpt)))
    assert isinstance(result, HashFailed)
    assert "symbolic link inside the checkpoint: 'link.bin'" in result.payload.reason


def test_a_malformed_dataset_fails_naming_the_line(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"a": 1}\n{"a": 1, "a": 2}\n')
    [result] = _run(_work(tmp_path), _job(HashTarget.DATASET, str(data)))
    assert isinstance(result, HashFailed)
    assert "d.jsonl:2" in result.payload.reason and "duplicate keys" in result.payload.reason


def test_progress_counts_and_a_stopping_worker_abandons_the_job(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "checkpoint-4")
    seen: list[Snapshot] = []
    progress = Progress("checkpoint", seen.append, interval_s=0)
    _work(tmp_path).job(_job(HashTarget.CHECKPOINT, str(ckpt)), progress)
    total = sum(p.stat().st_size for p in ckpt.rglob("*") if p.is_file())
    assert seen[0].bytes_total == total and seen[-1].finished
    assert seen[-1].bytes_done == total
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        _work(tmp_path).job(_job(HashTarget.CHECKPOINT, str(ckpt)), Progress("c", None, 1, stop))


def test_chunk_jobs_spread_over_consecutive_partitions(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(100)))
    outputs: list[Output] = _work(tmp_path, records=16).job(
        _job(HashTarget.DATASET, str(data)), Progress("t")
    )
    spreads = [o.spread for o in outputs]
    assert len(outputs) == 7 and None not in spreads
    start = cast(int, spreads[0])  # not None: checked on the line above
    assert spreads == list(range(start, start + 7))
