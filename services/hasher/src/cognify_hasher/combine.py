"""Folding chunk results into one job result (pure: no I/O).

Chunk results are keyed by job id, so all of a job's results sit on one partition of the
chunks topic and one combining worker sees them all. The `Ledger` holds the jobs still
waiting for chunks; when the last chunk of a plan arrives it yields the job's single
`hash.computed` (or, as soon as one chunk failed, its `hash.failed`).

Offsets: a partition's position may only be committed up to the first result of a job that
is still waiting, so a restarted worker re-reads every chunk of every unfinished job. A job
finished before a restart may be combined again: its result has the same event id.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from cognify_events import HashChunkComputed, HashChunkFailed, HashComputed, HashFailed, Producer
from cognify_hashing import Manifest, ManifestEntry, ManifestError, combine_chunks, format_digest
from cognify_hashing.digest import parse_digest
from cognify_hashing.schema import merge_descriptions

from . import jobs

Partition = tuple[str, int]
Result = HashComputed | HashFailed


@dataclass
class _Waiting:
    first_offset: int
    chunk_count: int
    parts: dict[int, HashChunkComputed] = field(default_factory=dict)


class Ledger:
    def __init__(self, me: Producer, remember: int = 10_000) -> None:
        self.me = me
        self._waiting: dict[Partition, dict[tuple[str, str], _Waiting]] = {}
        self._next: dict[Partition, int] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def add(
        self, partition: Partition, offset: int, event: HashChunkComputed | HashChunkFailed
    ) -> list[Result]:
        """Take one chunk result; returns the job's result when this completes it."""
        self._next[partition] = offset + 1
        p = event.payload
        if p.job_id in self._finished:
            return []
        if isinstance(event, HashChunkFailed):
            self._finish(partition, p.job_id)
            reason = event.payload.reason
            return [jobs.failed(event, p.job_id, p.target, p.target_id, reason, self.me)]
        waiting = self._waiting.setdefault(partition, {}).setdefault(
            (p.job_id, p.plan_id), _Waiting(offset, p.chunk_count)
        )
        waiting.parts.setdefault(p.chunk_index, event)
        if len(waiting.parts) < waiting.chunk_count:
            return []
        self._finish(partition, p.job_id)
        return [combine([waiting.parts[i] for i in sorted(waiting.parts)], self.me)]

    def committable(self, partition: Partition) -> int | None:
        """The offset that is safe to commit for `partition` (None: nothing read yet)."""
        waiting = self._waiting.get(partition)
        if waiting:
            return min(w.first_offset for w in waiting.values())
        return self._next.get(partition)

    def forget(self, partitions: list[Partition]) -> None:
        """Partitions taken away by a rebalance: their new owner re-reads them."""
        for partition in partitions:
            self._waiting.pop(partition, None)
            self._next.pop(partition, None)

    @property
    def waiting_jobs(self) -> int:
        return sum(len(w) for w in self._waiting.values())

    def _finish(self, partition: Partition, job_id: str) -> None:
        waiting = self._waiting.get(partition, {})
        for key in [k for k in waiting if k[0] == job_id]:
            del waiting[key]
        self._finished[job_id] = None
        while len(self._finished) > self._remember:
            self._finished.popitem(last=False)


def combine(parts: list[HashChunkComputed], me: Producer) -> Result:
    """The job result from all chunk results of one plan, in chunk order."""
    first = parts[0]
    p = first.payload
    duration = sum(part.payload.duration_s for part in parts)
    # The plan's pin (one plan id, one pin: the pin is part of the plan id).
    version = p.source_version
    try:
        if any(part.payload.source_version != version for part in parts):
            raise ValueError("chunks of one plan name different source versions")
        if p.root is not None:
            digest = _dataset(parts)
            return jobs.dataset_computed(first, digest, duration, me, source_version=version)
        entries = [
            ManifestEntry(path=f.path, size=f.size, sha256=f.sha256)
            for part in parts
            for f in part.payload.files
        ]
        manifest = Manifest.from_entries(entries)
        # s3://: each chunk read its files' current versions (a checkpoint's plan pins none).
        versions = {f.path: f.version for part in parts for f in part.payload.files if f.version}
        return jobs.checkpoint_computed(first, manifest, duration, me, versions=versions)
    except (ValueError, ManifestError) as exc:
        reason = f"chunk results do not combine: {exc}"
        return jobs.failed(first, p.job_id, p.target, p.target_id, reason, me)


def _dataset(parts: list[HashChunkComputed]) -> jobs.DatasetDigest:
    offset = 0
    sized: list[tuple[int, bytes]] = []
    for part in parts:
        q = part.payload
        if q.root is None or q.record_count is None or q.record_offset != offset:
            raise ValueError(f"chunk {q.chunk_index} does not continue at record {offset}")
        sized.append((q.record_count, parse_digest(q.root)))
        offset += q.record_count
    return jobs.DatasetDigest(
        root=format_digest(combine_chunks(sized)),
        record_count=offset,
        schema=merge_descriptions(part.payload.record_schema for part in parts),
        bytes_hashed=sum(part.payload.bytes_hashed for part in parts),
    )
