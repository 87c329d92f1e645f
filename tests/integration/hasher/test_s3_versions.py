"""A chunked job over an s3:// dataset hashes the version it was planned from, or records
a gap: the planner pins the version its own GET read (the VersionId in a versioned bucket,
else the ETag), every chunk request carries it, and every read of a chunk asks for exactly
it. An object overwritten after planning makes its chunks fail with the reason, and the
job's result is `hash.failed`: never a root mixing two versions. Against the real MinIO of
the local stack (its audit bucket has Object Lock, so it keeps versions; a bucket of the
test's own has none)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
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
from cognify_hasher import pins
from cognify_hasher.combine import Ledger
from cognify_hasher.progress import Progress
from cognify_hasher.settings import Chunking, Topics
from cognify_hasher.storage import Storage
from cognify_hasher.tenancy import grants
from cognify_hasher.work import Work
from cognify_hashing import hash_dataset
from cognify_objectstore import ObjectStore, ObjectStream, StoredObject, StoreSettings
from minio import Minio

pytestmark = pytest.mark.integration

ME = Producer(kind="hasher", id="h:1")
RECORDS = 5_000
CHUNK = 1_024  # five chunks
WINDOW = 64 * 1024


class RecordingStore(ObjectStore):
    """The real adapter, noting what every GET asked for; `after_stat` runs once, right
    after the next stat (a chunk's check of the current version), to change the object
    between that check and the chunk's reads."""

    def __init__(self, settings: StoreSettings) -> None:
        super().__init__(settings)
        self.gets: list[tuple[str, str | None, str | None]] = []
        self.after_stat: Callable[[], None] | None = None

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
        self.gets.append((key, version_id, if_match))
        return super().stream(
            key,
            bucket=bucket,
            chunk_size=chunk_size,
            offset=offset,
            length=length,
            version_id=version_id,
            if_match=if_match,
        )

    def stat(
        self, key: str, *, bucket: str | None = None, version_id: str | None = None
    ) -> StoredObject | None:
        info = super().stat(key, bucket=bucket, version_id=version_id)
        hook, self.after_stat = self.after_stat, None
        if hook is not None:
            hook()
        return info


@dataclass
class Bucket:
    store: RecordingStore
    versioned: bool

    def put(self, key: str, data: bytes) -> StoredObject:
        return self.store.put(key, data, overwrite=True)

    def pin(self, stored: StoredObject) -> str:
        if self.versioned:
            assert stored.version_id, "the audit bucket keeps versions (Object Lock)"
            return f"version-id:{stored.version_id}"
        assert stored.version_id is None and stored.etag
        return f"etag:{stored.etag}"


@pytest.fixture(params=["versioned", "unversioned"])
def bucket(request: pytest.FixtureRequest) -> Iterator[Bucket]:
    settings = StoreSettings()
    if request.param == "versioned":
        yield Bucket(RecordingStore(settings), versioned=True)
        return
    name = f"cognify-hasher-test-{uuid.uuid4().hex[:10]}"
    client = Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.secure,
        region=settings.region,
    )
    client.make_bucket(name)  # no Object Lock, no versioning: objects are overwritten
    try:
        yield Bucket(RecordingStore(replace(settings, bucket=name)), versioned=False)
    finally:
        for o in client.list_objects(name, recursive=True):
            assert o.object_name is not None
            client.remove_object(name, o.object_name)
        client.remove_bucket(name)


def _records(n: int, tag: str = "a") -> list[dict[str, Any]]:
    return [{"id": i, "text": f"{tag}-record {i} " + "x" * (i % 50)} for i in range(n)]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=512)
    else:
        table = pa.Table.from_pylist(records)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
            out.write_table(table)
    return path


def _storage(bucket: Bucket, tmp_path: Path) -> Storage:
    """Every workspace may read the test's bucket (tenancy's own tests grant per workspace)."""
    name = bucket.store.bucket
    return Storage(
        grants("", f"*=s3://{name}/", None),
        store=bucket.store,
        spool_dir=tmp_path,
        range_window=WINDOW,
    )


def _work(bucket: Bucket, tmp_path: Path, records: int = CHUNK) -> Work:
    storage = _storage(bucket, tmp_path)
    return Work(storage, Chunking(records=records), Topics(), ME, threads=2)


def _job(bucket: Bucket, key: str, target: HashTarget = HashTarget.DATASET) -> HashJobRequested:
    return HashJobRequested(
        workspace_id="ws",
        project="p",
        run_id="run-1",
        producer=Producer(kind="ingest", id="i:1"),
        payload=HashJobRequestedPayload(
            job_id=f"job-{uuid.uuid4().hex[:12]}",
            target=target,
            target_id="ds-1" if target is HashTarget.DATASET else "ckpt-1",
            source_uri=f"s3://{bucket.store.bucket}/{key}",
        ),
    )


def _plan(work: Work, job: HashJobRequested) -> list[HashChunkRequested]:
    requests = [o.event for o in work.job(job, Progress("dataset"))]
    assert len(requests) == -(-RECORDS // CHUNK)
    assert all(isinstance(r, HashChunkRequested) for r in requests), requests
    return [r for r in requests if isinstance(r, HashChunkRequested)]


def _hash(
    work: Work, requests: list[HashChunkRequested], before: Callable[[int], None] | None = None
) -> tuple[list[HashChunkComputed | HashChunkFailed], HashComputed | HashFailed]:
    """Each chunk as a worker hashes it (`before(i)` runs before chunk i), and the job's
    result as the combiner folds them."""
    ledger, chunks, results = Ledger(ME), [], []
    for index, request in enumerate(requests):
        if before is not None:
            before(index)
        [out] = work.chunk(request, Progress("dataset"))
        assert isinstance(out.event, HashChunkComputed | HashChunkFailed)
        chunks.append(out.event)
        results += ledger.add(("chunks", 0), index, out.event)
    [result] = results
    return chunks, result


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".arrow"])
def test_every_read_of_every_chunk_asks_for_the_version_planned_from(
    bucket: Bucket, tmp_path: Path, suffix: str
) -> None:
    """Ranged JSON Lines reads, Parquet footer and row group reads, a whole Arrow object:
    each GET names the version, and the chunks still combine into the unchunked root."""
    local = _write(tmp_path / f"train{suffix}", _records(RECORDS))
    key = f"hasher-tests/{uuid.uuid4().hex[:12]}/train{suffix}"
    stored = bucket.put(key, local.read_bytes())
    work = _work(bucket, tmp_path)
    requests = _plan(work, _job(bucket, key))
    pin = bucket.pin(stored)
    assert {r.payload.source_version for r in requests} == {pin}

    bucket.store.gets.clear()
    chunks, result = _hash(work, requests)
    assert all(isinstance(c, HashChunkComputed) for c in chunks), chunks
    assert bucket.store.gets, "the chunks read the object"
    asked = (stored.version_id, None) if bucket.versioned else (None, stored.etag)
    assert {(v, m) for _, v, m in bucket.store.gets} == {asked}

    [whole] = [
        o.event
        for o in _work(bucket, tmp_path, 10 * RECORDS).job(_job(bucket, key), Progress("dataset"))
    ]
    assert isinstance(whole, HashComputed) and isinstance(result, HashComputed)
    assert result.payload.hash == whole.payload.hash == hash_dataset(local).root
    assert result.payload.record_count == RECORDS
    # The result names the version hashed: the plan's pin, and the version the unchunked
    # job's single GET read (the same one here).
    assert result.payload.source_version == whole.payload.source_version == pin


def test_an_object_overwritten_between_chunks_makes_the_job_a_gap(
    bucket: Bucket, tmp_path: Path
) -> None:
    """Chunk 0 hashes the planned version; the object is then overwritten; chunk 1 fails
    with the reason, and the job's result is hash.failed, not a root of two versions.
    Planned again, the job hashes the new version."""
    key = f"hasher-tests/{uuid.uuid4().hex[:12]}/train.jsonl"
    old = _write(tmp_path / "old.jsonl", _records(RECORDS, "old"))
    new = _write(tmp_path / "new.jsonl", _records(RECORDS, "new"))  # same length, same lines
    assert old.stat().st_size == new.stat().st_size
    first = bucket.put(key, old.read_bytes())
    work = _work(bucket, tmp_path)
    job = _job(bucket, key)
    requests = _plan(work, job)
    overwritten: list[StoredObject] = []

    def overwrite_after_chunk_0(index: int) -> None:
        if index == 1:
            overwritten.append(bucket.put(key, new.read_bytes()))

    chunks, result = _hash(work, requests, overwrite_after_chunk_0)
    second = overwritten[0]
    assert isinstance(chunks[0], HashChunkComputed)
    assert all(isinstance(c, HashChunkFailed) for c in chunks[1:]), chunks
    if bucket.versioned:
        why = f"version {first.version_id} is no longer current; it is now {second.version_id}"
    else:
        why = f"ETag {first.etag} is no longer current; it is now {second.etag}"
    expected = f"s3://{bucket.store.bucket}/{key} changed after the job was planned ({why})"
    failed = chunks[1]
    assert isinstance(failed, HashChunkFailed)
    assert failed.payload.reason == f"chunk 2 of 5: {expected}"
    assert isinstance(result, HashFailed), result
    assert result.payload.reason == failed.payload.reason

    again = _plan(work, job)  # re-planned (say, redelivered): the new version, a new plan
    assert {r.payload.source_version for r in again} == {bucket.pin(second)}
    assert again[0].payload.plan_id != requests[0].payload.plan_id
    _, redone = _hash(work, again)
    assert isinstance(redone, HashComputed)
    assert redone.payload.hash == hash_dataset(new).root != hash_dataset(old).root


def test_the_plan_pins_the_version_its_own_read_got(bucket: Bucket, tmp_path: Path) -> None:
    """Overwritten between the planner's stat and its download, the object is planned from
    the version the download read (from the GET's response), and its chunks hash it."""
    key = f"hasher-tests/{uuid.uuid4().hex[:12]}/train.jsonl"
    old = _write(tmp_path / "old.jsonl", _records(RECORDS, "old"))
    new = _write(tmp_path / "new.jsonl", _records(RECORDS + 7, "new"))
    bucket.put(key, old.read_bytes())
    overwritten: list[StoredObject] = []
    bucket.store.after_stat = lambda: overwritten.append(bucket.put(key, new.read_bytes()))
    work = _work(bucket, tmp_path)
    requests = [o.event for o in work.job(_job(bucket, key), Progress("dataset"))]
    assert all(isinstance(r, HashChunkRequested) for r in requests)
    assert len(requests) == -(-(RECORDS + 7) // CHUNK)
    assert {r.payload.source_version for r in requests if isinstance(r, HashChunkRequested)} == {
        bucket.pin(overwritten[0])
    }
    _, result = _hash(work, [r for r in requests if isinstance(r, HashChunkRequested)])
    assert isinstance(result, HashComputed)
    assert result.payload.hash == hash_dataset(new).root


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_change_between_the_check_and_the_reads_fails_the_reads(
    bucket: Bucket, tmp_path: Path, suffix: str
) -> None:
    """The object changes after a chunk found its version current and before the chunk's
    GETs: those ask for the version itself, so the store refuses them (the version is gone:
    NoSuchVersion; the ETag no longer matches: PreconditionFailed)."""
    key = f"hasher-tests/{uuid.uuid4().hex[:12]}/train{suffix}"
    local = _write(tmp_path / f"train{suffix}", _records(RECORDS))
    stored = bucket.put(key, local.read_bytes())
    work = _work(bucket, tmp_path)
    requests = _plan(work, _job(bucket, key))

    def change() -> None:
        if bucket.versioned:  # no retention on it: the version itself can be deleted
            bucket.store.delete_version(key, stored.version_id or "")
        else:
            bucket.put(
                key, _write(tmp_path / f"other{suffix}", _records(RECORDS, "b")).read_bytes()
            )

    bucket.store.after_stat = change
    [out] = work.chunk(requests[2], Progress("dataset"))
    assert isinstance(out.event, HashChunkFailed), out.event
    where = f"s3://{bucket.store.bucket}/{key}"
    if bucket.versioned:
        why = f"version {stored.version_id} no longer exists"
    else:
        why = f"precondition failed: ETag {stored.etag} is no longer current"
    assert out.event.payload.reason == (
        f"chunk 3 of 5: {where} changed after the job was planned ({why})"
    )


def test_the_objects_under_a_prefix_are_pinned_together(bucket: Bucket, tmp_path: Path) -> None:
    """A directory of data files under a prefix: the plan pins every object's version (one
    digest of them all); unchanged, the chunks combine into the directory's root; one
    object overwritten after planning, the chunks fail and the job is hash.failed."""
    local = tmp_path / "train"
    local.mkdir()
    records = _records(RECORDS)
    parts = [
        _write(local / "part-0.jsonl", records[:2_000]),
        _write(local / "part-1.jsonl", records[2_000:]),
    ]
    prefix = f"hasher-tests/{uuid.uuid4().hex[:12]}/train"
    for part in parts:
        bucket.put(f"{prefix}/{part.name}", part.read_bytes())
    work = _work(bucket, tmp_path)
    requests = _plan(work, _job(bucket, prefix))
    [pin] = {r.payload.source_version for r in requests}
    assert pin is not None and pin.startswith("objects-sha256:")
    _, result = _hash(work, requests)
    assert isinstance(result, HashComputed)
    assert result.payload.hash == hash_dataset(local).root

    requests = _plan(work, _job(bucket, prefix))
    assert {r.payload.source_version for r in requests} == {pin}, "same objects, same pin"
    bucket.put(
        f"{prefix}/part-1.jsonl", _write(tmp_path / "b.jsonl", _records(10, "b")).read_bytes()
    )
    chunks, result = _hash(work, requests)
    assert all(isinstance(c, HashChunkFailed) for c in chunks), chunks
    assert isinstance(result, HashFailed)
    assert result.payload.reason.startswith(
        f"chunk 1 of 5: s3://{bucket.store.bucket}/{prefix} changed after the job was planned "
        f"(its objects are not those planned from: {pin.removeprefix('objects-sha256:')} then, "
    )


def _whole(work: Work, job: HashJobRequested) -> HashComputed:
    [result] = [o.event for o in work.job(job, Progress("whole"))]
    assert isinstance(result, HashComputed), result
    return result


def test_an_unchunked_result_names_the_version_its_read_got(bucket: Bucket, tmp_path: Path) -> None:
    """A job hashed whole names the version of the object its one GET read; overwritten,
    a new job names the new version, and the old version, fetched by its version id, still
    hashes to the old root: what an auditor does years later."""
    key = f"hasher-tests/{uuid.uuid4().hex[:12]}/train.jsonl"
    old = _write(tmp_path / "old.jsonl", _records(100, "old"))
    new = _write(tmp_path / "new.jsonl", _records(100, "new"))
    first = bucket.put(key, old.read_bytes())
    work = _work(bucket, tmp_path, 10 * RECORDS)
    before = _whole(work, _job(bucket, key))
    assert before.payload.source_version == bucket.pin(first)
    assert before.payload.hash == hash_dataset(old).root

    second = bucket.put(key, new.read_bytes())
    after = _whole(work, _job(bucket, key))
    assert after.payload.source_version == bucket.pin(second) != bucket.pin(first)
    assert after.payload.hash == hash_dataset(new).root != before.payload.hash
    if bucket.versioned:  # the hashed version is still there, by its id
        assert before.payload.source_version == f"version-id:{first.version_id}"
        version = first.version_id or ""
        fetched = tmp_path / "fetched.jsonl"
        fetched.write_bytes(bucket.store.get(key, version_id=version))
        assert hash_dataset(fetched).root == before.payload.hash


def test_an_s3_checkpoint_names_the_versions_of_its_objects(bucket: Bucket, tmp_path: Path) -> None:
    """A checkpoint under a prefix hashed whole: `objects-sha256` of the [file, version]
    pairs its GETs read; a file overwritten, the digest is another."""
    prefix = f"hasher-tests/{uuid.uuid4().hex[:12]}/checkpoint-10"
    files = {"config.json": b"{}", "model.safetensors": b"w" * 5_000, "opt/state.pt": b"s" * 10}
    stored = {rel: bucket.put(f"{prefix}/{rel}", data) for rel, data in files.items()}
    work = _work(bucket, tmp_path)
    result = _whole(work, _job(bucket, prefix, HashTarget.CHECKPOINT))
    expected = pins.of_objects([(rel, pins.of_object(s)) for rel, s in stored.items()])
    assert result.payload.source_version == str(expected)
    assert str(expected).startswith("objects-sha256:")

    stored["config.json"] = bucket.put(f"{prefix}/config.json", b'{"a": 1}')
    again = _whole(work, _job(bucket, prefix, HashTarget.CHECKPOINT))
    expected = pins.of_objects([(rel, pins.of_object(s)) for rel, s in stored.items()])
    assert again.payload.source_version == str(expected) != result.payload.source_version


def test_an_s3_checkpoint_hashed_in_chunks_names_the_same_versions(
    bucket: Bucket, tmp_path: Path
) -> None:
    """Chunks of a checkpoint hash groups of its files; each names the version of every
    object it read, and the combined result is the one hashing it whole gives: the same
    hash, the same per-file versions (those MinIO stored), the same `source_version`."""
    prefix = f"hasher-tests/{uuid.uuid4().hex[:12]}/checkpoint-20"
    files = {f"shard-{i}.safetensors": bytes([i]) * (1_000 + i) for i in range(5)}
    files["config.json"] = b"{}"
    stored = {rel: bucket.put(f"{prefix}/{rel}", data) for rel, data in files.items()}
    storage = _storage(bucket, tmp_path)
    chunked = Work(storage, Chunking(bytes=2_000, files=2), Topics(), ME, threads=2)
    job = _job(bucket, prefix, HashTarget.CHECKPOINT)
    requests = [o.event for o in chunked.job(job, Progress("checkpoint"))]
    assert len(requests) >= 3 and all(isinstance(r, HashChunkRequested) for r in requests)
    ledger, results = Ledger(ME), []
    for index, request in enumerate(requests):
        assert isinstance(request, HashChunkRequested)
        [out] = chunked.chunk(request, Progress("checkpoint"))
        assert isinstance(out.event, HashChunkComputed), out.event
        assert {f.version for f in out.event.payload.files} <= {
            bucket.pin(stored[f.path]) for f in out.event.payload.files
        }
        results += ledger.add(("chunks", 0), index, out.event)
    [combined] = results
    whole = _whole(_work(bucket, tmp_path), _job(bucket, prefix, HashTarget.CHECKPOINT))
    assert isinstance(combined, HashComputed)
    assert combined.payload.hash == whole.payload.hash
    assert combined.payload.files == whole.payload.files
    assert {f.path: f.version for f in combined.payload.files} == {
        rel: bucket.pin(s) for rel, s in stored.items()
    }
    assert combined.payload.source_version == whole.payload.source_version
    assert combined.payload.source_version == str(
        pins.of_objects([(rel, pins.of_object(s)) for rel, s in stored.items()])
    )
