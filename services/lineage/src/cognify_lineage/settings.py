"""Lineage's settings, read once from the environment by app.py."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from cognify_events import DLQ, EVENTS
from cognify_kafka import KafkaSettings
from cognify_postgres import PostgresSettings


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class LineageSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    # A prefix lets tests and benchmarks run on topics of their own.
    events_topic: str = field(
        default_factory=lambda: _env("COGNIFY_TOPIC_PREFIX", "") + EVENTS.name
    )
    dlq_topic: str = field(default_factory=lambda: _env("COGNIFY_TOPIC_PREFIX", "") + DLQ.name)
    group_id: str = field(default_factory=lambda: _env("COGNIFY_LINEAGE_GROUP", "cognify-lineage"))
    # Static group membership (KIP-345): a restarted instance with the same id takes its
    # partitions back at once instead of waiting for the broker to time the old one out.
    group_instance_id: str | None = field(
        default_factory=lambda: os.environ.get("COGNIFY_LINEAGE_INSTANCE_ID") or None
    )
    http_host: str = field(default_factory=lambda: _env("COGNIFY_LINEAGE_HTTP_HOST", "127.0.0.1"))
    http_port: int = field(default_factory=lambda: int(_env("COGNIFY_LINEAGE_HTTP_PORT", "8081")))
    # A running run with no event for this long becomes `abandoned` (checked every sweep_s).
    abandon_after: timedelta = field(
        default_factory=lambda: timedelta(seconds=float(_env("COGNIFY_ABANDON_AFTER_S", "900")))
    )
    sweep_s: float = field(default_factory=lambda: float(_env("COGNIFY_SWEEP_S", "30")))
    max_batch: int = field(default_factory=lambda: int(_env("COGNIFY_LINEAGE_MAX_BATCH", "5000")))
    migrate: bool = field(
        default_factory=lambda: _env("COGNIFY_MIGRATE", "1") not in ("0", "false")
    )
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
