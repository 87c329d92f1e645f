"""The hasher's settings, read once from the environment by app.py (and built directly by
tests and benchmarks, which pass topics, groups and thresholds of their own)."""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cognify_events import EVENTS, HASH_CHUNKS, HASH_JOBS, HASH_PROGRESS
from cognify_kafka import KafkaSettings
from cognify_objectstore import StoreSettings

from . import tenancy
from .tenancy import Grants


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


@dataclass(frozen=True)
class Topics:
    """Topic names. A prefix (COGNIFY_TOPIC_PREFIX) lets tests and benchmarks run apart."""

    jobs: str = HASH_JOBS.name
    events: str = EVENTS.name
    chunks: str = HASH_CHUNKS.name
    progress: str = HASH_PROGRESS.name

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        names = (HASH_JOBS.name, EVENTS.name, HASH_CHUNKS.name, HASH_PROGRESS.name)
        return cls(*(prefix + name for name in names))


@dataclass(frozen=True)
class Chunking:
    """When a job is split, and how. A dataset of more than `records` records is cut every
    `records` (rounded down to a power of two); a checkpoint of more than `bytes` bytes in
    more than one file is cut into file groups of about `bytes` bytes and at most `files`
    files. Tests set them tiny to force chunking on small inputs."""

    records: int = field(default_factory=lambda: _env_int("COGNIFY_HASHER_CHUNK_RECORDS", 1 << 20))
    bytes: int = field(default_factory=lambda: _env_int("COGNIFY_HASHER_CHUNK_BYTES", 4 << 30))
    files: int = field(default_factory=lambda: _env_int("COGNIFY_HASHER_CHUNK_FILES", 2_000))

    def __post_init__(self) -> None:
        if self.records < 1 or self.bytes < 1 or self.files < 1:
            raise ValueError("chunk thresholds must be positive")


@dataclass(frozen=True)
class HasherSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    topics: Topics = field(
        default_factory=lambda: Topics.prefixed(_env("COGNIFY_TOPIC_PREFIX", ""))
    )
    group_id: str = field(default_factory=lambda: _env("COGNIFY_HASHER_GROUP", "cognify-hasher"))
    # Chunk results are folded by a second consumer group on the chunks topic.
    combine_group_id: str = field(
        default_factory=lambda: _env("COGNIFY_HASHER_COMBINE_GROUP", "cognify-hasher-combine")
    )
    # Where each workspace's jobs may read (tenancy: docs/hasher.md, "Confinement"): local
    # roots and s3:// prefixes, `owner=place,place;owner=...`, owner a workspace id or `*`.
    # Nothing granted is nothing readable: no S3 access at all unless COGNIFY_HASHER_S3 says.
    roots: str = field(default_factory=lambda: _env("COGNIFY_HASHER_ROOTS", ""))
    s3: str = field(default_factory=lambda: _env("COGNIFY_HASHER_S3", ""))
    chunking: Chunking = field(default_factory=Chunking)
    # Files of one checkpoint (or chunk) hashed at once: hashlib drops the GIL on big reads.
    hash_threads: int = field(
        default_factory=lambda: _env_int("COGNIFY_HASHER_THREADS", os.cpu_count() or 1)
    )
    progress_interval_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_HASHER_PROGRESS_INTERVAL_S", "2.0"))
    )
    # Unexpected errors (not a refused, missing or unreadable target) are retried this many
    # times before the job is recorded as failed.
    max_attempts: int = field(default_factory=lambda: _env_int("COGNIFY_HASHER_MAX_ATTEMPTS", 3))
    retry_backoff_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_HASHER_RETRY_BACKOFF_S", "2.0"))
    )
    # Where s3:// datasets are streamed to before they are read (Parquet needs seeks).
    spool_dir: Path = field(
        default_factory=lambda: Path(_env("COGNIFY_HASHER_SPOOL_DIR", tempfile.gettempdir()))
    )
    metrics_port: int = field(default_factory=lambda: _env_int("COGNIFY_HASHER_METRICS_PORT", 9464))
    # A killed worker's partitions move to the others after this long without heartbeats.
    session_timeout_ms: int = field(
        default_factory=lambda: _env_int("COGNIFY_HASHER_SESSION_TIMEOUT_MS", 10_000)
    )
    # One chunk (or unchunked job) must finish within this, or the worker leaves the group.
    max_poll_interval_ms: int = field(
        default_factory=lambda: _env_int("COGNIFY_HASHER_MAX_POLL_INTERVAL_MS", 3_600_000)
    )
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def __post_init__(self) -> None:
        self.grants()  # a setting that cannot be read stops the hasher before it starts

    def grants(self) -> Grants:
        """Both grant settings; the audit bucket's package prefix is never readable."""
        return tenancy.grants(self.roots, self.s3, self.store.bucket)


# Settings of earlier versions that granted every workspace everything they named.
REPLACED = {
    "COGNIFY_HASHER_ALLOWED_ROOTS": "COGNIFY_HASHER_ROOTS='*=/path,/path' (or per workspace)",
    "COGNIFY_HASHER_ALLOWED_BUCKETS": "COGNIFY_HASHER_S3='*=s3://bucket/prefix/' (none: no S3)",
}


def replaced_settings() -> list[str]:
    """What to say about each replaced setting still set (an empty one granted nothing)."""
    return [
        f"{old} is no longer read: set {new}"
        for old, new in REPLACED.items()
        if os.environ.get(old, "").strip()
    ]
