"""The background publisher: the only place where the SDK does I/O.

The training thread calls `submit`, which puts an item on an in-memory queue and returns in
about a microsecond. A daemon thread with its own event loop builds each item into an
encoded event, appends it to the spool (fsynced) and then sends it, in order, through the
transport. When the broker is unreachable or slow the events simply stay in the spool and the
thread retries with backoff; nothing raises into training, nothing blocks it.

The thread works in rounds, at most one every `batch_interval_s` (0.25 s): each round drains
everything queued since the last one into one spool append with one fsync (a group commit)
and hands what is unacknowledged to the broker as one produce. Every round costs the same
fixed work (a write, an fsync, a produce, an acknowledgement written, several wake-ups of the
event loop) whatever its size, and each wake-up takes the GIL from the training thread; so
the rounds are paced by the clock, not by the events or by the broker's answers (which made
rounds of two to four events on a model stepping every 9 ms). What waits for the next round
is in memory and was never acknowledged to anyone: `submit` promises nothing about disk, as
before. `flush`, `close` and a queue longer than `max_round` start a round at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any, Optional

from .spool import Segment, adopt_orphans
from .transport import Transport

log = logging.getLogger("cognify")

Record = tuple[bytes, bytes]  # (Kafka key, encoded event)
Builder = Callable[[Any], Optional[Record]]  # (Optional: a runtime alias on Python 3.9)
# Spooled as key + b"\n" + event: identifiers never contain a newline (see cognify_events).
_SEP = b"\n"


@dataclass
class _Batch:
    task: asyncio.Task[None]
    segment: Segment
    end: int
    count: int


@dataclass
class Stats:
    built: int = 0
    sent: int = 0
    dropped: int = 0
    failed_builds: int = 0
    outages: int = 0


class Publisher:
    def __init__(
        self,
        spool_dir: Path,
        make_transport: Callable[[], Transport],
        build: Builder,
        *,
        max_spool_bytes: int = 1 << 30,
        tick: Callable[[], None] | None = None,
        tick_interval_s: float = 5.0,
        batch_interval_s: float = 0.25,
        max_round: int = 5_000,
    ) -> None:
        self.spool_dir = spool_dir
        self.stats = Stats()
        self._make_transport = make_transport
        self._build = build
        self._max_spool_bytes = max_spool_bytes
        self._tick = tick
        self._tick_interval_s = tick_interval_s
        self._batch_interval_s = batch_interval_s
        self._max_round = max_round
        self._queue: SimpleQueue[Any] = SimpleQueue()
        # flush/close ask for a round now: the flag, then a wake-up of the loop (set by _run)
        self._urgent = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._waiters: list[threading.Event] = []
        self._stopping = threading.Event()
        self._deadline = float("inf")
        self._segment = Segment.create(spool_dir)
        self._orphans: list[Segment] = []
        self._reachable: bool | None = True  # warn once when it goes, once when it returns
        self._thread = threading.Thread(target=self._main, name="cognify-publisher", daemon=True)

    # --- called from the training thread -----------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def submit(self, item: Any) -> None:
        self._queue.put(item)

    def flush(self, timeout_s: float) -> bool:
        """Wait until everything submitted so far is acknowledged by the broker."""
        done = threading.Event()
        self._queue.put(done)
        self._hurry()
        return done.wait(timeout_s)

    def close(self, timeout_s: float) -> int:
        """Deliver what can be delivered within `timeout_s`; returns the bytes still spooled."""
        self._deadline = time.monotonic() + timeout_s
        self._stopping.set()
        self._hurry()
        self._thread.join(timeout_s + 5.0)
        return self.pending_bytes

    def _hurry(self) -> None:
        """Start a round now instead of at the next tick of the clock (any thread)."""
        self._urgent = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(wake.set)

    @property
    def pending_bytes(self) -> int:
        return self._segment.pending_bytes + sum(s.pending_bytes for s in self._orphans)

    @property
    def pending_events(self) -> int:
        """Events spooled and not yet acknowledged by the broker (counted, never read)."""
        return self._segment.pending_records + sum(s.pending_records for s in self._orphans)

    @property
    def segment_path(self) -> Path:
        return self._segment.path

    # --- the publisher thread ------------------------------------------------------------
    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception:
            log.exception("cognify publisher stopped; unsent events stay in %s", self.spool_dir)

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._orphans = [s for s in adopt_orphans(self.spool_dir) if s.pending_bytes]
        if self._orphans:
            log.warning(
                "cognify: delivering %d bytes spooled by earlier processes",
                sum(s.pending_bytes for s in self._orphans),
            )
        transport: Transport | None = None
        inflight: _Batch | None = None
        retry_at, backoff, next_tick = 0.0, 0.5, time.monotonic() + self._tick_interval_s
        next_round = 0.0
        while True:
            now = time.monotonic()
            # A round: everything queued since the last one, spooled with one fsync. The
            # queue is drained also while a batch is in flight: a slow broker delays
            # delivery, never the recording.
            busy = False
            if self._tick is not None and now >= next_tick and not self._stopping.is_set():
                self._tick()  # (a heartbeat, queued: it goes in this round)
                next_tick = now + self._tick_interval_s
                self._urgent = True
            if (
                self._urgent
                or now >= next_round
                or self._stopping.is_set()
                or self._queue.qsize() >= self._max_round
            ):
                self._urgent = False
                busy = self._drain_queue(self._max_round)
                next_round = now + self._batch_interval_s
            if self.pending_bytes and transport is None and now >= retry_at:
                transport = await self._connect()
                if transport is None:
                    retry_at, backoff = now + backoff, min(backoff * 2, 10.0)
                else:
                    backoff = 0.5
            if transport is not None and inflight is None:
                inflight = self._next_batch(transport)
            if inflight is not None and inflight.task.done():
                if inflight.task.exception() is None:
                    inflight.segment.ack(inflight.end, inflight.count)
                    self.stats.sent += inflight.count
                    self._forget_drained_orphans()
                    # what was spooled while it flew goes now, not a round later
                    busy = busy or self.pending_bytes > 0
                elif transport is not None:
                    self.stats.outages += 1
                    log.debug("cognify: send failed (%r); will resend", inflight.task.exception())
                    await transport.stop()
                    transport, retry_at = None, time.monotonic() + backoff
                inflight = None
            self._release_waiters()
            if (
                self._stopping.is_set()
                and self._queue.empty()
                and (not self.pending_bytes or time.monotonic() >= self._deadline)
            ):
                break
            if not busy:
                # Sleep until the next round, the next tick, the broker's answer or a
                # flush/close, whichever comes first: few wake-ups, each of which takes the
                # GIL from the training thread.
                until = next_round
                if self._tick is not None and not self._stopping.is_set():
                    until = min(until, next_tick)
                if self.pending_bytes and transport is None:
                    until = min(until, retry_at)
                await self._pause(inflight, until - time.monotonic())
        if inflight is not None:
            inflight.task.cancel()
        if transport is not None:
            await transport.stop()
        for segment in [*self._orphans, self._segment]:
            segment.close()

    async def _pause(self, inflight: _Batch | None, seconds: float) -> None:
        wake = self._wake
        assert wake is not None
        if seconds <= 0 or wake.is_set() or self._urgent:
            wake.clear()
            await asyncio.sleep(0)  # never a turn without letting the transport's tasks run
            return
        woken = asyncio.ensure_future(wake.wait())
        waits: list[asyncio.Future[Any]] = [woken]
        if inflight is not None:
            waits.append(inflight.task)
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            wake.clear()

    def _drain_queue(self, limit: int) -> bool:
        records: list[bytes] = []
        for _ in range(limit):
            try:
                item = self._queue.get_nowait()
            except Empty:
                break
            if isinstance(item, threading.Event):
                self._waiters.append(item)
                continue
            try:
                built = self._build(item)
                time.sleep(0)  # hand the GIL back at once if the training thread wants it
            except Exception as exc:  # noqa: BLE001 - a bad metric must not stop the audit
                self.stats.failed_builds += 1
                log.warning("cognify: could not record an event (%s: %s)", type(exc).__name__, exc)
                continue
            if built is not None:
                records.append(built[0] + _SEP + built[1])
        if not records:
            return False
        room = self._max_spool_bytes - self._segment.pending_bytes
        kept: list[bytes] = []
        for record in records:
            if len(record) + 8 > room:
                self.stats.dropped += 1
                continue
            room -= len(record) + 8
            kept.append(record)
        if len(kept) < len(records):
            log.warning(
                "cognify: spool %s is full (%d MiB unsent); dropped %d events so far: "
                "the audit will show a sequence gap",
                self._segment.path,
                self._max_spool_bytes >> 20,
                self.stats.dropped,
            )
        self._segment.append(kept)
        self.stats.built += len(kept)
        return True

    async def _connect(self) -> Transport | None:
        transport = self._make_transport()
        try:
            await transport.start()
        except Exception as exc:  # noqa: BLE001 - any failure means "not now, try later"
            if self._reachable:
                log.warning(
                    "cognify: the broker is unreachable (%s: %s); events are spooled "
                    "in %s and will be sent when it is back",
                    type(exc).__name__,
                    exc,
                    self.spool_dir,
                )
            self._reachable = False
            self.stats.outages += 1
            await transport.stop()
            return None
        if self._reachable is False:
            log.warning("cognify: the broker is back; sending %d spooled bytes", self.pending_bytes)
        self._reachable = True
        return transport

    def _next_batch(self, transport: Transport) -> _Batch | None:
        """Start sending the oldest unacknowledged records of one segment.

        One batch is in flight at a time, through one long-lived idempotent producer: a
        retry after a broker outage reuses the producer's sequence numbers, so the broker
        discards what it already has instead of storing it twice."""
        for segment in [*self._orphans, self._segment]:
            records = segment.unacked(1_000)
            if records:
                task = asyncio.create_task(transport.send([split_record(r.data) for r in records]))
                return _Batch(task, segment, records[-1].end, len(records))
        return None

    def _forget_drained_orphans(self) -> None:
        for drained in [s for s in self._orphans if not s.pending_bytes]:
            drained.close()
            self._orphans.remove(drained)

    def _release_waiters(self) -> None:
        if self._waiters and not self.pending_bytes:
            for waiter in self._waiters:
                waiter.set()
            self._waiters.clear()


def split_record(data: bytes) -> Record:
    key, _, value = data.partition(_SEP)
    return key, value
