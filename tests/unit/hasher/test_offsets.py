"""The planning pass of a split JSON Lines job: `jsonl_offsets` on the Rust accelerator (a
newline scan) against `pure_jsonl_offsets`, the line-by-line reference, on every kind of
line ending, blank line and read boundary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cognify_hashing_native as accel
import pytest
from cognify_hasher import ranges
from cognify_hasher.ranges import jsonl_offsets, pure_jsonl_offsets
from cognify_hashing import _native, open_source
from cognify_hashing.sources import SourceError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# Bytes that matter to the rule: the newline, the whitespace bytes.strip() removes, bytes it
# keeps (NUL, NEL and NBSP in Latin-1 / UTF-8 pieces), and ordinary JSON.
PIECES = [b"\n", b"\r", b"\r\n", b" ", b"\t", b"\x0b", b"\x0c", b"\x00", b"\x85", b"\xc2\xa0"]
PIECES += [b"{}", b'{"a": 1}', b"x", b"\xff"]


def outcome(call: Callable[[], object]) -> tuple[object, ...]:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - any failure must be the same failure
        return ("error", type(exc), str(exc))


def both(path: Path, every: int) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """(accelerated, pure) outcome of jsonl_offsets(path, every)."""
    enabled = _native.enabled
    try:
        _native.enabled = True
        native = outcome(lambda: jsonl_offsets(path, every))
        _native.enabled = False
        pure = outcome(lambda: jsonl_offsets(path, every))
    finally:
        _native.enabled = enabled
    return native, pure


def scan_in_pieces(data: bytes, every: int, cuts: list[int]) -> tuple[int, list[int]]:
    """The accelerator's scan fed `data` cut at `cuts` (read boundaries anywhere)."""
    scan = accel.JsonlOffsets(every)
    start = 0
    for cut in [*sorted({min(c, len(data)) for c in cuts}), len(data)]:
        scan.feed(memoryview(data)[start:cut])
        start = cut
    return scan.finish()


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=st.lists(st.sampled_from(PIECES), max_size=60),
    every=st.integers(1, 5),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
@example(parts=[], every=1, cuts=[])
@example(parts=[b"{}", b"\r\n", b"\r\n", b"{}"], every=1, cuts=[3])  # CRLF, blank CRLF line
@example(parts=[b"{}", b"\n", b" ", b"\t", b"\n", b"{}"], every=1, cuts=[])  # blank line
@example(parts=[b"{}", b"\n", b"{}"], every=2, cuts=[4])  # no newline at the end
@example(parts=[b"\x0b", b"\x0c", b"\r"], every=1, cuts=[1])  # only whitespace, no newline
def test_the_scan_equals_the_reference(
    tmp_path: Path, parts: list[bytes], every: int, cuts: list[int]
) -> None:
    data = b"".join(parts)
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    native, pure = both(path, every)
    assert native == pure
    assert ("ok", scan_in_pieces(data, every, cuts)) == pure


def test_lines_across_read_boundaries(tmp_path: Path) -> None:
    """Long lines and blank runs straddling the 1 MiB reads of the Python driver."""
    lines = []
    for i in range(40):
        lines.append(json.dumps({"i": i, "pad": "x" * (i * 9_973 % 150_000)}))
        lines.append(" \t\r" * (i % 3))  # blank lines of whitespace
    data = ("\r\n".join(lines) + '\r\n{"last": 1}').encode()  # CRLF; no final newline
    assert len(data) > 2 * ranges._SCAN_READ
    path = tmp_path / "long.jsonl"
    path.write_bytes(data)
    for every in (1, 3, 16, 64):
        native, pure = both(path, every)
        assert native == pure
        assert native[1][0] == 41  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "every", "expected"),
    [
        (b"", 1, (0, [])),
        (b"\n\n \n", 1, (0, [])),
        (b'{"a":1}', 1, (1, [0])),
        (b'{"a":1}\r\n\r\n{"a":2}\r\n', 1, (2, [0, 11])),
        (b'\n{"a":1}\n  \n{"a":2}\n{"a":3}', 2, (3, [1, 0 + 1 + 8 + 3 + 8])),
        (b"\x00\n\xc2\xa0\n", 1, (2, [0, 2])),  # NUL and NBSP are not what strip() removes
    ],
)
def test_examples(tmp_path: Path, data: bytes, every: int, expected: tuple[int, list[int]]) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    assert both(path, every) == (("ok", expected), ("ok", expected))
    assert pure_jsonl_offsets(path, every) == expected


def test_the_offsets_start_the_records_json_lines_reads(tmp_path: Path) -> None:
    lines = [json.dumps({"i": i}) + ("\r\n\n" if i % 7 == 0 else "\n") for i in range(500)]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(lines))
    records = list(open_source(path).records())
    data = path.read_bytes()
    count, offsets = jsonl_offsets(path, 32)
    assert count == len(records) == 500
    for index, start in enumerate(offsets):
        assert json.loads(data[start:].split(b"\n", 1)[0]) == records[index * 32]


def test_errors_are_the_same(tmp_path: Path) -> None:
    assert both(tmp_path / "missing.jsonl", 8)[0][1] is FileNotFoundError
    assert both(tmp_path / "missing.jsonl", 8)[0] == both(tmp_path / "missing.jsonl", 8)[1]
    native, pure = both(tmp_path, 8)  # a directory
    assert native == pure and native[1] is IsADirectoryError
    (tmp_path / "d.jsonl").write_bytes(b"{}\n")
    native, pure = both(tmp_path / "d.jsonl", 0)
    assert native == pure and native[1] is ValueError
    with pytest.raises(ValueError, match="positive"):
        accel.JsonlOffsets(0)
    scan = accel.JsonlOffsets(1)
    assert scan.finish() == (0, [])
    with pytest.raises(RuntimeError):
        scan.feed(b"{}")


# ---- planning on several threads ------------------------------------------------------------

LINES = [b"{}", b'{"a": 1}', b"x" * 40, b"", b" ", b"\t\r", b"\x0b", b"\x00", b"\xc2\xa0"]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.sampled_from(LINES), max_size=250),
    newline_at_end=st.booleans(),
    every=st.integers(1, 40),
    sample=st.integers(1, 3),
    threads=st.integers(2, 7),
    region_bytes=st.integers(1, 300),
)
@example(lines=[b"x" * 40] * 20, newline_at_end=True, every=16, sample=1, threads=3, region_bytes=1)
@example(
    lines=[b"", b" "] * 50, newline_at_end=False, every=16, sample=1, threads=4, region_bytes=1
)
def test_regions_scanned_at_once_give_the_serial_count_and_offsets(
    tmp_path: Path,
    lines: list[bytes],
    newline_at_end: bool,
    every: int,
    sample: int,
    threads: int,
    region_bytes: int,
) -> None:
    """Cuts fall anywhere (mid-line, in blank runs, in the unterminated last line), regions
    may be empty or one line long: the offsets are the reference's all the same."""
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if newline_at_end else b""))
    expected = pure_jsonl_offsets(path, every)
    options = {"region_bytes": region_bytes, "sample": sample}
    assert jsonl_offsets(path, every, threads, **options) == expected


def test_regions_on_a_file_of_many_reads(tmp_path: Path) -> None:
    """Regions of several 1 MiB reads each, offsets due in every region."""
    path = tmp_path / "big.jsonl"
    with path.open("w") as out:
        for i in range(120_000):
            out.write(json.dumps({"i": i, "pad": "y" * (i % 301)}) + ("\n\n" if i % 97 else "\n"))
    assert path.stat().st_size > 3 * (4 << 20)
    for every in (1_024, 4_096, 65_536):
        serial = jsonl_offsets(path, every)
        assert serial == pure_jsonl_offsets(path, every)
        assert jsonl_offsets(path, every, threads=3, region_bytes=4 << 20) == serial
        assert jsonl_offsets(path, every, threads=8, region_bytes=1 << 20) == serial


def test_a_file_cut_short_while_planned_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"{}\n" * 100)
    with path.open("rb", buffering=0) as handle:
        assert ranges._record_after(handle, 0, 99, path) == 99 * 3
        with pytest.raises(SourceError, match="changed while it was planned"):
            ranges._record_after(handle, 0, 100, path)
