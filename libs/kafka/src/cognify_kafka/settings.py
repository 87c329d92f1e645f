"""Producer and consumer factories with settings fit for an audit trail."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

# The largest message Cognify writes, in bytes: every topic's `max.message.bytes` (set by
# `ensure_topics`) and every producer's `max_request_size`. Kafka's default of 1 MB is too
# small for a checkpoint's `hash.computed`, which carries one (path, size, SHA-256) entry
# per file: about 150 bytes each, so 20,000 files make 3 MB, and the schema's 100,000
# files about 15 MB. Consumers need no setting of their own: since KIP-74 the broker
# always returns a whole first batch, whatever the fetch sizes. docs/spec/events.md.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str = field(
        default_factory=lambda: os.environ.get("COGNIFY_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    )
    client_id: str = "cognify"


def producer(settings: KafkaSettings, **overrides: Any) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica: nothing lost, nothing
    doubled by a retry."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": settings.client_id,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_batch_size": 1_048_576,  # a larger message goes in a batch of its own
        "max_request_size": MAX_MESSAGE_BYTES,
        "request_timeout_ms": 30_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def consumer(
    settings: KafkaSettings, *topics: str, group_id: str | None, **overrides: Any
) -> AIOKafkaConsumer:
    """A group consumer that never commits on its own and starts from the beginning of the
    log the first time: positions are stored where the results are (or committed
    explicitly after the work is done)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": settings.client_id,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)
