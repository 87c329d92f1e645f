"""The publisher thread: in order, nothing lost, nothing doubled, never blocking the caller.

These tests use an in-memory transport to drive outages precisely; the same behaviour
against the real Kafka is in tests/integration/sdk.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from cognify.publisher import Publisher
from cognify.spool import adopt_orphans


class FlakyTransport:
    """Delivers into a shared list; `up` decides whether the broker answers."""

    def __init__(self, sink: list[bytes], up: threading.Event) -> None:
        self.sink, self.up = sink, up

    async def start(self) -> None:
        if not self.up.is_set():
            raise ConnectionError("broker down")

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        if not self.up.is_set():
            raise ConnectionError("broker down")
        self.sink.extend(value for _, value in records)

    async def stop(self) -> None:
        return None


def _publisher(tmp_path: Path, sink: list[bytes], up: threading.Event, **kw: object) -> Publisher:
    def build(item: object) -> tuple[bytes, bytes]:
        return b"run-1", str(item).encode()

    pub = Publisher(tmp_path, lambda: FlakyTransport(sink, up), build, **kw)  # type: ignore[arg-type]
    pub.start()
    return pub


def test_events_are_delivered_in_order_exactly_once(tmp_path: Path) -> None:
    sink: list[bytes] = []
    up = threading.Event()
    up.set()
    pub = _publisher(tmp_path, sink, up)
    for i in range(2_000):
        pub.submit(i)
    assert pub.flush(30)
    assert sink == [str(i).encode() for i in range(2_000)]
    assert pub.close(5) == 0


def test_an_outage_spools_and_the_return_of_the_broker_delivers_everything(tmp_path: Path) -> None:
    sink: list[bytes] = []
    up = threading.Event()
    pub = _publisher(tmp_path, sink, up)
    t0 = time.perf_counter()
    for i in range(500):
        pub.submit(i)
    submit_time = time.perf_counter() - t0
    assert not pub.flush(0.5)  # nothing can be delivered while the broker is down
    assert sink == [] and pub.pending_bytes > 0
    up.set()
    assert pub.flush(30)
    assert sink == [str(i).encode() for i in range(500)]
    assert submit_time < 0.5  # the caller never waited for the broker
    pub.close(5)


def test_close_with_the_broker_down_leaves_the_events_for_the_next_process(
    tmp_path: Path,
) -> None:
    sink: list[bytes] = []
    down = threading.Event()
    pub = _publisher(tmp_path, sink, down)
    for i in range(10):
        pub.submit(i)
    t0 = time.perf_counter()
    left = pub.close(0.5)
    assert left > 0 and time.perf_counter() - t0 < 5  # bounded wait at exit
    up = threading.Event()
    up.set()
    later = _publisher(tmp_path, sink, up)  # the next process adopts the orphan segment
    assert later.flush(30)
    assert sink == [str(i).encode() for i in range(10)]
    later.close(5)
    assert adopt_orphans(tmp_path) == []


def test_a_full_spool_drops_with_a_warning_instead_of_blocking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink: list[bytes] = []
    down = threading.Event()
    pub = _publisher(tmp_path, sink, down, max_spool_bytes=200)
    with caplog.at_level(logging.WARNING, logger="cognify"):
        for i in range(100):
            pub.submit(f"event-{i:04d}")
        pub.flush(0.5)
    assert pub.stats.dropped > 0
    assert pub.stats.built + pub.stats.dropped == 100
    assert any(
        "is full" in r.getMessage() and "sequence gap" in r.getMessage() for r in caplog.records
    )
    pub.close(0.1)


def test_an_item_that_cannot_be_built_is_skipped_and_counted(tmp_path: Path) -> None:
    sink: list[bytes] = []
    up = threading.Event()
    up.set()

    def build(item: object) -> tuple[bytes, bytes]:
        if item == "bad":
            raise ValueError("not a metric")
        return b"k", str(item).encode()

    pub = Publisher(tmp_path, lambda: FlakyTransport(sink, up), build)
    pub.start()
    for item in ("a", "bad", "b"):
        pub.submit(item)
    assert pub.flush(10)
    assert sink == [b"a", b"b"] and pub.stats.failed_builds == 1
    pub.close(1)
