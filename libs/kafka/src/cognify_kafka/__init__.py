"""Kafka adapter: the only place that knows how Cognify talks to the broker.

aiokafka's defaults (acks=1, no idempotence, auto-committed offsets, offset reset "latest")
fit an audit trail nowhere; every producer and consumer in Cognify is built here instead.
"""

from .admin import SCRATCH_PREFIX, delete_topics, ensure_topics, round_trip, scratch_prefix
from .batches import send_all
from .settings import MAX_MESSAGE_BYTES, KafkaSettings, consumer, producer

__all__ = [
    "MAX_MESSAGE_BYTES",
    "SCRATCH_PREFIX",
    "KafkaSettings",
    "consumer",
    "delete_topics",
    "ensure_topics",
    "producer",
    "round_trip",
    "scratch_prefix",
    "send_all",
]
