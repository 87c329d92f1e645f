"""Sources the pool reads (local paths under the allowed roots, s3:// objects in MinIO) and
chunked jobs, end to end through Kafka."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cognify_events import HashTarget
from cognify_hasher.settings import HasherSettings
from cognify_hashing import hash_dataset, scan_checkpoint
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore

from .harness import all_answered, collect, job, results_for, running, send_jobs, with_chunking

pytestmark = pytest.mark.integration


def _records(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "text": f"record {i}", "tags": ["a", str(i % 3)], "w": i / 8} for i in range(n)
    ]


def _checkpoint(directory: Path) -> Path:
    (directory / "sub").mkdir(parents=True)
    for n in range(6):
        (directory / f"model-{n:05d}.safetensors").write_bytes(os.urandom(40_000 + n * 7_000))
    (directory / "config.json").write_text('{"a": 1}\n')
    (directory / "sub" / "ü.txt").write_text("hello\n")
    return directory


async def _answers(
    kafka: KafkaSettings, settings: HasherSettings, jobs: list[Any]
) -> dict[str, dict[str, Any]]:
    ids = {j.payload.job_id for j in jobs}
    await send_jobs(kafka, settings.topics.jobs, jobs)
    events = await collect(kafka, settings.topics.events, all_answered(ids))
    out = {}
    for job_id, answers in results_for(events, ids).items():
        assert len({a["event_id"] for a in answers}) == 1
        out[job_id] = answers[0]
    return out


async def test_traversal_and_symlink_escapes_are_refused_with_a_clear_reason(
    tmp_path: Path, root: Path, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    secret = _checkpoint(tmp_path / "secret")
    (root / "runs").mkdir()
    (root / "runs" / "link").symlink_to(secret)
    traversal = job(HashTarget.CHECKPOINT, f"{root}/runs/../../secret")
    symlink = job(HashTarget.CHECKPOINT, f"{root}/runs/link")
    outside = job(HashTarget.DATASET, "/etc/passwd")
    async with running(hasher):
        answers = await _answers(kafka, hasher, [traversal, symlink, outside])
    reasons = {
        j.payload.job_id: answers[j.payload.job_id]["payload"]["reason"]
        for j in (traversal, symlink, outside)
    }
    assert all(answers[j]["type"] == "hash.failed" for j in reasons)
    assert "'..'" in reasons[traversal.payload.job_id]
    assert "symbolic link" in reasons[symlink.payload.job_id]
    assert str(secret) not in reasons[symlink.payload.job_id], "a link's target is not told"
    assert "outside the allowed roots" in reasons[outside.payload.job_id]
    assert all(r.startswith("path refused: ") for r in reasons.values())


async def test_chunked_jobs_give_the_unchunked_root_and_checkpoint_hash(
    root: Path, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    records = _records(1_000)
    jsonl = root / "data.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    parquet = root / "data.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet, row_group_size=100)
    checkpoint = _checkpoint(root / "checkpoint-10")
    settings = with_chunking(hasher, records=128, bytes=100_000, files=3)
    jobs = [
        job(HashTarget.DATASET, str(jsonl)),
        job(HashTarget.DATASET, str(parquet)),
        job(HashTarget.CHECKPOINT, str(checkpoint)),
    ]
    async with running(settings):
        answers = await _answers(kafka, settings, jobs)
        chunks = await collect(
            kafka,
            settings.topics.chunks,
            lambda events: len(events) >= 8 + 8 + 4,  # ceil(1000 / 128) twice, 345 kB / 100 kB
        )
    expected = hash_dataset(jsonl)
    for dataset_job in jobs[:2]:
        result = answers[dataset_job.payload.job_id]
        assert result["type"] == "hash.computed", result
        assert result["payload"]["hash"] == expected.root
        assert result["payload"]["record_count"] == 1_000
    ckpt = answers[jobs[2].payload.job_id]
    manifest = scan_checkpoint(checkpoint)
    assert ckpt["payload"]["hash"] == manifest.checkpoint_hash
    assert [f["path"] for f in ckpt["payload"]["files"]] == [e.path for e in manifest.entries]
    by_job: dict[str, set[int]] = {}
    for c in chunks:
        by_job.setdefault(c["payload"]["job_id"], set()).add(c["payload"]["chunk_index"])
    assert sorted(len(v) for v in by_job.values()) == [4, 8, 8]


async def test_s3_objects_in_minio_are_hashed_streamed(
    tmp_path: Path, kafka: KafkaSettings, hasher: HasherSettings, store: ObjectStore
) -> None:
    base = f"hasher-tests/{uuid.uuid4().hex[:12]}"
    records = _records(300)
    parquet = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet, row_group_size=64)
    store.put(f"{base}/datasets/train.parquet", parquet.read_bytes())
    checkpoint = _checkpoint(tmp_path / "checkpoint-5")
    for path in sorted(p for p in checkpoint.rglob("*") if p.is_file()):
        store.put(f"{base}/checkpoint-5/{path.relative_to(checkpoint)}", path.read_bytes())
    s3 = f"s3://{store.bucket}/{base}"
    settings = replace(
        with_chunking(hasher, records=128, bytes=100_000, files=3), s3=f"ws-hasher-tests={s3}/"
    )
    dataset = job(HashTarget.DATASET, f"{s3}/datasets/train.parquet")
    ckpt = job(HashTarget.CHECKPOINT, f"{s3}/checkpoint-5")
    gone = job(HashTarget.CHECKPOINT, f"{s3}/checkpoint-1")
    async with running(settings):
        answers = await _answers(kafka, settings, [dataset, ckpt, gone])
    assert answers[dataset.payload.job_id]["payload"]["hash"] == hash_dataset(parquet).root
    assert answers[dataset.payload.job_id]["payload"]["record_count"] == 300
    manifest = scan_checkpoint(checkpoint)
    assert answers[ckpt.payload.job_id]["payload"]["hash"] == manifest.checkpoint_hash
    assert answers[gone.payload.job_id]["type"] == "hash.failed"
    assert "no objects under" in answers[gone.payload.job_id]["payload"]["reason"]


async def test_a_long_job_reports_progress(
    root: Path, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records(20_000)))
    dataset = job(HashTarget.DATASET, str(data))
    async with running(hasher):
        await _answers(kafka, hasher, [dataset])
        progress = await collect(
            kafka,
            hasher.topics.progress,
            lambda events: any(e["payload"]["finished"] for e in events),
        )
    mine = [e["payload"] for e in progress if e["payload"]["job_id"] == dataset.payload.job_id]
    assert mine[0]["records_total"] == 20_000
    assert mine[-1]["finished"] and mine[-1]["records_done"] == 20_000
    assert [p["records_done"] for p in mine] == sorted(p["records_done"] for p in mine)
