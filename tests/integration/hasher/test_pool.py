"""Two worker processes share one job stream: no job is lost or done twice, including when
one of them is killed with SIGKILL in the middle of a job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cognify_events import HashTarget
from cognify_hasher.settings import HasherSettings
from cognify_hashing import hash_dataset
from cognify_kafka import KafkaSettings

from .harness import (
    all_answered,
    collect,
    job,
    results_for,
    send_jobs,
    with_chunking,
    worker_process,
)

pytestmark = pytest.mark.integration


def _write_jsonl(path: Path, records: int) -> None:
    with path.open("w") as out:
        for i in range(records):
            out.write(json.dumps({"id": i, "text": f"note {i} " * 4, "score": i % 97}) + "\n")


def _pid(event: dict[str, Any]) -> int:
    return int(event["producer"]["id"].rsplit(":", 1)[1])


async def test_two_workers_lose_no_job_and_do_none_twice_even_when_one_is_killed(
    tmp_path: Path, root: Path, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    data = root / "notes.jsonl"
    _write_jsonl(data, 120_000)
    expected = hash_dataset(data).root
    settings = with_chunking(hasher, records=1 << 30)  # whole jobs: each takes a while
    jobs = [job(HashTarget.DATASET, str(data)) for _ in range(8)]
    ids = {j.payload.job_id for j in jobs}
    # The pure-Python hashing path, so that each job lasts long enough (about a second) for a
    # worker to be killed in the middle of one; the Rust accelerator hashes it in ~0.1 s.
    slow = {"COGNIFY_HASHING_NATIVE": "0"}
    workers = [worker_process(settings, tmp_path / f"worker{n}.log", slow) for n in range(2)]
    try:
        await send_jobs(kafka, settings.topics.jobs, jobs)

        def mid_job(events: list[dict[str, Any]]) -> bool:
            return any(
                e["payload"]["records_done"] > 0
                and not e["payload"]["finished"]
                and _pid(e) == workers[0].pid
                for e in events
            )

        progress = await collect(kafka, settings.topics.progress, mid_job, timeout_s=90)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(10)
        in_hand = {e["payload"]["job_id"] for e in progress if _pid(e) == workers[0].pid}
        events = await collect(kafka, settings.topics.events, all_answered(ids), timeout_s=120)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(20)
            except subprocess.TimeoutExpired:
                w.kill()
    results = results_for(events, ids)
    assert all(results.values()), "every job answered"
    for job_id, answers in results.items():
        assert len({a["event_id"] for a in answers}) == 1, f"{job_id} answered once"
        assert {a["type"] for a in answers} == {"hash.computed"}
        assert answers[0]["payload"]["hash"] == expected
        assert answers[0]["payload"]["record_count"] == 120_000
    # A result published by the killed worker just before SIGKILL may be published again
    # (same event id); nothing else is repeated.
    assert sum(len(a) for a in results.values()) <= len(ids) + 1
    survivors = {_pid(a[0]) for job_id, a in results.items() if job_id in in_hand}
    assert workers[1].pid in survivors, "the survivor finished the job the killed worker had"
