"""The exporter's settings, from the environment (README: configuration)."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field

from cognify_kafka import KafkaSettings
from cognify_objectstore import StoreSettings
from cognify_postgres import PostgresSettings

log = logging.getLogger("cognify_exporter")

# Development only: a fixed master key so the local stack works out of the box. Production
# sets COGNIFY_SEAL_MASTER_KEY (64 hex characters); docs/spec/package.md says so.
DEV_MASTER_KEY = hashlib.sha256(b"cognify-dev-seal-master-key").digest()


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def master_key_from_env() -> bytes:
    value = os.environ.get("COGNIFY_SEAL_MASTER_KEY")
    if not value:
        log.warning("COGNIFY_SEAL_MASTER_KEY is not set: seal keys use the development key")
        return DEV_MASTER_KEY
    key = bytes.fromhex(value)
    if len(key) != 32:
        raise ValueError("COGNIFY_SEAL_MASTER_KEY must be 32 bytes (64 hex characters)")
    return key


@dataclass(frozen=True)
class ExporterSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    events_topic: str = field(
        default_factory=lambda: _env("COGNIFY_EVENTS_TOPIC", "cognify.events")
    )
    group_id: str = field(
        default_factory=lambda: _env("COGNIFY_EXPORTER_GROUP", "cognify-exporter")
    )
    http_host: str = field(default_factory=lambda: _env("COGNIFY_EXPORTER_HTTP_HOST", "127.0.0.1"))
    http_port: int = field(default_factory=lambda: int(_env("COGNIFY_EXPORTER_HTTP_PORT", "8082")))
    master_key: bytes = field(default_factory=master_key_from_env)
    # How long to wait for lineage to fold a seal before rendering from it.
    seal_fold_timeout_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_EXPORTER_SEAL_WAIT_S", "30"))
    )
    # The storage class the archive lifecycle rule moves packages to (archive.py): on MinIO
    # the name of a remote tier (the local stack adds COGNIFY_ARCHIVE), on AWS S3 an S3
    # storage class such as GLACIER or DEEP_ARCHIVE (docs/spec/retention.md).
    archive_storage_class: str = field(
        default_factory=lambda: _env("COGNIFY_ARCHIVE_STORAGE_CLASS", "COGNIFY_ARCHIVE")
    )
    migrate: bool = True
    consume_requests: bool = True
