"""Every Prometheus metric of the exporter."""

from prometheus_client import Counter, Histogram

SEALS = Counter("cognify_exporter_seals_total", "Seal attempts", ["outcome"])
EXPORTS = Counter("cognify_exporter_exports_total", "Packages", ["format", "outcome"])
RENDER_SECONDS = Histogram("cognify_exporter_render_seconds", "Time to render", ["format"])
HTTP_REQUESTS = Counter("cognify_exporter_http_requests_total", "Requests", ["route", "status"])
ACCESS = Counter(
    "cognify_exporter_access_total",
    "Access records emitted, by action and outcome.",
    ["action", "allowed"],
)
