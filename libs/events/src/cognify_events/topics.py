"""Kafka topics and partition keys, defined once for every producer and consumer.

`run_id` is the key of every run event so that one run's events stay in order on one
partition; workspace-level events (no run) are keyed by workspace. Hash jobs are keyed by job
id: order does not matter there, spreading does.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import EventBase


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    purpose: str


RAW = Topic("cognify.events.raw", 6, "untrusted events from SDKs and the HTTP front door")
EVENTS = Topic("cognify.events", 6, "validated, authenticated events: the canonical log")
HASH_JOBS = Topic("cognify.hash.jobs", 12, "checkpoint and dataset hash jobs for the pool")
DLQ = Topic("cognify.events.dlq", 1, "rejected events with the reason and original bytes")
# The stack's produce/consume probe writes here, never into a topic services consume.
READINESS = Topic("cognify.readiness", 1, "deploy/stack's produce/consume readiness probe")

ALL_TOPICS: tuple[Topic, ...] = (RAW, EVENTS, HASH_JOBS, DLQ, READINESS)


def partition_key(event: EventBase) -> bytes:
    return (event.run_id or f"workspace:{event.workspace_id}").encode()
