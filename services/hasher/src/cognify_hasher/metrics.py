"""Every Prometheus metric of the hasher, in one place, and the endpoint that serves them.

Rates come from the counters: `rate(cognify_hasher_bytes_total[1m])` is bytes/s,
`rate(cognify_hasher_records_total[1m])` records/s.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

BYTES = Counter(
    "cognify_hasher_bytes_total", "Bytes hashed (checkpoint files and dataset files).", ["target"]
)
RECORDS = Counter("cognify_hasher_records_total", "Dataset records hashed into Merkle trees.")
IN_FLIGHT = Gauge("cognify_hasher_jobs_in_flight", "Jobs and chunks being hashed right now.")
FAILURES = Counter(
    "cognify_hasher_failures_total",
    "Jobs recorded as hash.failed, by reason (refused, missing, unreadable, invalid, error).",
    ["reason"],
)
JOBS = Counter(
    "cognify_hasher_jobs_total",
    "Work items finished, by kind (job, planned, chunk, combined) and outcome.",
    ["kind", "outcome"],
)
LAG = Gauge(
    "cognify_hasher_lag",
    "Messages behind the end of a consumed partition, by consumer (jobs, combine).",
    ["consumer", "partition"],
)
DEAD_LETTERS = Counter(
    "cognify_hasher_poison_total",
    "Messages the consume loop isolated and dead-lettered (a deterministic failure), by "
    "consumer (jobs, combine) and exception type.",
    ["consumer", "reason"],
)
RETRIES = Counter(
    "cognify_hasher_transient_retries_total",
    "Transient failures (the broker out of reach) retried, by consumer and exception type.",
    ["consumer", "reason"],
)
JOB_SECONDS = Histogram(
    "cognify_hasher_job_seconds",
    "Time to hash one job or chunk.",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)


def serve(port: int) -> None:
    """Serve /metrics on `port` (0: not at all) from a daemon thread."""
    if port:
        start_http_server(port)
