"""Every Prometheus metric of the ingest service, in one place."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

EVENTS = Counter(
    "cognify_ingest_events_total",
    "Events checked at the door, by type and outcome (accepted or rejected).",
    ["type", "outcome", "path"],
)
REJECTS = Counter(
    "cognify_ingest_rejects_total",
    "Events sent to the dead-letter topic, by the field the reason names.",
    ["field"],
)
HASH_JOBS = Counter("cognify_ingest_hash_jobs_total", "Hash jobs requested.")
BATCH_SECONDS = Histogram(
    "cognify_ingest_batch_seconds",
    "Time to check, route and acknowledge one poll batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LAG = Gauge("cognify_ingest_lag", "Messages behind the end of the raw topic.", ["partition"])
DEAD_LETTERS = Counter(
    "cognify_ingest_poison_total",
    "Raw messages the consume loop isolated and dead-lettered (a deterministic failure while "
    "processing them), by exception type.",
    ["reason"],
)
RETRIES = Counter(
    "cognify_ingest_transient_retries_total",
    "Transient failures (broker or database out of reach) retried, by exception type.",
    ["reason"],
)
HTTP_REQUESTS = Counter(
    "cognify_ingest_http_requests_total", "API requests, by route and status.", ["route", "status"]
)
HTTP_SECONDS = Histogram(
    "cognify_ingest_http_request_seconds",
    "Time to answer an API request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ACCESS = Counter(
    "cognify_ingest_access_total",
    "Access records emitted, by action and outcome.",
    ["action", "allowed"],
)


SPOOL_WINDOW_S = 300.0  # a run's last heartbeat counts this long after it arrived
SPOOL_MAX_RUNS = 100_000  # runs remembered at most (the oldest reports go first)


@dataclass(frozen=True)
class _Report:
    seq: int
    spool_bytes: int
    spool_events: int
    received: float


class SpoolDepths(Collector):
    """The SDK spools that heartbeats report (`spool_bytes`, `spool_events`), per workspace.

    Each run's latest heartbeat (the highest `seq`: a late, spooled one does not overwrite a
    newer one that came the other way) stands for that run for `window_s` after ingest
    received it. At each scrape a workspace shows the largest of its runs' current reports,
    as `cognify_ingest_sdk_spool_bytes{workspace}` and `..._events{workspace}`; a workspace
    whose runs all went quiet drops out. Labels are workspaces only, never runs. Fed by the
    gate (event loop) and read by the scrape (the HTTP server's thread pool): one lock.
    """

    def __init__(
        self,
        window_s: float = SPOOL_WINDOW_S,
        *,
        max_runs: int = SPOOL_MAX_RUNS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.max_runs = max_runs
        self._clock = clock
        self._lock = threading.Lock()
        # in order of arrival, so that expiry and the cap only ever look at the front
        self._runs: dict[tuple[str, str], _Report] = {}

    def observe(
        self, workspace: str, run_id: str, seq: int | None, spool_bytes: int, spool_events: int
    ) -> None:
        now = self._clock()
        key = (workspace, run_id)
        with self._lock:
            known = self._runs.get(key)
            order = -1 if seq is None else seq
            if known is not None and order < known.seq:
                return  # an older beat, delivered late: the run has reported since
            self._runs.pop(key, None)
            self._runs[key] = _Report(order, spool_bytes, spool_events, now)
            self._expire(now)

    def current(self) -> dict[str, tuple[int, int]]:
        """Per workspace: the largest spool in bytes, and in events, its runs now report."""
        out: dict[str, tuple[int, int]] = {}
        with self._lock:
            self._expire(self._clock())
            for (workspace, _), report in self._runs.items():
                most_bytes, most_events = out.get(workspace, (0, 0))
                out[workspace] = (
                    max(most_bytes, report.spool_bytes),
                    max(most_events, report.spool_events),
                )
        return out

    def _expire(self, now: float) -> None:
        while self._runs:
            key, oldest = next(iter(self._runs.items()))
            if now - oldest.received <= self.window_s and len(self._runs) <= self.max_runs:
                break
            del self._runs[key]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self.current()
        spool_bytes = GaugeMetricFamily(
            "cognify_ingest_sdk_spool_bytes",
            "The largest SDK spool (bytes not yet acknowledged by Kafka) that a run of the "
            "workspace reported in its latest heartbeat, over runs heard from in the last "
            f"{self.window_s:.0f} s.",
            labels=["workspace"],
        )
        spool_events = GaugeMetricFamily(
            "cognify_ingest_sdk_spool_events",
            "The largest SDK spool in events (not yet acknowledged by Kafka) that a run of the "
            "workspace reported in its latest heartbeat, over runs heard from in the last "
            f"{self.window_s:.0f} s.",
            labels=["workspace"],
        )
        for workspace, (most_bytes, most_events) in sorted(depths.items()):
            spool_bytes.add_metric([workspace], most_bytes)
            spool_events.add_metric([workspace], most_events)
        yield spool_bytes
        yield spool_events


SPOOLS = SpoolDepths()
REGISTRY.register(SPOOLS)
