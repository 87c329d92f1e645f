"""The publisher thread: in order, nothing lost, nothing doubled, never blocking the caller.

These tests use an in-memory transport to drive outages precisely; the same behaviour
against the real Kafka is in tests/integration/sdk.
"""

from __future__ import annotations

import logging
import os
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


class CountingTransport(FlakyTransport):
    """Counts the produces (one per batch handed over)."""

    sends = 0

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        await super().send(records)
        CountingTransport.sends += 1


def test_events_of_a_paced_loop_go_in_rounds_one_fsync_and_one_produce_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop stepping every 5 ms for 1 s: rounds paced by the clock (0.25 s), not one
    spool append and one produce per event or per answer of the broker."""
    fsyncs: list[int] = []
    real_fsync = os.fsync

    def counted_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counted_fsync)
    sink: list[bytes] = []
    up = threading.Event()
    up.set()
    CountingTransport.sends = 0

    def build(item: object) -> tuple[bytes, bytes]:
        return b"run-1", str(item).encode()

    pub = Publisher(tmp_path, lambda: CountingTransport(sink, up), build, batch_interval_s=0.25)
    pub.start()
    time.sleep(0.1)
    for i in range(200):
        pub.submit(i)
        time.sleep(0.005)
    assert pub.flush(30)
    assert sink == [str(i).encode() for i in range(200)]
    # about 1.1 s of stepping: 5 or 6 rounds and the flush's; never one per event
    assert CountingTransport.sends <= 12, CountingTransport.sends
    assert len(fsyncs) <= 2 * 12, len(fsyncs)  # an append and an acknowledgement per round
    pub.close(5)


def test_close_delivers_what_an_outage_left_once_the_broker_is_back(tmp_path: Path) -> None:
    """Closing with a heartbeat tick due and the broker away: the loop keeps yielding to the
    transport (no spinning turn that starves it) and delivers when the broker returns."""
    sink: list[bytes] = []
    up = threading.Event()
    ticks: list[float] = []

    def build(item: object) -> tuple[bytes, bytes]:
        return b"run-1", str(item).encode()

    pub = Publisher(
        tmp_path,
        lambda: FlakyTransport(sink, up),
        build,
        tick=lambda: ticks.append(time.monotonic()),
        tick_interval_s=0.05,
    )
    pub.start()
    for i in range(20):
        pub.submit(i)
    time.sleep(0.3)  # ticks fall due, the broker is away
    threading.Timer(0.5, up.set).start()
    assert pub.close(20) == 0
    assert sink == [str(i).encode() for i in range(20)]
