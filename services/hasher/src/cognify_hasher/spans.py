"""Spooling only the bytes one chunk of an s3:// dataset reads (pure of any client: the
adapter passes its ranged reads in).

The spool file is sparse, with the object's bytes at their own offsets where the chunk's
reader will look and a hole everywhere else. For JSON Lines, the bytes from the chunk's
`byte_offset` (less the newline before it, which the reader checks) to the end of its last
record, fetched a window at a time; for Parquet, the footer and the span of the row groups
holding the chunk's records. Other layouts (Arrow, a prefix of several objects) have no
such range: the caller spools them whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from cognify_hashing.sources import _JSONL, _PARQUET

from .jobs import FailureKind, JobFailure
from .source import Span

RANGE_WINDOW = 8 * 1024 * 1024  # one ranged GET of a JSON Lines chunk
_PARQUET_TAIL = 64 * 1024  # the first read of a Parquet footer (most fit)
_PARQUET_MAGIC = b"PAR1"
# Parquet readers may read a little past a column chunk (old parquet-mr files whose sizes
# leave out the dictionary page header: Arrow pads its reads by up to 100 bytes for them).
_PARQUET_PAD = 100
# Lines that are not records (JsonLinesFile skips a line whose bytes.strip() is empty).
_BLANK_LINE = re.compile(rb"^[ \t\r\x0b\x0c]*\n", re.MULTILINE)

Read = Callable[[int, int], bytes]  # (offset, length) -> those bytes of the object
Copy = Callable[[BinaryIO, int, int], None]  # write (offset, length) of it to a file


def spool_span(
    name: str, target: Path, size: int, span: Span, read: Read, copy: Copy, window: int
) -> bool:
    """Spool only what the chunk's reader reads of the object `name` (an s3:// URI) into
    `target`; False when the layout has no such range (the caller then spools the whole
    object)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _JSONL and span.byte_offset is not None:
        _spool_jsonl(name, target, size, span.byte_offset, span.record_count, read, window)
        return True
    if suffix in _PARQUET:
        return _spool_parquet(target, size, span, read, copy)
    return False


def _spool_jsonl(
    name: str, target: Path, size: int, start: int, count: int, read: Read, window: int
) -> None:
    """Bytes [start - 1, end of the `count`-th record from `start`) at their offsets,
    fetched `window` bytes at a time; the file ends after the last record."""
    position = max(0, start - 1)  # the newline before `start`: the reader checks it
    skip = start - position  # ... and it is not part of the chunk's first line
    found, content = 0, False
    with target.open("wb") as out:
        out.seek(position)
        while position < size and found < count:
            length = min(window, size - position)
            data = read(position, length)
            if len(data) != length:
                raise JobFailure(
                    FailureKind.MISSING, f"{name} changed while it was read (short read)"
                )
            found, content, end = records_in(data, skip, found, content, count)
            out.write(data if end is None else data[:end])
            position += length
            skip = 0


def _spool_parquet(target: Path, size: int, span: Span, read: Read, copy: Copy) -> bool:
    """The footer and the span of the row groups that hold the chunk's records."""
    tail_start = max(0, size - _PARQUET_TAIL)
    tail = read(tail_start, size - tail_start)
    if len(tail) < 12 or tail[-4:] != _PARQUET_MAGIC:
        return False  # not plain Parquet (or encrypted): the reader says what it is
    footer_start = size - 8 - int.from_bytes(tail[-8:-4], "little")
    if footer_start < 4:
        return False
    with target.open("wb") as out:
        out.truncate(size)
        if footer_start < tail_start:
            out.seek(footer_start)
            out.write(read(footer_start, tail_start - footer_start))
        out.seek(tail_start)
        out.write(tail)
    try:
        metadata = pq.read_metadata(target)
    except (pa.ArrowException, OSError):
        return False
    first, last, position = size, 0, 0
    end_record = span.record_offset + span.record_count
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        if position < end_record and position + group.num_rows > span.record_offset:
            for column in range(group.num_columns):
                chunk = group.column(column)
                begin = chunk.data_page_offset
                if chunk.has_dictionary_page and chunk.dictionary_page_offset:
                    begin = min(begin, chunk.dictionary_page_offset)
                first = min(first, begin)
                last = max(last, begin + chunk.total_compressed_size + _PARQUET_PAD)
        position += group.num_rows
    last = min(last, footer_start)
    if first < last:
        with target.open("r+b") as out:
            out.seek(first)
            copy(out, first, last - first)
    return True


def records_in(
    data: bytes, skip: int, found: int, content: bool, count: int
) -> tuple[int, bool, int | None]:
    """Count JSON Lines records in `data` (from index `skip`), going on from `found`
    records and a current line that has `content` (non-blank bytes) or not. Returns the new
    count and state, and the index just past the newline of record `count` once reached.
    A record is a line whose bytes.strip() is not empty, as JsonLinesFile reads them."""
    first = data.find(b"\n", skip)
    if first < 0:
        return found, content or bool(data[skip:].strip()), None
    # The line that began before `data` (or at `skip`), then whole lines at C speed.
    if content or data[skip:first].strip():
        found += 1
        if found == count:
            return found, False, first + 1
    last = data.rfind(b"\n")
    lines = data.count(b"\n", first + 1)
    records = lines - len(_BLANK_LINE.findall(data, first + 1, last + 1))
    content = bool(data[last + 1 :].strip())
    if found + records < count:
        return found + records, content, None
    position = first + 1  # record `count` ends in this piece: find exactly where
    while True:
        newline = data.find(b"\n", position)
        if data[position:newline].strip():
            found += 1
            if found == count:
                return found, False, newline + 1
        position = newline + 1
