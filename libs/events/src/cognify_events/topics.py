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
# The hasher pool's own topics (docs/spec/hashing.md, "Hasher pool"): results of the chunks
# of split jobs, keyed by job id so one worker sees all of a job's chunks, and progress of
# long jobs. The hasher creates them at start; they hold no evidence of their own.
HASH_CHUNKS = Topic("cognify.hash.chunks", 12, "chunk results of split hash jobs, by job id")
HASH_PROGRESS = Topic("cognify.hash.progress", 3, "bytes and records done by long hash jobs")
DLQ = Topic("cognify.events.dlq", 1, "rejected events with the reason and original bytes")
# The stack's produce/consume probe writes here, never into a topic services consume.
READINESS = Topic("cognify.readiness", 1, "deploy/stack's produce/consume readiness probe")

ALL_TOPICS: tuple[Topic, ...] = (RAW, EVENTS, HASH_JOBS, HASH_CHUNKS, HASH_PROGRESS, DLQ, READINESS)


def partition_key(event: EventBase) -> bytes:
    return (event.run_id or f"workspace:{event.workspace_id}").encode()
