"""Every Prometheus metric of the ingest service, in one place."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
