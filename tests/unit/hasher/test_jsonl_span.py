"""Where a JSON Lines chunk's records end, found piece by piece as an s3:// chunk worker
fetches them (cognify_hasher.spans.records_in), against the line-by-line definition."""

from __future__ import annotations

import itertools

from cognify_hasher.spans import records_in
from hypothesis import given
from hypothesis import strategies as st

LINES = st.lists(
    st.one_of(
        st.just(b""),
        st.sampled_from([b" ", b"\t", b"\r", b"  \x0b\x0c", b" \r"]),  # blank: not records
        st.binary(min_size=1, max_size=12).map(lambda b: b.replace(b"\n", b"x") + b"}"),
    ),
    min_size=1,
    max_size=40,
)


def _reference(data: bytes, count: int) -> int | None:
    """End (past the newline) of the count-th line whose bytes.strip() is not empty, the end
    of the data when that line is the last and unterminated, None when there are fewer."""
    found, position = 0, 0
    for line in _split(data):
        position += len(line)
        if line.strip():
            found += 1
            if found == count:
                return position
    return None


def _split(data: bytes) -> list[bytes]:
    parts = data.split(b"\n")
    return [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(LINES, st.booleans(), st.integers(1, 30), st.lists(st.integers(0, 10_000), max_size=6))
def test_the_end_of_the_last_record_is_found_across_pieces(
    lines: list[bytes], terminated: bool, count: int, cuts: list[int]
) -> None:
    data = b"\n".join(lines) + (b"\n" if terminated else b"")
    expected = _reference(data, count)
    found, content, at, end = 0, False, 0, None
    for piece in _pieces(data, cuts):
        found, content, piece_end = records_in(piece, 0, found, content, count)
        if piece_end is not None:
            end = at + piece_end
            break
        at += len(piece)
    if expected is None:
        assert end is None and found < count
    elif not data[:expected].endswith(b"\n"):
        # The record is the object's last, unterminated: the worker reads to the end.
        assert end is None and found == count - 1 and content
    else:
        assert end == expected


def test_the_newline_before_the_chunk_is_skipped() -> None:
    data = b'\n{"a":1}\n\n{"a":2}\n{"a":3}\n'
    assert records_in(data, 1, 0, False, 2) == (2, False, len(b'\n{"a":1}\n\n{"a":2}\n'))
    assert records_in(data, 1, 0, False, 5) == (3, False, None)
