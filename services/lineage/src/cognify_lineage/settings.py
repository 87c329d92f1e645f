"""Lineage's settings, read once from the environment by app.py."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cognify_events import DLQ, EVENTS
from cognify_kafka import KafkaSettings
from cognify_objectstore import StoreSettings
from cognify_postgres import PostgresSettings
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

log = logging.getLogger("cognify_lineage")

# Development only: a fixed anchor key so the local stack works out of the box. Anchors
# signed with it prove nothing (the key is in the source); production sets
# COGNIFY_ANCHOR_KEY or COGNIFY_ANCHOR_KEY_FILE (docs/spec/trust.md, "Anchor key").
DEV_ANCHOR_SEED = hashlib.sha256(b"cognify-dev-anchor-key").digest()


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def anchor_seed_from_env() -> bytes:
    """The 32-byte Ed25519 private key lineage signs anchors with: COGNIFY_ANCHOR_KEY (64
    hex), or COGNIFY_ANCHOR_KEY_FILE (a PKCS#8 PEM file), else the development key."""
    value, path = os.environ.get("COGNIFY_ANCHOR_KEY"), os.environ.get("COGNIFY_ANCHOR_KEY_FILE")
    if value:
        seed = bytes.fromhex(value)
        if len(seed) != 32:
            raise ValueError("COGNIFY_ANCHOR_KEY must be 32 bytes (64 hex characters)")
        return seed
    if path:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"COGNIFY_ANCHOR_KEY_FILE {path} is not an Ed25519 private key")
        return key.private_bytes_raw()
    log.warning("no COGNIFY_ANCHOR_KEY(_FILE): anchors are signed with the development key")
    return DEV_ANCHOR_SEED


def previous_anchor_keys() -> tuple[bytes, ...]:
    """Earlier anchor public keys (raw, 32 bytes) still trusted for the anchors they signed:
    COGNIFY_ANCHOR_PREVIOUS_KEYS, comma-separated standard base64."""
    text = os.environ.get("COGNIFY_ANCHOR_PREVIOUS_KEYS", "")
    keys = tuple(base64.b64decode(k.strip(), validate=True) for k in text.split(",") if k.strip())
    if any(len(k) != 32 for k in keys):
        raise ValueError("COGNIFY_ANCHOR_PREVIOUS_KEYS holds a key that is not 32 bytes")
    return keys


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
    # Chain heads anchored outside the database (anchors.py): every `anchor_interval_s`
    # and at every seal, into the object store under `anchor_prefix`, locked for
    # `anchor_retain_days` (10 years: the EU AI Act's floor for technical documentation).
    store: StoreSettings = field(default_factory=StoreSettings)
    anchor_interval_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_ANCHOR_INTERVAL_S", "60"))
    )
    anchor_prefix: str = field(default_factory=lambda: _env("COGNIFY_ANCHOR_PREFIX", "anchors/"))
    anchor_retain_days: int = field(
        default_factory=lambda: int(_env("COGNIFY_ANCHOR_RETAIN_DAYS", "3653"))
    )
    anchor_seed: bytes = field(default_factory=anchor_seed_from_env, repr=False)
    anchor_previous: tuple[bytes, ...] = field(default_factory=previous_anchor_keys)
