"""The spool depth SDK heartbeats report, as ingest exports it: per workspace, never per run."""

from __future__ import annotations

from cognify_ingest.metrics import SpoolDepths
from prometheus_client import CollectorRegistry, generate_latest


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_workspace_shows_the_largest_latest_report_of_its_runs() -> None:
    clock = Clock()
    depths = SpoolDepths(300.0, clock=clock)
    depths.observe("ws-a", "run-1", 10, 5_000, 50)
    depths.observe("ws-a", "run-2", 3, 900_000, 20)
    depths.observe("ws-b", "run-3", 7, 0, 0)
    assert depths.current() == {"ws-a": (900_000, 50), "ws-b": (0, 0)}
    # run-2's spool drained: its latest beat replaces the earlier one, not a maximum of both
    depths.observe("ws-a", "run-2", 4, 100, 1)
    assert depths.current()["ws-a"] == (5_000, 50)


def test_a_late_older_heartbeat_does_not_overwrite_a_newer_one() -> None:
    depths = SpoolDepths(300.0, clock=Clock())
    depths.observe("ws-a", "run-1", 20, 0, 0)
    depths.observe("ws-a", "run-1", 12, 7_000_000, 9_000)  # spooled in an outage, sent later
    assert depths.current() == {"ws-a": (0, 0)}


def test_runs_that_went_quiet_expire_and_their_workspace_drops_out() -> None:
    clock = Clock()
    depths = SpoolDepths(300.0, clock=clock)
    depths.observe("ws-a", "run-1", 1, 4_096, 4)
    clock.now += 200
    depths.observe("ws-a", "run-2", 1, 1_024, 1)
    clock.now += 150  # run-1 was last heard 350 s ago, run-2 150 s ago
    assert depths.current() == {"ws-a": (1_024, 1)}
    clock.now += 200
    assert depths.current() == {}


def test_the_number_of_runs_remembered_is_capped() -> None:
    depths = SpoolDepths(300.0, max_runs=3, clock=Clock())
    for i in range(5):
        depths.observe("ws-a", f"run-{i}", 1, 1_000 * (5 - i), 1)
    # the two oldest reports (5,000 and 4,000 bytes) were forgotten first
    assert depths.current() == {"ws-a": (3_000, 1)}


def test_the_collector_exports_one_series_per_workspace_without_run_labels() -> None:
    registry = CollectorRegistry()
    depths = SpoolDepths(300.0, clock=Clock())
    registry.register(depths)
    depths.observe("ws-a", "run-1", 1, 2_048, 3)
    depths.observe("ws-a", "run-2", 1, 1_024, 8)
    text = generate_latest(registry).decode()
    assert 'cognify_ingest_sdk_spool_bytes{workspace="ws-a"} 2048.0' in text
    assert 'cognify_ingest_sdk_spool_events{workspace="ws-a"} 8.0' in text
    samples = [sample for metric in registry.collect() for sample in metric.samples]
    assert len(samples) == 2 and all(set(s.labels) == {"workspace"} for s in samples)
