"""Every Prometheus metric of the exporter."""

from prometheus_client import Counter, Gauge, Histogram

SEALS = Counter("cognify_exporter_seals_total", "Seal attempts", ["outcome"])
EXPORTS = Counter("cognify_exporter_exports_total", "Packages", ["format", "outcome"])
RENDER_SECONDS = Histogram("cognify_exporter_render_seconds", "Time to render", ["format"])
HTTP_REQUESTS = Counter("cognify_exporter_http_requests_total", "Requests", ["route", "status"])
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
