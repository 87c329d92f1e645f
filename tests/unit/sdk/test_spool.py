"""The spool keeps every event until the broker acknowledges it, across crashes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cognify.spool import ROTATE_BYTES, Segment, adopt_orphans


def test_records_come_back_in_order_until_acknowledged(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    seg.append([b"a", b"bb", b"ccc"])
    records = seg.unacked()
    assert [r.data for r in records] == [b"a", b"bb", b"ccc"]
    seg.ack(records[1].end)
    assert [r.data for r in seg.unacked()] == [b"ccc"]
    assert seg.pending_bytes == records[2].end - records[1].end


def test_a_segment_of_a_live_process_is_not_adopted(tmp_path: Path) -> None:
    live = Segment.create(tmp_path)
    live.append([b"mine"])
    assert adopt_orphans(tmp_path) == []
    live.close(remove_if_drained=False)


def test_an_orphan_is_adopted_from_its_acknowledged_position(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    seg.append([b"sent", b"unsent-1", b"unsent-2"])
    seg.ack(seg.unacked()[0].end)
    seg.close()  # the process is gone; two records were never acknowledged
    (orphan,) = adopt_orphans(tmp_path)
    assert [r.data for r in orphan.unacked()] == [b"unsent-1", b"unsent-2"]
    orphan.ack(orphan.unacked()[-1].end)
    orphan.close()
    assert list(tmp_path.iterdir()) == []  # drained segments are removed


def test_a_torn_tail_from_a_crash_is_dropped_and_the_rest_survives(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    seg.append([b"whole-1", b"whole-2"])
    path = seg.path
    seg.close(remove_if_drained=False)
    with open(path, "ab") as f:  # half a record: header promising 100 bytes, 3 written
        f.write((100).to_bytes(4, "big") + (0).to_bytes(4, "big") + b"abc")
    (orphan,) = adopt_orphans(tmp_path)
    assert [r.data for r in orphan.unacked()] == [b"whole-1", b"whole-2"]
    assert path.stat().st_size == orphan.size


def test_a_corrupted_record_stops_reading_instead_of_sending_garbage(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    seg.append([b"good", b"flipped"])
    path = seg.path
    seg.close(remove_if_drained=False)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    (orphan,) = adopt_orphans(tmp_path)
    assert [r.data for r in orphan.unacked()] == [b"good"]


def test_a_corrupt_ack_file_means_resend_everything_never_lose(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    seg.append([b"x", b"y"])
    seg.ack(seg.unacked()[-1].end)
    seg.append([b"z"])
    seg.ack_path.write_bytes(b"\x00" * 7)
    seg.close(remove_if_drained=False)
    (orphan,) = adopt_orphans(tmp_path)
    assert [r.data for r in orphan.unacked()] == [b"x", b"y", b"z"]


def test_a_fully_acknowledged_large_segment_starts_over(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    blob = os.urandom(1 << 20)
    seg.append([blob] * (ROTATE_BYTES // len(blob) + 1))
    seg.ack(seg.size)
    assert seg.size == 0 and seg.path.stat().st_size == 0
    seg.append([b"after"])
    assert [r.data for r in seg.unacked()] == [b"after"]


def test_a_segment_cannot_be_locked_twice(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path)
    with pytest.raises(BlockingIOError):
        Segment(seg.path)
