"""Hash jobs as values (pure: no I/O): how a job is split into chunks, and how results become
events with deterministic ids.

A redelivered job (at-least-once: a worker died after publishing, before committing) yields
a result with the same `event_id`, derived from the job id, so consumers dedup it.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cognify_events import (
    EventBase,
    FileEntry,
    FileHash,
    HashChunkComputed,
    HashChunkComputedPayload,
    HashChunkFailed,
    HashChunkFailedPayload,
    HashChunkRequested,
    HashChunkRequestedPayload,
    HashComputed,
    HashComputedPayload,
    HashFailed,
    HashFailedPayload,
    HashJobRequested,
    HashTarget,
    Producer,
    encode,
)
from cognify_hashing import Manifest, plan_chunks
from cognify_kafka import MAX_MESSAGE_BYTES

from . import pins

CHECKPOINT_ALGORITHM = "checkpoint-manifest-v1"
DATASET_ALGORITHM = "merkle-rfc6962-v1"
# The largest result the topics take (docs/spec/events.md, "Message size"), less room for the
# record batch around it. A manifest beyond it is a hash-failed gap, not a result retried
# for ever.
MAX_RESULT_BYTES = MAX_MESSAGE_BYTES - 65_536
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cognify:hasher")

Job = HashJobRequested | HashChunkRequested
ChunkResult = HashChunkComputed | HashChunkFailed


class FailureKind(StrEnum):
    """Why a target could not be hashed; the label of cognify_hasher_failures_total."""

    REFUSED = "refused"  # the source is not one this hasher may read
    MISSING = "missing"  # gone before (or while) it was hashed: rotated away, deleted
    CHANGED = "changed"  # an s3:// source no longer the version its chunks were planned from
    UNREADABLE = "unreadable"  # permissions, I/O errors
    INVALID = "invalid"  # no version-1 hash exists for it (symlink in a checkpoint, bad record)
    ERROR = "error"  # the hasher kept failing on it: recorded as a gap, never dropped


class JobFailure(Exception):
    """A target that cannot be hashed: becomes `hash.failed` with `reason`, never a retry."""

    def __init__(self, kind: FailureKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def event_id(job_id: str, *parts: object) -> uuid.UUID:
    """The deterministic id of an event about `job_id` (and a chunk of it)."""
    return uuid.uuid5(_NAMESPACE, "/".join([job_id, *map(str, parts)]))


# ---- planning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkSpec:
    """One chunk: a record range of a dataset, or a group of checkpoint files."""

    record_offset: int | None = None
    record_count: int | None = None
    files: tuple[tuple[str, int], ...] = ()
    byte_offset: int | None = None  # JSON Lines: where the range's first line starts


def chunk_size(chunk_records: int) -> int:
    """The largest power of two <= the configured records per chunk."""
    return 1 << (chunk_records.bit_length() - 1)


def plan_dataset(
    total_records: int, chunk_records: int, byte_offsets: Sequence[int] | None = None
) -> list[ChunkSpec] | None:
    """Power-of-two record ranges (so combine_chunks gives the unchunked root), or None
    when the dataset is small enough to hash whole. `byte_offsets[i]`, when known, is where
    chunk i starts in a JSON Lines file."""
    if total_records <= chunk_records:
        return None
    ranges = plan_chunks(total_records, chunk_size(chunk_records))
    return [
        ChunkSpec(offset, count, byte_offset=byte_offsets[i] if byte_offsets else None)
        for i, (offset, count) in enumerate(ranges)
    ]


def plan_checkpoint(
    files: Sequence[tuple[str, int]], chunk_bytes: int, chunk_files: int
) -> list[ChunkSpec] | None:
    """Balanced groups of whole files (a file's SHA-256 cannot be split), or None when the
    checkpoint is small enough to hash whole."""
    total = sum(size for _, size in files)
    groups = max(-(-total // chunk_bytes), -(-len(files) // chunk_files))
    groups = min(groups, len(files))
    if groups <= 1:
        return None
    # Largest file first onto the lightest group: within 4/3 of the best balance.
    heap = [(0, index, list[tuple[str, int]]()) for index in range(groups)]
    for path, size in sorted(files, key=lambda f: (-f[1], f[0])):
        load, index, members = heapq.heappop(heap)
        members.append((path, size))
        heapq.heappush(heap, (load + size, index, members))
    chunks = [sorted(members) for _, _, members in heap if members]
    chunks.sort(key=lambda members: members[0][0].encode())
    return [ChunkSpec(files=tuple(members)) for members in chunks]


def plan_id(
    job: HashJobRequested, chunks: Sequence[ChunkSpec], source_version: str | None = None
) -> str:
    """Names one plan of a job: a re-planned job (its worker died) whose target changed
    meanwhile gets another plan id, and chunks of two plans are never combined. The
    version of the source planned from is part of it (when there is one)."""
    body: dict[str, object] = {
        "job": job.payload.job_id,
        "source": job.payload.source_uri,
        "chunks": [
            [c.record_offset, c.record_count, c.byte_offset, [list(f) for f in c.files]]
            for c in chunks
        ],
    }
    if source_version is not None:
        body["version"] = source_version
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def chunk_requests(
    job: HashJobRequested,
    chunks: Sequence[ChunkSpec],
    me: Producer,
    source_version: str | None = None,
) -> list[HashChunkRequested]:
    """One request per chunk; `source_version` is the version of an s3:// source the plan
    was made from (docs/spec/hashing.md §8), which every read of every chunk asks for."""
    p = job.payload
    pid = plan_id(job, chunks, source_version)
    return [
        HashChunkRequested(
            **_envelope(job, me, event_id(p.job_id, pid, "chunk", index)),
            payload=HashChunkRequestedPayload(
                job_id=p.job_id,
                plan_id=pid,
                chunk_index=index,
                chunk_count=len(chunks),
                target=p.target,
                target_id=p.target_id,
                source_uri=p.source_uri,
                record_offset=spec.record_offset,
                record_count=spec.record_count,
                byte_offset=spec.byte_offset,
                files=[FileEntry(path=path, size=size) for path, size in spec.files],
                source_version=source_version,
            ),
        )
        for index, spec in enumerate(chunks)
    ]


# ---- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetDigest:
    root: str
    record_count: int
    schema: dict[str, object]
    bytes_hashed: int


def checkpoint_computed(
    job: HashJobRequested | HashChunkRequested | HashChunkComputed,
    manifest: Manifest,
    duration_s: float,
    me: Producer,
    limit: int = MAX_RESULT_BYTES,
    *,
    versions: Mapping[str, str] = {},
) -> HashComputed | HashFailed:
    """The checkpoint's result; hash-failed when its manifest is too large to publish.
    `versions`: of an s3:// checkpoint, the version of each file's object that was hashed,
    by path (none for local paths); the result's `source_version` is their pin."""
    p = job.payload
    files = _file_hashes(manifest, versions)
    result = HashComputed(
        **_envelope(job, me, event_id(p.job_id, "result")),
        payload=HashComputedPayload(
            job_id=p.job_id,
            target=p.target,
            target_id=p.target_id,
            hash=manifest.checkpoint_hash,
            algorithm=CHECKPOINT_ALGORITHM,
            files=files,
            bytes_hashed=manifest.total_size,
            duration_s=duration_s,
            source_version=checkpoint_version(files),
        ),
    )
    size = len(encode(result))
    if size <= limit:
        return result
    reason = (
        f"the manifest of {len(manifest.entries):,} files makes a {size:,}-byte result, over"
        f" the {limit:,}-byte message limit; checkpoint hash {manifest.checkpoint_hash}"
    )
    return failed(job, p.job_id, p.target, p.target_id, reason, me)


def dataset_computed(
    job: HashJobRequested | HashChunkComputed,
    digest: DatasetDigest,
    duration_s: float,
    me: Producer,
    *,
    source_version: str | None = None,
) -> HashComputed:
    """The dataset's result; `source_version` is the version of an s3:// source that was
    hashed (the one read, or the plan's pin), None for local paths."""
    p = job.payload
    return HashComputed(
        **_envelope(job, me, event_id(p.job_id, "result")),
        payload=HashComputedPayload(
            job_id=p.job_id,
            target=p.target,
            target_id=p.target_id,
            hash=digest.root,
            algorithm=DATASET_ALGORITHM,
            record_count=digest.record_count,
            record_schema=digest.schema,
            bytes_hashed=digest.bytes_hashed,
            duration_s=duration_s,
            source_version=source_version,
        ),
    )


def failed(
    job: EventBase, job_id: str, target: HashTarget, target_id: str, reason: str, me: Producer
) -> HashFailed:
    return HashFailed(
        **_envelope(job, me, event_id(job_id, "result")),
        payload=HashFailedPayload(
            job_id=job_id, target=target, target_id=target_id, reason=reason[:16_000]
        ),
    )


def job_failed(job: Job, reason: str, me: Producer) -> HashFailed:
    p = job.payload
    return failed(job, p.job_id, p.target, p.target_id, reason, me)


def chunk_computed(
    chunk: HashChunkRequested,
    me: Producer,
    duration_s: float,
    *,
    manifest: Manifest | None = None,
    versions: Mapping[str, str] = {},
    digest: DatasetDigest | None = None,
) -> HashChunkComputed:
    p = chunk.payload
    return HashChunkComputed(
        **_envelope(chunk, me, event_id(p.job_id, p.plan_id, "chunk-result", p.chunk_index)),
        payload=HashChunkComputedPayload(
            job_id=p.job_id,
            plan_id=p.plan_id,
            chunk_index=p.chunk_index,
            chunk_count=p.chunk_count,
            target=p.target,
            target_id=p.target_id,
            record_offset=p.record_offset,
            record_count=digest.record_count if digest else None,
            root=digest.root if digest else None,
            record_schema=digest.schema if digest else {},
            files=_file_hashes(manifest, versions) if manifest else [],
            bytes_hashed=(
                manifest.total_size if manifest else digest.bytes_hashed if digest else 0
            ),
            duration_s=duration_s,
            source_version=p.source_version,  # the plan's pin, for the combined result
        ),
    )


def chunk_failed(chunk: HashChunkRequested, reason: str, me: Producer) -> HashChunkFailed:
    p = chunk.payload
    return HashChunkFailed(
        **_envelope(chunk, me, event_id(p.job_id, p.plan_id, "chunk-result", p.chunk_index)),
        payload=HashChunkFailedPayload(
            job_id=p.job_id,
            plan_id=p.plan_id,
            chunk_index=p.chunk_index,
            chunk_count=p.chunk_count,
            target=p.target,
            target_id=p.target_id,
            reason=f"chunk {p.chunk_index + 1} of {p.chunk_count}: {reason}"[:16_000],
        ),
    )


def _file_hashes(manifest: Manifest, versions: Mapping[str, str]) -> list[FileHash]:
    return [
        FileHash(path=e.path, size=e.size, sha256=e.sha256, version=versions.get(e.path))
        for e in manifest.entries
    ]


def checkpoint_version(files: Sequence[FileHash]) -> str | None:
    """A checkpoint's `source_version`: the `objects-sha256` pin of its files' versions when
    they were read from s3:// (one has a version), None for a local directory. The same
    whether the checkpoint was hashed whole or in chunks."""
    if not any(f.version for f in files):
        return None
    read = [(f.path, pins.Pin.parse(f.version) if f.version else None) for f in files]
    return str(pins.of_objects(read))


def _envelope(source: EventBase, me: Producer, eid: uuid.UUID) -> dict[str, object]:
    """The run the source event is about, written by this hasher: no producer sequence."""
    return {
        "event_id": eid,
        "workspace_id": source.workspace_id,
        "project": source.project,
        "run_id": source.run_id,
        "seq": None,
        "producer": me,
    }
