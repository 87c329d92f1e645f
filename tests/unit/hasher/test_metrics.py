"""The hasher's Prometheus metrics move with the work (bytes/s and records/s are rates)."""

from __future__ import annotations

from cognify_hasher import metrics
from cognify_hasher.progress import Progress
from prometheus_client import generate_latest


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_progress_counts_bytes_and_records_into_the_metrics() -> None:
    before_bytes = _value("cognify_hasher_bytes_total", {"target": "dataset"})
    before_records = _value("cognify_hasher_records_total")
    progress = Progress("dataset")
    progress.add(1_000, 10)
    progress.add(24, 2)
    assert _value("cognify_hasher_bytes_total", {"target": "dataset"}) == before_bytes + 1_024
    assert _value("cognify_hasher_records_total") == before_records + 12


def test_every_metric_the_dashboard_reads_is_exported() -> None:
    metrics.FAILURES.labels("missing").inc()
    text = generate_latest().decode()
    for name in (
        "cognify_hasher_bytes_total",
        "cognify_hasher_records_total",
        "cognify_hasher_jobs_in_flight",
        'cognify_hasher_failures_total{reason="missing"}',
    ):
        assert name in text
