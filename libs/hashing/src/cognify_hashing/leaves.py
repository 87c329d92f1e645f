"""Leaf hashes of dataset sources a batch at a time, through the Rust accelerator.

The accelerated counterpart of `RecordSource.batches()` followed by `canonical_record` and
`SchemaInference.add_records` (used by `hash_dataset` and the hasher's chunk hashing when
`cognify_hashing._native.enabled`):

- JSON Lines never become Python objects: the accelerator parses each line to its canonical
  bytes and hashes it. Of each batch of `BATCH_ROWS` records it reports the first line of
  every distinct shape (key order, value types, integer range, list element shapes); those
  lines alone, json-decoded here, give `SchemaInference` the same description as the whole
  batch would. A line it refuses is decoded here as `JsonLinesFile` does, so malformed input
  raises today's `SourceError` with its line number; its canonical bytes come from
  `canonical_record`.
- Arrow batches (Parquet, Arrow IPC) whose columns are all flat (bool, integers, floats,
  strings, null, dictionaries of those) are hashed from the column buffers; other batches
  go through `batch_records` and the accelerated `canonical_record`.

Errors keep the pure path's order: within a batch, a `SourceError` of any line comes before
the `CanonicalEncodingError` of any record. An encoding error is raised as
`RecordEncodingError`, which carries the index of the record (callers re-raise the original
error, or name the record).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cognify_hashing import _native
from cognify_hashing.arrow_values import batch_records
from cognify_hashing.canonical import (
    CanonicalEncodingError,
    canonical_record,
    pure_canonical_json,
    pure_canonical_record,
)
from cognify_hashing.sources import (
    BATCH_ROWS,
    ArrowFile,
    JsonLinesFile,
    ParquetFile,
    Record,
    RecordSource,
    SourceError,
    _MultiFileSource,
    _no_constants,
    _unique_keys,
)

__all__ = [
    "LeafBatch",
    "RecordEncodingError",
    "accelerated",
    "arrow_leaf_batch",
    "index_errors",
    "jsonl_leaf_batches",
    "leaf_batches",
    "record_leaf_batch",
]

_READ_SIZE = 1 << 20
_NEED_DATA, _BATCH_READY, _LINE_REFUSED = 0, 1, 2
# Arrow types (as str(type)) whose buffers the accelerator reads directly.
_FLAT = frozenset(
    {"null", "bool", "halffloat", "float", "double", "string", "large_string"}
    | {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}
)
_STRINGS = frozenset({"string", "large_string"})


@dataclass(frozen=True)
class LeafBatch:
    """Consecutive records of a source as Merkle leaves."""

    hashes: bytes  # the leaf hashes, 32 bytes per record, in order
    count: int
    nbytes: int  # canonical bytes hashed
    # Records whose inferred schema is the whole batch's (empty unless samples were asked
    # for): SchemaInference.add_records(samples) == SchemaInference.add_records(batch).
    samples: Sequence[Record]


class RecordEncodingError(Exception):
    """A record has no canonical form: `error` is the pure code's, `index` the record's
    position (in its batch, or in the whole iteration after `index_errors`)."""

    def __init__(self, error: CanonicalEncodingError, index: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.index = index


def accelerated() -> bool:
    """True when the Rust accelerator is installed and switched on: this module needs it."""
    return _native.enabled


def leaf_batches(source: RecordSource, *, samples: bool) -> Iterator[LeafBatch]:
    """The leaves of every record of `source`, in order, batched as `source.batches()`."""
    return index_errors(_batches(source, samples))


def index_errors(batches: Iterator[LeafBatch]) -> Iterator[LeafBatch]:
    """Re-raise a batch's RecordEncodingError with the index counted from the first batch."""
    done = 0
    try:
        for batch in batches:
            yield batch
            done += batch.count
    except RecordEncodingError as exc:
        raise RecordEncodingError(exc.error, done + exc.index) from None


def _batches(source: RecordSource, samples: bool) -> Iterator[LeafBatch]:
    if isinstance(source, JsonLinesFile):
        yield from jsonl_leaf_batches(source.path, samples=samples)
    elif isinstance(source, ParquetFile):
        with pq.ParquetFile(source.path) as reader:
            for batch in reader.iter_batches(batch_size=BATCH_ROWS):
                yield arrow_leaf_batch(batch, samples=samples)
    elif isinstance(source, ArrowFile):
        for batch in source._arrow_batches():
            for offset in range(0, batch.num_rows, BATCH_ROWS):
                yield arrow_leaf_batch(batch.slice(offset, BATCH_ROWS), samples=samples)
    elif isinstance(source, _MultiFileSource):
        for part in source.parts():
            yield from _batches(part, samples)
    else:
        for records in source.batches():
            yield record_leaf_batch(records, samples=samples)


def record_leaf_batch(records: list[Record], *, samples: bool) -> LeafBatch:
    """Leaves of records already in memory (the accelerated `canonical_record`)."""
    try:
        hashes, nbytes = _native.accel.record_leaves(
            records, pure_canonical_json, pure_canonical_record
        )
    except CanonicalEncodingError as exc:
        raise RecordEncodingError(exc, _first_unencodable(records)) from None
    return LeafBatch(hashes, len(records), nbytes, records if samples else ())


def _first_unencodable(records: list[Record]) -> int:
    for index, record in enumerate(records):  # error path only: find the record
        try:
            pure_canonical_record(record)
        except CanonicalEncodingError:
            return index
    return 0


def arrow_leaf_batch(batch: pa.RecordBatch, *, samples: bool) -> LeafBatch:
    """Leaves of an Arrow batch: from the column buffers when every column is flat."""
    columns: list[tuple[str, int, Any, Any, Any]] = []
    for array in batch.columns:
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        kind = str(array.type)
        if kind not in _FLAT:
            break
        buffers = array.buffers()
        validity = buffers[0] if array.null_count else None
        if kind in _STRINGS:
            columns.append((kind, array.offset, validity, buffers[2], buffers[1]))
        else:
            values = buffers[1] if len(buffers) > 1 else None
            columns.append((kind, array.offset, validity, values, None))
    else:
        leaves = _native.accel.arrow_leaves(batch.schema.names, columns, batch.num_rows)
        if leaves is not None:  # None: a NaN, an infinity or bad UTF-8 for the Python path
            hashes, nbytes = leaves
            return LeafBatch(
                hashes, batch.num_rows, nbytes, batch_records(batch) if samples else ()
            )
    return record_leaf_batch(batch_records(batch), samples=samples)


def jsonl_leaf_batches(
    path: str | os.PathLike[str],
    *,
    samples: bool,
    start: int = 0,
    skip: int = 0,
    limit: int | None = None,
) -> Iterator[LeafBatch]:
    """Leaves of a JSON Lines file read from byte `start` (which must begin a line): `skip`
    records passed over unparsed, then at most `limit` records. Line numbers in errors
    count from `start`, as `JsonLinesFile` and the hasher's ranges do."""
    decode = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constants).decode

    def record(number: int, line: bytes) -> Record:
        try:
            value = decode(line.decode("utf-8"))
        except ValueError as exc:  # also UnicodeDecodeError and duplicate keys
            raise SourceError(f"{path}:{number}: {exc}") from None
        if type(value) is not dict:
            raise SourceError(f"{path}:{number}: a record must be a JSON object")
        return value

    reader = _native.accel.JsonLines(BATCH_ROWS, skip, limit)
    failed: RecordEncodingError | None = None  # raised once the batch's lines all decode
    with open(path, "rb") as handle:
        if start:
            handle.seek(start - 1)
            if handle.read(1) != b"\n":
                raise SourceError(f"{path}: byte {start} does not start a line (changed?)")
        while True:
            status = reader.advance()
            if status == _BATCH_READY:
                hashes, count, nbytes, lines = reader.take_batch()
                if failed is not None:
                    raise failed
                found = [record(number, line) for number, line in lines] if samples else []
                yield LeafBatch(hashes, count, nbytes, found)
            elif status == _LINE_REFUSED:
                number, line = reader.refused_line()
                value = record(number, line)
                try:
                    canonical = canonical_record(value)
                except CanonicalEncodingError as exc:
                    if failed is None:
                        failed = RecordEncodingError(exc, reader.batch_count)
                    canonical = b""
                reader.accept(canonical)
            elif reader.done:
                return
            elif chunk := handle.read(_READ_SIZE):
                reader.feed(chunk)
            else:
                reader.finish()
