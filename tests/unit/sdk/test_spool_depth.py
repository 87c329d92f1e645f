"""Heartbeats report the spool's depth: the bytes and events the broker has not acknowledged.

The counts are kept by the spool as it appends and acknowledges (no read of the log, no
fsync of their own), adopted segments included, and the heartbeat reads them on the
publisher thread, which owns the spool.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cognify.config import Settings
from cognify.publisher import Publisher
from cognify.run import Run
from cognify.spool import ROTATE_BYTES, Segment, adopt_orphans


class GatedSink:
    """A broker that answers only while `up` is set."""

    def __init__(self, up: threading.Event) -> None:
        self.up = up
        self.records: list[tuple[bytes, bytes]] = []

    async def start(self) -> None:
        if not self.up.is_set():
            raise ConnectionError("broker down")

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        if not self.up.is_set():
            raise ConnectionError("broker down")
        self.records += records

    async def stop(self) -> None:
        return None


def _until(check: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_a_segment_counts_what_it_holds_unacknowledged(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    assert seg.pending_records == 0
    seg.append([b"a", b"bb", b"ccc", b"dddd"])
    assert seg.pending_records == 4
    records = seg.unacked()
    seg.ack(records[0].end, 1)  # the publisher says how many it sent
    assert seg.pending_records == 3
    seg.ack(records[2].end)  # `cognify sync` and older callers need not: counted here
    assert seg.pending_records == 1
    seg.close()  # the process is gone with one record unacknowledged
    (orphan,) = adopt_orphans(tmp_path)
    assert orphan.pending_records == 1  # counted by the scan that finds the valid end
    assert orphan.pending_bytes == records[3].end - records[2].end
    orphan.ack(orphan.size)
    assert orphan.pending_records == 0 and orphan.pending_bytes == 0
    orphan.close()


def test_the_count_starts_over_with_a_rotated_segment(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    seg.append([b"x" * (1 << 20)] * (ROTATE_BYTES // (1 << 20) + 1))
    seg.ack(seg.size, seg.pending_records)
    assert seg.size == 0 and seg.pending_records == 0
    seg.append([b"after"])
    assert seg.pending_records == 1
    seg.close(remove_if_drained=False)


def test_the_publisher_reports_pending_events_across_an_outage_and_adoption(
    tmp_path: Path,
) -> None:
    up = threading.Event()
    sink = GatedSink(up)

    def build(item: Any) -> tuple[bytes, bytes]:
        return b"run-1", str(item).encode()

    first = Publisher(tmp_path, lambda: sink, build)
    first.start()
    for i in range(50):
        first.submit(i)
    assert _until(lambda: first.pending_events == 50)
    assert first.pending_bytes == sum(8 + len(b"run-1\n") + len(str(i)) for i in range(50))
    first.close(0.3)  # the broker is still down: the next process adopts the segment

    second = Publisher(tmp_path, lambda: sink, build)
    second.start()
    for i in range(50, 60):
        second.submit(i)
    assert _until(lambda: second.pending_events == 60)  # its own 10 and the orphan's 50
    up.set()
    assert second.flush(30)
    assert second.pending_events == 0 and second.pending_bytes == 0
    assert [value for _, value in sink.records] == [str(i).encode() for i in range(60)]
    second.close(5)


def _heartbeats(sink: GatedSink) -> list[dict[str, Any]]:
    events = [json.loads(value) for _, value in sink.records]
    return [e["payload"] for e in events if e["type"] == "run.heartbeat"]


def test_heartbeats_carry_the_spool_depth_while_the_broker_is_away(tmp_path: Path) -> None:
    up = threading.Event()
    sink = GatedSink(up)
    settings = Settings(
        "ws-1", "cgk_test", "p", "127.0.0.1:1", tmp_path / "spool", heartbeat_interval_s=0.1
    )
    run = Run(settings, transport=lambda: sink)
    for step in range(1, 41):
        run.log_metrics(step, {"loss": 1.0 / step})
    assert _until(lambda: run.publisher.pending_events >= 42)  # 40 metrics, 2+ heartbeats
    up.set()
    assert run.publisher.flush(30)
    # one more beat once everything is delivered: an empty spool reads as zero, not null
    delivered = len(_heartbeats(sink))
    assert _until(lambda: len(_heartbeats(sink)) > delivered + 2)
    run.end("completed")
    assert run.close(5.0) == 0

    beats = _heartbeats(sink)
    assert all(b["spool_bytes"] >= 0 and b["spool_events"] >= 0 for b in beats)
    # while the broker was down, the beats saw the 40 metrics (and earlier beats) waiting
    assert max(b["spool_events"] for b in beats) >= 40
    assert max(b["spool_bytes"] for b in beats) > 40 * 100
    # once delivered, a beat sees nothing waiting (or only the beat before it, in flight);
    # the first one after the flush may have been taken just before the last acknowledgement
    after = beats[delivered + 1 :]
    assert after and all(b["spool_events"] <= 1 for b in after)
    assert any(b["spool_events"] == 0 and b["spool_bytes"] == 0 for b in after)
