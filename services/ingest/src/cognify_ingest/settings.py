"""Ingest's settings, read once from the environment by app.py."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from cognify_events import DLQ, EVENTS, HASH_JOBS, RAW
from cognify_kafka import KafkaSettings
from cognify_postgres import PostgresSettings


@dataclass(frozen=True)
class Topics:
    """Topic names. A prefix lets tests and benchmarks run on topics of their own."""

    raw: str = RAW.name
    events: str = EVENTS.name
    hash_jobs: str = HASH_JOBS.name
    dlq: str = DLQ.name

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        return cls(*(prefix + name for name in (RAW.name, EVENTS.name, HASH_JOBS.name, DLQ.name)))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class IngestSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    topics: Topics = field(
        default_factory=lambda: Topics.prefixed(os.environ.get("COGNIFY_TOPIC_PREFIX", ""))
    )
    group_id: str = field(
        default_factory=lambda: os.environ.get("COGNIFY_INGEST_GROUP", "cognify-ingest")
    )
    http_host: str = field(
        default_factory=lambda: os.environ.get("COGNIFY_INGEST_HTTP_HOST", "127.0.0.1")
    )
    http_port: int = field(
        default_factory=lambda: int(os.environ.get("COGNIFY_INGEST_HTTP_PORT", "8080"))
    )
    # How long "this run is not sealed" and a workspace's key list may be trusted from the
    # cache. A seal or a revoked key takes effect within this delay; positives that never
    # change (run owners, seals) are kept for the life of the process.
    state_ttl_s: float = field(
        default_factory=lambda: _env_float("COGNIFY_INGEST_STATE_TTL_S", 2.0)
    )
    max_batch: int = field(
        default_factory=lambda: int(os.environ.get("COGNIFY_INGEST_MAX_BATCH", "2000"))
    )
    migrate: bool = field(
        default_factory=lambda: os.environ.get("COGNIFY_MIGRATE", "1") not in ("0", "false")
    )
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
