"""Every Prometheus metric of the lineage service, in one place."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "cognify_lineage_events_total",
    "Events consumed, by type and outcome (stored, duplicate, rejected).",
    ["type", "outcome"],
)
REPLAYED = Counter(
    "cognify_lineage_replayed_total",
    "Messages delivered again below the stored offset (after a crash or rebalance): skipped.",
)
REJECTS = Counter(
    "cognify_lineage_rejects_total", "Messages on the canonical topic that are not events."
)
REFUSED = Counter(
    "cognify_lineage_refused_after_seal_total",
    "Events refused (recorded and dead-lettered), by type and why: after-seal (their run "
    "was already sealed), stale-seal (a run.sealed not naming the run's chain head) or "
    "sequence-conflict (a seq the run already had).",
    ["type", "why"],
)
BATCH_SECONDS = Histogram(
    "cognify_lineage_batch_seconds",
    "Time to store and fold one poll batch (one transaction).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_EVENTS = Histogram(
    "cognify_lineage_batch_events",
    "Events per poll batch.",
    buckets=(1, 10, 50, 100, 500, 1_000, 2_000, 5_000, 10_000),
)
LAG = Gauge("cognify_lineage_lag", "Messages behind the end of the canonical topic.", ["partition"])
DEAD_LETTERS = Counter(
    "cognify_lineage_poison_total",
    "Canonical-topic messages the consume loop isolated and dead-lettered (a deterministic "
    "failure while storing or folding them), by exception type.",
    ["reason"],
)
RETRIES = Counter(
    "cognify_lineage_transient_retries_total",
    "Transient failures (PostgreSQL or the broker out of reach) retried, by exception type.",
    ["reason"],
)
ABANDONED = Counter("cognify_lineage_abandoned_total", "Runs marked abandoned by the sweep.")
HTTP_REQUESTS = Counter(
    "cognify_lineage_http_requests_total", "API requests, by route and status.", ["route", "status"]
)
HTTP_SECONDS = Histogram(
    "cognify_lineage_http_request_seconds",
    "Time to answer an API request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ANCHOR_LAST = Gauge(
    "cognify_lineage_anchor_last_success_timestamp_seconds",
    "When the last anchor round ended with every grown chain anchored (Unix time).",
)
ANCHOR_INTERVAL = Gauge(
    "cognify_lineage_anchor_interval_seconds", "How often chain heads are anchored (seconds)."
)
ANCHORS = Counter(
    "cognify_lineage_anchors_total", "Anchor segments written to Object Lock storage."
)
ANCHOR_FAILURES = Counter(
    "cognify_lineage_anchor_failures_total",
    "Anchor rounds that failed (the object store or the database out of reach).",
)
ANCHOR_CONFLICTS = Counter(
    "cognify_lineage_anchor_conflicts_total",
    "Chains whose store no longer continues what was anchored (history rewritten).",
)
ANCHOR_SECONDS = Histogram(
    "cognify_lineage_anchor_round_seconds",
    "Time to anchor every chain that grew (one round).",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60),
)

GRAPH_CACHE = Counter(
    "cognify_lineage_graph_cache_total",
    "Lineage graph requests answered from the cache of encoded graphs (hit), built (miss), or "
    "revalidated by the caller's ETag (not-modified).",
    ["outcome"],
)
PAGE_CACHE = Counter(
    "cognify_lineage_runs_page_cache_total",
    "Runs list requests answered from the cache of encoded pages (hit), read (miss), or "
    "revalidated by the caller's ETag (not-modified).",
    ["outcome"],
)
RUN_CACHE = Counter(
    "cognify_lineage_run_cache_total",
    "Reads of one run answered from the folded runs kept under their version (hit) or loaded "
    "from the projection (miss).",
    ["outcome"],
)
SERIES_CACHE = Counter(
    "cognify_lineage_metric_series_cache_total",
    "Metric series requests answered from the encodings kept under the run's version (hit), "
    "read (miss), or revalidated by the caller's ETag (not-modified).",
    ["outcome"],
)
