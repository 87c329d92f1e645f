"""Doing a job: plan it, hash it (whole or one chunk of it), and say what to publish.

Runs on a worker thread (it blocks on files and sockets). Every outcome is a list of
`Output`s for the Kafka adapter: a result on the canonical topic, chunk jobs back onto the
jobs topic, or a chunk result onto the chunks topic. A target that cannot be hashed becomes
`hash.failed` (or `hash.chunk_failed`) with the reason; any other exception propagates and
the adapter retries the job.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cognify_events import (
    Event,
    HashChunkRequested,
    HashJobRequested,
    HashTarget,
    Producer,
    partition_key,
)
from cognify_hashing import (
    CanonicalEncodingError,
    Manifest,
    ManifestError,
    SourceError,
    open_source,
)
from cognify_hashing.sources import JsonLinesFile

from . import jobs, metrics
from .jobs import FailureKind, JobFailure
from .progress import Progress
from .ranges import hash_range, jsonl_offsets
from .settings import Chunking, Topics
from .source import Source, Span, hash_files
from .storage import Storage

T = TypeVar("T")


@dataclass(frozen=True)
class Output:
    topic: str
    key: bytes
    event: Event
    # Chunk jobs name their partition: consecutive chunks land on consecutive partitions,
    # which the round-robin assignor hands to different workers.
    spread: int | None = None


class Work:
    def __init__(
        self, storage: Storage, chunking: Chunking, topics: Topics, me: Producer, threads: int
    ) -> None:
        self.storage = storage
        self.chunking = chunking
        self.topics = topics
        self.me = me
        self.threads = max(1, threads)

    def job(self, job: HashJobRequested, progress: Progress) -> list[Output]:
        """Hash a job whole, or plan it into chunk jobs when it is large."""
        started = time.monotonic()
        try:
            where = self.storage.open(job.workspace_id, job.payload.source_uri)
            if job.payload.target is HashTarget.DATASET:
                return self._dataset(job, where, progress, started)
            return self._checkpoint(job, where, progress, started)
        except JobFailure as failure:
            metrics.FAILURES.labels(failure.kind.value).inc()
            return [self._result(jobs.job_failed(job, failure.reason, self.me))]

    def chunk(self, chunk: HashChunkRequested, progress: Progress) -> list[Output]:
        """Hash one chunk of a planned job; its result goes to the combining worker."""
        started = time.monotonic()
        p = chunk.payload
        try:
            where = self.storage.open(chunk.workspace_id, p.source_uri)
            if p.target is HashTarget.DATASET:
                if p.record_offset is None or p.record_count is None:
                    raise JobFailure(FailureKind.INVALID, "a dataset chunk names no record range")
                span = Span(p.record_offset, p.record_count, p.byte_offset)
                with where.dataset(
                    span, p.source_version
                ) as read:  # s3: only the chunk's own bytes, of the version planned from
                    progress.start(records_total=p.record_count)
                    digest = _guarded(
                        lambda: hash_range(
                            open_source(read.path),
                            progress,
                            p.record_offset or 0,
                            p.record_count,
                            p.byte_offset,
                        )
                    )
                event: Event = jobs.chunk_computed(chunk, self.me, _since(started), digest=digest)
            else:
                files = [(f.path, f.size) for f in p.files]
                progress.start(bytes_total=sum(size for _, size in files))
                entries, versions = hash_files(where, files, progress, self.threads)
                manifest = Manifest.from_entries(entries)
                event = jobs.chunk_computed(
                    chunk, self.me, _since(started), manifest=manifest, versions=versions
                )
        except JobFailure as failure:
            metrics.FAILURES.labels(failure.kind.value).inc()
            event = jobs.chunk_failed(chunk, failure.reason, self.me)
        progress.finish()
        return [Output(self.topics.chunks, p.job_id.encode(), event)]

    def gave_up(self, job: jobs.Job, error: BaseException, attempts: int) -> list[Output]:
        """The job kept failing for another reason: record the gap rather than drop it."""
        metrics.FAILURES.labels(FailureKind.ERROR.value).inc()
        reason = f"hasher error after {attempts} attempts: {type(error).__name__}: {error}"
        if isinstance(job, HashChunkRequested):
            event = jobs.chunk_failed(job, reason, self.me)
            return [Output(self.topics.chunks, job.payload.job_id.encode(), event)]
        return [self._result(jobs.job_failed(job, reason, self.me))]

    # ---- whole jobs ---------------------------------------------------------------------

    def _dataset(
        self, job: HashJobRequested, where: Source, progress: Progress, started: float
    ) -> list[Output]:
        with where.dataset() as read:
            source = _guarded(lambda: open_source(read.path))
            offsets = None
            if isinstance(source, JsonLinesFile):
                every = jobs.chunk_size(self.chunking.records)
                total, offsets = _guarded(lambda: jsonl_offsets(source.path, every, self.threads))
            else:
                total = _guarded(source.count)
            plan = jobs.plan_dataset(total, self.chunking.records, offsets)
            if plan is not None:  # every chunk reads the version planned from
                return self._chunks(job, plan, read.version)
            progress.start(records_total=total)
            digest = _guarded(lambda: hash_range(source, progress))
        progress.finish()
        result = jobs.dataset_computed(
            job, digest, _since(started), self.me, source_version=read.version
        )
        return [self._result(result)]

    def _checkpoint(
        self, job: HashJobRequested, where: Source, progress: Progress, started: float
    ) -> list[Output]:
        files = where.files()
        plan = jobs.plan_checkpoint(files, self.chunking.bytes, self.chunking.files)
        if plan is not None:
            return self._chunks(job, plan)
        progress.start(bytes_total=sum(size for _, size in files))
        entries, versions = hash_files(where, files, progress, self.threads)
        manifest = _guarded(lambda: Manifest.from_entries(entries))
        progress.finish()
        result = jobs.checkpoint_computed(
            job, manifest, _since(started), self.me, versions=versions
        )
        return [self._result(result)]

    def _chunks(
        self, job: HashJobRequested, plan: list[jobs.ChunkSpec], version: str | None = None
    ) -> list[Output]:
        base = zlib.crc32(job.payload.job_id.encode())
        return [
            Output(
                self.topics.jobs,
                f"{c.payload.job_id}/{c.payload.chunk_index}".encode(),
                c,
                spread=base + c.payload.chunk_index,
            )
            for c in jobs.chunk_requests(job, plan, self.me, version)
        ]

    def _result(self, event: Event) -> Output:
        return Output(self.topics.events, partition_key(event), event)


def _guarded(call: Callable[[], T]) -> T:
    """Turn the hashing core's refusals into failures with their reason."""
    try:
        return call()
    except (SourceError, CanonicalEncodingError) as exc:
        raise JobFailure(FailureKind.INVALID, f"dataset cannot be hashed: {exc}") from None
    except ManifestError as exc:
        raise JobFailure(FailureKind.INVALID, f"no version-1 manifest: {exc}") from None
    except FileNotFoundError as exc:
        raise JobFailure(
            FailureKind.MISSING, f"disappeared while it was hashed (deleted or moved?): {exc}"
        ) from None
    except ConnectionError:
        raise  # the network, not the target: the adapter retries
    except OSError as exc:
        raise JobFailure(FailureKind.UNREADABLE, f"unreadable: {exc}") from None


def _since(started: float) -> float:
    return round(time.monotonic() - started, 6)
