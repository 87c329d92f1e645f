"""Every Prometheus metric of the dashboard, in one place."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "cognify_dashboard_http_requests_total",
    "HTTP requests answered, by route and status.",
    ["route", "status"],
)
HTTP_SECONDS = Histogram(
    "cognify_dashboard_http_request_duration_seconds",
    "Time to answer an HTTP request (to the first byte of a stream), by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SIGN_INS = Counter(
    "cognify_dashboard_sign_ins_total",
    "Sign-in attempts by outcome (ok, refused, limited, unavailable).",
    ["outcome"],
)
SESSIONS = Gauge("cognify_dashboard_sessions", "Sessions held in memory.")
PROXIED = Counter(
    "cognify_dashboard_proxied_total",
    "Requests forwarded to a service, by service and status class.",
    ["service", "status"],
)
LIVE_STREAMS = Gauge("cognify_dashboard_live_streams", "Server-sent event streams open.")
LIVE_SENT = Counter(
    "cognify_dashboard_live_sent_total", "Server-sent events written, by name.", ["name"]
)
REVALIDATED = Counter(
    "cognify_dashboard_revalidated_total",
    "GETs answered from a kept answer after the service's 304 (not-modified), or whose "
    "answer was kept to revalidate (kept), by service.",
    ["service", "outcome"],
)
