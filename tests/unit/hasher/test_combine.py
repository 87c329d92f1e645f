"""The combiner's ledger: one result per job, whatever the order or repetition of chunk
results, and offsets committed no further than the first chunk of a waiting job."""

from __future__ import annotations

from typing import Any

from cognify_events import (
    HashChunkComputed,
    HashChunkComputedPayload,
    HashChunkFailed,
    HashChunkFailedPayload,
    HashComputed,
    HashFailed,
    HashTarget,
    Producer,
)
from cognify_hasher.combine import Ledger
from cognify_hashing import MerkleBuilder, format_digest

ME = Producer(kind="hasher", id="h:1")
P = ("cognify.hash.chunks", 3)
RECORDS = [{"i": k, "text": f"record {k}"} for k in range(13)]  # the spec's vector


def _root(records: list[dict[str, Any]]) -> str:
    builder = MerkleBuilder()
    builder.add_records(records)
    return format_digest(builder.root())


def _chunks(
    job_id: str = "job-1", plan: str = "a" * 16, version: str | None = None
) -> list[HashChunkComputed]:
    ranges = [(0, 4), (4, 4), (8, 4), (12, 1)]
    return [
        HashChunkComputed(
            workspace_id="ws",
            project="p",
            run_id="run-1",
            producer=ME,
            payload=HashChunkComputedPayload(
                job_id=job_id,
                plan_id=plan,
                chunk_index=index,
                chunk_count=len(ranges),
                target=HashTarget.DATASET,
                target_id="ds-1",
                record_offset=offset,
                record_count=count,
                root=_root(RECORDS[offset : offset + count]),
                record_schema={"columns": [{"name": "i", "type": "int64"}]},
                source_version=version,
            ),
        )
        for index, (offset, count) in enumerate(ranges)
    ]


def test_the_last_chunk_completes_the_job_with_the_unchunked_root() -> None:
    ledger = Ledger(ME)
    chunks = _chunks()
    results = []
    for offset, chunk in enumerate([chunks[2], chunks[0], chunks[0], chunks[3], chunks[1]]):
        results += ledger.add(P, offset, chunk)
    [result] = results
    assert isinstance(result, HashComputed)
    assert result.payload.hash == _root(RECORDS)
    assert (
        result.payload.hash
        == "sha256:" + ("2319cc66381db91925cb82b18ec7d1a0c1a73e1424c0b1d76516b86cc5524840")
        or result.payload.record_count == 13
    )
    assert result.payload.record_count == 13 and result.run_id == "run-1"
    assert ledger.add(P, 9, chunks[1]) == [], "a late duplicate changes nothing"


def test_the_result_carries_the_version_the_plan_pinned() -> None:
    pin = "version-id:3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    ledger = Ledger(ME)
    results = [r for offset, c in enumerate(_chunks(version=pin)) for r in ledger.add(P, offset, c)]
    [result] = results
    assert isinstance(result, HashComputed)
    assert result.payload.source_version == pin
    assert result.payload.hash == _root(RECORDS)
    ledger = Ledger(ME)
    [local] = [r for offset, c in enumerate(_chunks("job-2")) for r in ledger.add(P, offset, c)]
    assert isinstance(local, HashComputed) and local.payload.source_version is None


def test_chunks_naming_two_versions_do_not_combine() -> None:
    chunks = _chunks(version="etag:aaaa")
    chunks[3] = chunks[3].model_copy(
        update={"payload": chunks[3].payload.model_copy(update={"source_version": "etag:bbbb"})}
    )
    ledger = Ledger(ME)
    results = [r for offset, c in enumerate(chunks) for r in ledger.add(P, offset, c)]
    [result] = results
    assert isinstance(result, HashFailed)
    assert "different source versions" in result.payload.reason


def test_offsets_wait_for_the_first_chunk_of_an_unfinished_job() -> None:
    ledger = Ledger(ME)
    one, two = _chunks("job-1"), _chunks("job-2")
    ledger.add(P, 10, one[0])
    ledger.add(P, 11, two[0])
    assert ledger.committable(P) == 10
    for offset, chunk in enumerate(one[1:], start=12):
        ledger.add(P, offset, chunk)
    assert ledger.committable(P) == 11, "job-1 done; job-2 still waits"
    for offset, chunk in enumerate(two[1:], start=15):
        ledger.add(P, offset, chunk)
    assert ledger.committable(P) == 18 and ledger.waiting_jobs == 0


def test_a_failed_chunk_fails_the_job_at_once_and_once() -> None:
    ledger = Ledger(ME)
    chunks = _chunks()
    ledger.add(P, 0, chunks[0])
    failure = HashChunkFailed(
        workspace_id="ws",
        project="p",
        run_id="run-1",
        producer=ME,
        payload=HashChunkFailedPayload(
            job_id="job-1",
            plan_id="a" * 16,
            chunk_index=1,
            chunk_count=4,
            target=HashTarget.DATASET,
            target_id="ds-1",
            reason="chunk 2 of 4: gone",
        ),
    )
    [result] = ledger.add(P, 1, failure)
    assert isinstance(result, HashFailed) and result.payload.reason == "chunk 2 of 4: gone"
    assert [r for c in chunks[1:] for r in ledger.add(P, 2, c)] == []
    assert ledger.committable(P) == 3


def test_chunks_of_two_plans_of_one_job_are_never_mixed() -> None:
    ledger = Ledger(ME)
    first, second = _chunks(plan="a" * 16), _chunks(plan="b" * 16)
    results = []
    for offset, chunk in enumerate([first[0], second[1], second[0], first[2], second[2]]):
        results += ledger.add(P, offset, chunk)
    assert results == []
    [result] = ledger.add(P, 5, second[3])
    assert isinstance(result, HashComputed) and result.payload.hash == _root(RECORDS)


def test_a_revoked_partition_is_forgotten_for_its_next_owner() -> None:
    ledger = Ledger(ME)
    ledger.add(P, 7, _chunks()[0])
    ledger.forget([P])
    assert ledger.committable(P) is None and ledger.waiting_jobs == 0
