"""One batch through the door: check, claim new runs, route, and wait for the acks.

The Kafka worker and `POST /v1/events` both call `Gate.admit`, so an event is judged the
same way whichever way it came in. `admit` returns only once every output (forwarded
event, hash job, dead letter) is acknowledged by the broker; the worker commits its
offsets after that, never before (at-least-once into Kafka; event ids make the rare
duplicate harmless downstream).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from cognify_events import Heartbeat, Producer

from . import metrics, routing
from .postgres import Registry
from .settings import Topics
from .validate import Accepted, Rejected, Verdict, authorize, owner_conflict, parse


class Publisher(Protocol):
    """Sends outputs in order and returns once the broker has acknowledged all of them."""

    async def publish(self, outputs: list[routing.Output]) -> None: ...


@dataclass(frozen=True)
class Incoming:
    value: bytes
    key: bytes | None
    source: str  # the topic, or "http" for POST /v1/events
    partition: int | None = None
    offset: int | None = None


class Gate:
    def __init__(
        self, registry: Registry, publisher: Publisher, topics: Topics, producer: Producer
    ) -> None:
        self.registry = registry
        self.publisher = publisher
        self.topics = topics
        self.producer = producer

    async def admit(
        self,
        batch: list[Incoming],
        *,
        bearer_workspace: str | None = None,
        address: str | None = None,
    ) -> list[Verdict]:
        """`address`: the client's, for events that came over HTTP (recorded with the key
        that started a run: routing.run_start)."""
        parsed = [parse(item.value) for item in batch]
        events = [p[0] for p in parsed if not isinstance(p, Rejected)]
        directory = await self.registry.directory_for(events)
        verdicts: list[Verdict] = [
            p
            if isinstance(p, Rejected)
            else authorize(*p, directory, bearer_workspace=bearer_workspace)
            for p in parsed
        ]
        verdicts = await self._claim(verdicts)
        outputs: list[routing.Output] = []
        counts: Counter[tuple[str, str]] = Counter()
        reasons: Counter[str] = Counter()
        for item, p, verdict in zip(batch, parsed, verdicts, strict=True):
            kind: str = "unknown" if isinstance(p, Rejected) else p[0].type
            if isinstance(verdict, Accepted):
                event = verdict.event
                tier = directory.tiers.get(event.workspace_id, "standard")
                roles = {k.key_id: k.role for k in directory.keys.get(event.workspace_id, ())}
                role = roles.get(verdict.key_id)
                writer = routing.Writer(
                    verdict.key_id, role.value if role is not None else "unknown", address
                )
                outputs.extend(
                    routing.accepted(event, item.value, self.producer, self.topics, tier, writer)
                )
                counts[(kind, "accepted")] += 1
                if isinstance(event, Heartbeat) and event.run_id is not None:
                    beat = event.payload
                    if beat.spool_bytes is not None or beat.spool_events is not None:
                        metrics.SPOOLS.observe(
                            event.workspace_id,
                            event.run_id,
                            event.seq,
                            beat.spool_bytes or 0,
                            beat.spool_events or 0,
                        )
            else:
                outputs.append(
                    routing.rejected(
                        self.topics,
                        item.value,
                        verdict.reason,
                        item.key,
                        item.source,
                        self.producer.id,
                        item.partition,
                        item.offset,
                    )
                )
                counts[(kind, "rejected")] += 1
                reasons[verdict.reason.split(":", 1)[0][:64]] += 1
        # Counted per batch, not per event: label lookups cost as much as an HMAC.
        path = "http" if bearer_workspace is not None else "kafka"
        for (kind, outcome), n in counts.items():
            metrics.EVENTS.labels(kind, outcome, path).inc(n)
        for field, n in reasons.items():
            metrics.REJECTS.labels(field).inc(n)
        jobs = sum(1 for o in outputs if o.topic == self.topics.hash_jobs)
        if jobs:
            metrics.HASH_JOBS.inc(jobs)
        await self.publisher.publish(outputs)
        return verdicts

    async def _claim(self, verdicts: list[Verdict]) -> list[Verdict]:
        """Claim the runs first seen in this batch; an event whose run another workspace
        claimed first (in this batch or concurrently) is rejected after all."""
        claims: dict[str, tuple[str, str, str]] = {}
        for v in verdicts:
            if isinstance(v, Accepted) and v.needs_claim and (run := v.event.run_id) is not None:
                claims.setdefault(run, (run, v.event.workspace_id, v.event.project))
        if not claims:
            return verdicts
        owners = await self.registry.claim(list(claims.values()))
        out: list[Verdict] = []
        for v in verdicts:
            if (
                isinstance(v, Accepted)
                and v.event.run_id is not None
                and owners.get(v.event.run_id, v.event.workspace_id) != v.event.workspace_id
            ):
                out.append(owner_conflict(v.event.run_id))
            else:
                out.append(v)
        return out
