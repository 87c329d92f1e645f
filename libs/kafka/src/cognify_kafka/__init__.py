"""Kafka adapter: the only place that knows how Cognify talks to the broker.

aiokafka's defaults (acks=1, no idempotence, auto-committed offsets, offset reset "latest")
fit an audit trail nowhere; every producer and consumer in Cognify is built here instead.
"""

from .admin import SCRATCH_PREFIX, delete_topics, ensure_topics, round_trip, scratch_prefix
from .batches import send_all
from .consume import Backoff, ConsumeLoop, DeadLetters, Handler, Observers, Record, Rewound
from .failures import is_transient
from .settings import MAX_MESSAGE_BYTES, KafkaSettings, consumer, producer

__all__ = [
    "MAX_MESSAGE_BYTES",
    "SCRATCH_PREFIX",
    "Backoff",
    "ConsumeLoop",
    "DeadLetters",
    "Handler",
    "KafkaSettings",
    "Observers",
    "Record",
    "Rewound",
    "consumer",
    "delete_topics",
    "ensure_topics",
    "is_transient",
    "producer",
    "round_trip",
    "scratch_prefix",
    "send_all",
]
