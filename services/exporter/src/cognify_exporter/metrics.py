"""Every Prometheus metric of the exporter."""

from prometheus_client import Counter, Gauge, Histogram

SEALS = Counter("cognify_exporter_seals_total", "Seal attempts", ["outcome"])
EXPORTS = Counter("cognify_exporter_exports_total", "Packages", ["format", "outcome"])
RENDER_SECONDS = Histogram("cognify_exporter_render_seconds", "Time to render", ["format"])
HTTP_REQUESTS = Counter("cognify_exporter_http_requests_total", "Requests", ["route", "status"])
HTTP_SECONDS = Histogram(
    "cognify_exporter_http_request_seconds",
    "Time to answer an API request, by route (an export renders and signs: seconds).",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ACCESS = Counter(
    "cognify_exporter_access_total",
    "Access records emitted, by action and outcome.",
    ["action", "allowed"],
)
LAG = Gauge(
    "cognify_exporter_lag", "Messages behind the end of the canonical topic.", ["partition"]
)
DEAD_LETTERS = Counter(
    "cognify_exporter_poison_total",
    "Seal requests the consume loop isolated and dead-lettered (a deterministic failure "
    "while acting on them), by exception type.",
    ["reason"],
)
RETRIES = Counter(
    "cognify_exporter_transient_retries_total",
    "Transient failures (PostgreSQL, object storage or the broker out of reach) retried, by "
    "exception type.",
    ["reason"],
)
