"""Live updates for open pages: server-sent events fed from Kafka.

One consumer per dashboard process reads the canonical topic and the hasher's progress
topic from their ends (no consumer group: nothing is committed, a restarted dashboard starts
from what happens next) and hands each message to the open streams that asked for its
workspace, and its run when they named one. A stream is only told that something happened;
the page reads the facts through the proxy, with the reviewer's key, as before.

`item_of` (pure) reads a message into what a stream sends:

- `event`: {"event_type", "seq", "time", "event_id", "run_id"} for each event of the run;
- `hash`: {"job_id", "node_id", "bytes_done", "bytes_total", "state"} for the hash jobs of
  the run: `hashing` or `done` from the hasher's progress, `computed` or `failed` from the
  result on the canonical topic.

A stream that falls more than `QUEUE` items behind is ended (the browser's EventSource
reconnects and the page reloads what it shows), so that a slow reader never holds memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from cognify_kafka import KafkaSettings, consumer

from . import metrics

log = logging.getLogger("cognify_dashboard.live")
QUEUE = 1_000
KEEPALIVE_S = 15.0
FETCH_MIN_BYTES = 64 * 1024
FETCH_MAX_WAIT_MS = 100


@dataclass(frozen=True)
class Item:
    name: str  # the SSE event name: "event" or "hash"
    data: dict[str, Any]
    workspace_id: str
    run_id: str | None


def item_of(value: bytes | None, progress: bool) -> list[Item]:
    """What a message of the canonical topic (`progress` False) or of the progress topic
    means to a stream; nothing for anything it cannot read."""
    try:
        e = json.loads(value or b"")
        ws, run_id, type_ = e["workspace_id"], e.get("run_id"), e["type"]
    except (ValueError, TypeError, KeyError):
        return []
    if not isinstance(ws, str) or not isinstance(type_, str):
        return []
    p = e.get("payload") if isinstance(e.get("payload"), dict) else {}
    if progress:
        if type_ != "hash.progress":
            return []
        state = "done" if p.get("finished") else "hashing"
        data = _hash(p, p.get("bytes_done", 0), p.get("bytes_total"), state)
        return [Item("hash", data, ws, run_id)]
    event = {
        "event_type": type_,
        "seq": e.get("seq"),
        "time": e.get("time"),
        "event_id": e.get("event_id"),
        "run_id": run_id,
    }
    out = [Item("event", event, ws, run_id)]
    if type_ in ("hash.computed", "hash.failed"):
        done = p.get("bytes_hashed", 0)
        state = "computed" if type_ == "hash.computed" else "failed"
        out.append(Item("hash", _hash(p, done, done, state), ws, run_id))
    return out


def _hash(p: dict[str, Any], done: Any, total: Any, state: str) -> dict[str, Any]:
    return {
        "job_id": p.get("job_id"),
        "node_id": p.get("target_id"),
        "bytes_done": done,
        "bytes_total": total,
        "state": state,
    }


def sse(item: Item) -> bytes:
    return f"event: {item.name}\ndata: {json.dumps(item.data)}\n\n".encode()


@dataclass(eq=False)
class Subscription:
    workspace_id: str
    run_id: str | None
    queue: asyncio.Queue[Item] = field(default_factory=lambda: asyncio.Queue(QUEUE))
    overflowed: bool = False

    def wants(self, item: Item) -> bool:
        return self.run_id is None or self.run_id == item.run_id


@dataclass
class Hub:
    kafka: KafkaSettings
    events_topic: str
    progress_topic: str
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _subs: dict[str, set[Subscription]] = field(default_factory=dict)

    def subscribe(self, workspace_id: str, run_id: str | None) -> Subscription:
        sub = Subscription(workspace_id, run_id)
        self._subs.setdefault(workspace_id, set()).add(sub)
        metrics.LIVE_STREAMS.inc()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.workspace_id)
        if subs is not None and sub in subs:
            subs.discard(sub)
            metrics.LIVE_STREAMS.dec()
            if not subs:
                del self._subs[sub.workspace_id]

    def publish(self, item: Item) -> None:
        for sub in self._subs.get(item.workspace_id, ()):
            if not sub.wants(item) or sub.overflowed:
                continue
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                sub.overflowed = True  # the stream sees it and ends

    async def stream(self, sub: Subscription) -> AsyncIterator[bytes]:
        """The bytes of one SSE response until the client goes (or falls behind)."""
        try:
            yield b"retry: 3000\n: connected\n\n"
            while not sub.overflowed:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                metrics.LIVE_SENT.labels(item.name).inc()
                yield sse(item)
        finally:
            self.unsubscribe(sub)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow both topics until `stop`, each with its own consumer: the progress topic
        exists only once a hasher has started, and its absence must not hold up events."""
        await asyncio.gather(
            self._follow(self.events_topic, stop, progress=False),
            self._follow(self.progress_topic, stop, progress=True),
        )

    async def _follow(self, topic: str, stop: asyncio.Event, progress: bool) -> None:
        """Consume `topic` until `stop`; a missing topic or a broker outage is waited out
        (logged once per kind of failure), never raised."""
        last = ""
        while not stop.is_set():
            try:
                await self._consume(topic, stop, progress)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (a missing topic or an outage: retried)
                if type(exc).__name__ != last:
                    log.warning("live: cannot read %s (%r); retrying", topic, exc)
                    last = type(exc).__name__
                if not progress:
                    self.ready.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2.0 if not progress else 10.0)

    async def _consume(self, topic: str, stop: asyncio.Event, progress: bool) -> None:
        # Every read of every service is an access record on the canonical topic, so under
        # reviewers' load most of what arrives here is no news for a page: fetched in
        # batches (up to 64 KiB, or whatever came within 100 ms) rather than one response
        # per message, at most a tenth of a second later (bench/dashboard.py).
        cons = consumer(
            self.kafka,
            topic,
            group_id=None,
            auto_offset_reset="latest",
            fetch_min_bytes=FETCH_MIN_BYTES,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        await cons.start()
        try:
            await self._position(cons, topic, stop)
            if not progress:
                self.ready.set()
            log.info("live: reading %s from its end", topic)
            while not stop.is_set():
                batch = await cons.getmany(timeout_ms=500, max_records=2_000)
                for records in batch.values():
                    for record in records:
                        for item in item_of(record.value, progress):
                            self.publish(item)
        finally:
            await cons.stop()

    @staticmethod
    async def _position(cons: Any, topic: str, stop: asyncio.Event) -> None:
        """Wait for the topic's partitions and their end offsets: from then on, every new
        message reaches the streams."""
        while not stop.is_set():
            parts = [tp for tp in cons.assignment() if tp.topic == topic]
            if parts:
                for tp in parts:
                    await cons.position(tp)
                return
            await asyncio.sleep(0.1)
