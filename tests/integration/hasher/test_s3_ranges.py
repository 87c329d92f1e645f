"""A chunk of a large s3:// dataset reads its own byte range from MinIO, not the whole
object: every byte fetched is counted at the object store adapter, and the chunks' roots
still combine into the root of the whole dataset."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cognify_events import (
    HashChunkComputed,
    HashChunkRequested,
    HashComputed,
    HashJobRequested,
    HashJobRequestedPayload,
    HashTarget,
    Producer,
)
from cognify_hasher.combine import Ledger
from cognify_hasher.jobs import ChunkSpec, chunk_size, plan_dataset
from cognify_hasher.progress import Progress
from cognify_hasher.ranges import hash_range, jsonl_offsets
from cognify_hasher.s3 import S3Source
from cognify_hasher.settings import Chunking, Topics
from cognify_hasher.source import Span
from cognify_hasher.storage import Storage
from cognify_hasher.tenancy import grants
from cognify_hasher.work import Work
from cognify_hashing import _native, combine_chunks, hash_dataset, open_source, parse_digest
from cognify_objectstore import ObjectStore, ObjectStream, StoreSettings

pytestmark = pytest.mark.integration

ME = Producer(kind="hasher", id="h:1")
RECORDS = 40_000
CHUNK = 4_096
WINDOW = 64 * 1024


class CountingStore(ObjectStore):
    """The real adapter, counting the ranges asked for and the bytes that came back."""

    def __init__(self) -> None:
        super().__init__(StoreSettings())
        self.asked: list[tuple[int, int | None]] = []
        self.fetched = 0

    def stream(
        self,
        key: str,
        *,
        bucket: str | None = None,
        chunk_size: int = 8 * 1024 * 1024,
        offset: int = 0,
        length: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> ObjectStream:
        self.asked.append((offset, length))
        inner = super().stream(
            key,
            bucket=bucket,
            chunk_size=chunk_size,
            offset=offset,
            length=length,
            version_id=version_id,
            if_match=if_match,
        )
        return ObjectStream(inner.version, self._count(inner), inner.close)

    def _count(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.fetched += len(piece)
            yield piece


@pytest.fixture(params=["native", "pure"])
def path_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both hashing paths read the sparse spool file (the accelerator reads JSON Lines
    itself)."""
    enabled = _native.enabled
    if request.param == "native" and _native.accel is None:
        pytest.fail(f"the Rust accelerator is not importable: {_native.IMPORT_ERROR}")
    _native.enabled = request.param == "native"
    try:
        yield request.param
    finally:
        _native.enabled = enabled


def _records(n: int) -> list[dict[str, Any]]:
    # Random text (incompressible) keeps the Parquet file about as large as the JSON Lines.
    return [{"id": i, "text": os.urandom(60).hex(), "w": i / 8} for i in range(n)]


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    lines = []
    for i, r in enumerate(records):
        lines.append(json.dumps(r) + "\n")
        if i % 997 == 0:  # blank and whitespace-only lines are not records
            lines.append("\n" if i % 2 else "  \t\r\n")
    path.write_text("".join(lines).rstrip("\n"))  # no newline after the last record
    return path


def _chunks(
    store: CountingStore, where: S3Source, plan: list[ChunkSpec]
) -> Iterator[tuple[ChunkSpec, bytes, int]]:
    """(spec, subtree root, bytes fetched) of each chunk, as a chunk worker hashes it."""
    for spec in plan:
        store.fetched, store.asked = 0, []
        assert spec.record_count is not None
        span = Span(spec.record_offset or 0, spec.record_count, spec.byte_offset)
        with where.dataset(span) as read:
            digest = hash_range(
                open_source(read.path),
                Progress("dataset"),
                spec.record_offset or 0,
                spec.record_count,
                spec.byte_offset,
            )
        assert digest.record_count == spec.record_count
        yield spec, parse_digest(digest.root), store.fetched


def _upload(store: ObjectStore, local: Path, spool_dir: Path) -> S3Source:
    """The object uploaded, as the S3 adapter reads it for a job."""
    key = f"hasher-tests/{uuid.uuid4().hex[:12]}/{local.name}"
    store.put(key, local.read_bytes())
    return S3Source(store, store.bucket, key, spool_dir, range_window=WINDOW)


async def test_json_lines_chunks_fetch_only_their_byte_range(
    tmp_path: Path, path_kind: str
) -> None:
    local = _jsonl(tmp_path / "train.jsonl", _records(RECORDS))
    size = local.stat().st_size
    store = CountingStore()
    where = _upload(store, local, tmp_path)
    total, offsets = jsonl_offsets(local, chunk_size(CHUNK))
    assert total == RECORDS
    plan = plan_dataset(total, CHUNK, offsets)
    assert plan is not None and len(plan) == 10
    roots = []
    for index, (spec, root, fetched) in enumerate(_chunks(store, where, plan)):
        assert spec.byte_offset is not None
        end = offsets[index + 1] if index + 1 < len(offsets) else size
        own = end - spec.byte_offset  # the chunk's own bytes (and blank lines after it)
        assert fetched <= own + 1 + WINDOW, (index, fetched, own)
        assert fetched < size / 5, f"chunk {index} fetched {fetched:,} of {size:,} bytes"
        assert all(length is not None and length <= WINDOW for _, length in store.asked)
        roots.append((spec.record_count or 0, root))
    assert "sha256:" + combine_chunks(roots).hex() == hash_dataset(local).root


async def test_parquet_chunks_fetch_only_their_row_groups(tmp_path: Path, path_kind: str) -> None:
    local = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist(_records(RECORDS)), local, row_group_size=2_048)
    size = local.stat().st_size
    metadata = pq.read_metadata(local)
    store = CountingStore()
    where = _upload(store, local, tmp_path)
    plan = plan_dataset(RECORDS, CHUNK)
    assert plan is not None and len(plan) == 10
    roots = []
    for spec, root, fetched in _chunks(store, where, plan):
        first = (spec.record_offset or 0) // 2_048  # two row groups a chunk
        groups = [metadata.row_group(g) for g in (first, first + 1)]
        own = sum(g.column(c).total_compressed_size for g in groups for c in range(g.num_columns))
        assert fetched <= own + 64 * 1024 + 200, (spec, fetched, own)
        assert fetched < size / 4, f"a chunk fetched {fetched:,} of {size:,} bytes"
        roots.append((spec.record_count or 0, root))
    assert "sha256:" + combine_chunks(roots).hex() == hash_dataset(local).root


async def test_a_chunk_without_a_byte_range_reads_the_whole_object(tmp_path: Path) -> None:
    """Arrow files, or a JSON Lines chunk planned without byte offsets: spooled whole, as
    before, with the same root."""
    records = _records(3_000)
    local = _jsonl(tmp_path / "small.jsonl", records)
    store = CountingStore()
    where = _upload(store, local, tmp_path)
    plan = plan_dataset(3_000, 1_024)
    assert plan is not None
    roots = [(spec.record_count or 0, root) for spec, root, _ in _chunks(store, where, plan)]
    assert store.fetched == local.stat().st_size  # the last chunk's: the whole object
    assert "sha256:" + combine_chunks(roots).hex() == hash_dataset(local).root


async def test_the_pool_worker_fetches_only_each_chunks_range(tmp_path: Path) -> None:
    """The same through the worker's core (`Work`): the job planned from the s3 object (one
    whole read, to count its records), then each chunk request hashed from its own bytes,
    and the combined root is the unchunked one."""
    local = _jsonl(tmp_path / "train.jsonl", _records(RECORDS))
    size = local.stat().st_size
    store = CountingStore()
    where = _upload(store, local, tmp_path)
    everyone = grants("", f"*=s3://{store.bucket}/hasher-tests/", store.bucket)
    storage = Storage(everyone, store=store, spool_dir=tmp_path, range_window=WINDOW)
    work = Work(storage, Chunking(records=CHUNK), Topics(), ME, threads=2)
    job = HashJobRequested(
        workspace_id="ws",
        project="p",
        run_id="run-1",
        producer=Producer(kind="ingest", id="i:1"),
        payload=HashJobRequestedPayload(
            job_id="job-s3",
            target=HashTarget.DATASET,
            target_id="ds-1",
            source_uri=f"s3://{where.bucket}/{where.key}",
        ),
    )
    requests = [o.event for o in work.job(job, Progress("dataset"))]
    assert len(requests) == 10
    ledger, results = Ledger(ME), []
    for offset, request in enumerate(requests):
        assert isinstance(request, HashChunkRequested)
        store.fetched = 0
        [out] = work.chunk(request, Progress("dataset"))
        assert isinstance(out.event, HashChunkComputed), out.event
        assert store.fetched < size / 5, f"chunk {offset} fetched {store.fetched:,} of {size:,}"
        results += ledger.add(("chunks", 0), offset, out.event)
    [result] = results
    assert isinstance(result, HashComputed)
    assert result.payload.hash == hash_dataset(local).root
