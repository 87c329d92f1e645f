"""Progress of one job or chunk, reported from the hashing threads.

Every `add` counts into the Prometheus counters at once; a snapshot goes to `emit` at most
every `interval_s` (and once at the end), which the Kafka adapter turns into a
`hash.progress` event. `add` is also where a stopping worker abandons a job: it raises
`Cancelled`, the job is not committed, and another worker takes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import metrics


class Cancelled(Exception):
    """The worker is stopping: drop the job uncommitted (it will be redelivered)."""


@dataclass(frozen=True)
class Snapshot:
    bytes_done: int
    bytes_total: int | None
    records_done: int
    records_total: int | None
    finished: bool


Emit = Callable[[Snapshot], None]


class Progress:
    def __init__(
        self,
        target: str,
        emit: Emit | None = None,
        interval_s: float = 2.0,
        cancelled: threading.Event | None = None,
    ) -> None:
        self._target = target
        self._emit = emit
        self._interval = interval_s
        self._cancelled = cancelled or threading.Event()
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self.bytes_done = 0
        self.records_done = 0
        self.bytes_total: int | None = None
        self.records_total: int | None = None

    def start(self, *, bytes_total: int | None = None, records_total: int | None = None) -> None:
        self.bytes_total, self.records_total = bytes_total, records_total
        self._send(finished=False)

    def add(self, nbytes: int = 0, records: int = 0) -> None:
        if self._cancelled.is_set():
            raise Cancelled()
        if nbytes:
            metrics.BYTES.labels(self._target).inc(nbytes)
        if records:
            metrics.RECORDS.inc(records)
        with self._lock:
            self.bytes_done += nbytes
            self.records_done += records
            now = time.monotonic()
            due = now - self._last >= self._interval
            if due:
                self._last = now
        if due:
            self._send(finished=False)

    def finish(self) -> None:
        self._send(finished=True)

    def _send(self, *, finished: bool) -> None:
        if self._emit is not None:
            self._emit(
                Snapshot(
                    self.bytes_done,
                    self.bytes_total,
                    self.records_done,
                    self.records_total,
                    finished,
                )
            )
