"""Record ranges of a dataset: what one chunk of a split dataset job reads and hashes.

A range [offset, offset + count) is read without decoding the records before it: JSON Lines
skips lines unparsed, Parquet skips whole row groups, Arrow skips batches by their length,
and a multi-file dataset skips whole files by their record counts. Within the range the
records are exactly those `RecordSource.batches()` yields, so a chunk's subtree root is the
one the unchunked tree holds. With the Rust accelerator of cognify_hashing enabled, the same
ranges are hashed as leaf batches (`cognify_hashing.leaves`) instead of records.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from cognify_hashing import MerkleBuilder, _native, canonical_record, format_digest
from cognify_hashing.arrow_values import batch_records
from cognify_hashing.canonical import CanonicalEncodingError
from cognify_hashing.leaves import (
    LeafBatch,
    RecordEncodingError,
    accelerated,
    arrow_leaf_batch,
    index_errors,
    jsonl_leaf_batches,
    leaf_batches,
)
from cognify_hashing.schema import SchemaInference
from cognify_hashing.sources import (
    BATCH_ROWS,
    ArrowFile,
    JsonLinesFile,
    ParquetFile,
    Record,
    RecordSource,
    SourceError,
    _no_constants,
    _unique_keys,
)

from .jobs import DatasetDigest
from .progress import Progress


def hash_range(
    source: RecordSource,
    progress: Progress,
    offset: int = 0,
    count: int | None = None,
    byte_offset: int | None = None,
) -> DatasetDigest:
    """Root, count and schema of records [offset, offset + count) (all when count is None).
    `bytes_hashed` counts the canonical bytes of the records (the leaf data)."""
    builder = MerkleBuilder()
    inference = None if source.schema_is_cheap else SchemaInference()
    nbytes = 0
    if accelerated():
        samples = inference is not None
        if count is None:
            leaves = leaf_batches(source, samples=samples)
        else:
            leaves = index_errors(leaf_range(source, offset, count, byte_offset, samples=samples))
        try:
            for leaf_batch in leaves:
                builder.add_leaf_hashes(leaf_batch.hashes)
                nbytes += leaf_batch.nbytes
                if inference is not None:
                    inference.add_records(leaf_batch.samples)
                progress.add(leaf_batch.nbytes, leaf_batch.count)
        except RecordEncodingError as exc:
            raise CanonicalEncodingError(f"record {offset + exc.index}: {exc.error}") from None
    else:
        if count is None:
            batches = source.batches()
        else:
            batches = record_batches(source, offset, count, byte_offset)
        for batch in batches:
            datas = _encode(batch, offset + builder.size)
            builder.add_leaves(datas)
            size = sum(map(len, datas))
            nbytes += size
            if inference is not None:
                inference.add_records(batch)
            progress.add(size, len(batch))
    if count is not None and builder.size != count:
        raise SourceError(
            f"{source.path} holds {offset + builder.size} records, fewer than the "
            f"{offset + count} planned: it changed after the job was planned"
        )
    schema = inference.describe() if inference is not None else source.schema()
    return DatasetDigest(format_digest(builder.root()), builder.size, schema, nbytes)


def _encode(batch: list[Record], first: int) -> list[bytes]:
    try:
        return [canonical_record(record) for record in batch]
    except CanonicalEncodingError:
        for index, record in enumerate(batch):  # error path only: name the record
            try:
                canonical_record(record)
            except CanonicalEncodingError as exc:
                raise CanonicalEncodingError(f"record {first + index}: {exc}") from None
        raise


def record_batches(
    source: RecordSource, offset: int, count: int, byte_offset: int | None = None
) -> Iterator[list[Record]]:
    """Records [offset, offset + count) of any source `open_source` returns, in batches.
    For a JSON Lines file, `byte_offset` (from `jsonl_offsets`) says where record `offset`
    starts, and no line before it is read."""
    if isinstance(source, JsonLinesFile):
        if byte_offset is None:
            yield from _jsonl(source.path, offset, count)
        else:
            yield from _jsonl(source.path, 0, count, byte_offset)
    elif isinstance(source, ParquetFile):
        yield from map(batch_records, _parquet(source.path, offset, count))
    elif isinstance(source, ArrowFile):
        yield from map(batch_records, _arrow(source, offset, count))
    else:  # several files one after the other (save_to_disk, a directory of files)
        for part, part_offset, take in _parts(source, offset, count):
            yield from record_batches(part, part_offset, take)


def leaf_range(
    source: RecordSource,
    offset: int,
    count: int,
    byte_offset: int | None = None,
    *,
    samples: bool,
) -> Iterator[LeafBatch]:
    """`record_batches` as leaf batches (the accelerated path): the same records, hashed.
    Encoding errors carry the record's index within its batch (see `index_errors`)."""
    if isinstance(source, JsonLinesFile):
        if byte_offset is None:
            yield from jsonl_leaf_batches(source.path, samples=samples, skip=offset, limit=count)
        else:
            yield from jsonl_leaf_batches(
                source.path, samples=samples, start=byte_offset, limit=count
            )
    elif isinstance(source, ParquetFile | ArrowFile):
        if isinstance(source, ParquetFile):
            arrow_batches = _parquet(source.path, offset, count)
        else:
            arrow_batches = _arrow(source, offset, count)
        for batch in arrow_batches:
            yield arrow_leaf_batch(batch, samples=samples)
    else:
        for part, part_offset, take in _parts(source, offset, count):
            yield from leaf_range(part, part_offset, take, samples=samples)


def _parts(
    source: RecordSource, offset: int, count: int
) -> Iterator[tuple[RecordSource, int, int]]:
    """(part, offset in it, records to take) of a multi-file source's range, skipping whole
    files by their record counts."""
    parts: list[RecordSource] = source.parts()  # type: ignore[attr-defined]
    for part in parts:
        if count <= 0:
            return
        size = part.count()
        if offset >= size:
            offset -= size
            continue
        take = min(size - offset, count)
        yield part, offset, take
        offset, count = 0, count - take


_SCAN_READ = 1 << 20
# Planning on several threads: a file of at least two regions of this size is cut at line
# starts into one region per thread, scanned at once (reads and the native scan drop the
# GIL). Only the first region's offsets line up with `every`; the others note where every
# `_SAMPLE`-th of their records starts, and each offset falling in them is found by
# scanning forward from the sample before it (at most _SAMPLE - 1 records).
_REGION_BYTES = 16 << 20
_SAMPLE = 64
_WINDOW = 16 << 10  # the first read of such a forward scan (doubled while too short)


def jsonl_offsets(
    path: Path,
    every: int,
    threads: int = 1,
    *,
    region_bytes: int = _REGION_BYTES,
    sample: int = _SAMPLE,
) -> tuple[int, list[int]]:
    """(number of records, byte position of records 0, every, 2 * every, ...) of a JSON
    Lines file, counting records as `JsonLinesFile` does (blank lines are not records).

    The planning pass of a split JSON Lines job, serial before any chunk starts: with the
    Rust accelerator it is a newline scan of the bytes (`JsonlOffsets`) fed from reads here
    (so open and read errors are Python's), on up to `threads` regions of the file at once
    when `every` is at least 16 samples; `pure_jsonl_offsets` is the reference it equals.
    """
    if every < 1:
        raise ValueError(f"every must be a positive number of records, got {every}")
    if not accelerated():
        return pure_jsonl_offsets(path, every)
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        regions = min(threads, size // max(1, region_bytes))
        if regions < 2 or every < 16 * sample:
            return _scan(handle, 0, size, every)
        cuts = {_line_start(handle, size * k // regions, size) for k in range(1, regions)}
        bounds = sorted({0, size, *cuts})
        spans = list(itertools.pairwise(bounds))

        def scan(span: tuple[int, int]) -> tuple[int, list[int]]:
            return _scan_file(path, *span, every if span[0] == 0 else sample)

        with ThreadPoolExecutor(len(spans), thread_name_prefix="plan") as pool:
            scans = list(pool.map(scan, spans))
        count, offsets = scans[0]
        for (start, _), (records, samples) in zip(spans[1:], scans[1:], strict=True):
            wanted = -(-count // every) * every  # the first record index due in this region
            for index in range(wanted - count, records, every):
                at = start + samples[index // sample]
                ahead = index % sample
                offsets.append(_record_after(handle, at, ahead, path) if ahead else at)
            count += records
    return count, offsets


def _scan(handle: io.FileIO, start: int, end: int, every: int) -> tuple[int, list[int]]:
    """The native scan of bytes [start, end) (a region starting a line), its offsets counted
    from `start`."""
    scan = _native.accel.JsonlOffsets(every)
    buffer = bytearray(_SCAN_READ)
    view = memoryview(buffer)
    handle.seek(start)
    left = end - start
    while left > 0 and (count := handle.readinto(view[: min(_SCAN_READ, left)])):
        scan.feed(view[:count])
        left -= count
    return scan.finish()


def _scan_file(path: Path, start: int, end: int, every: int) -> tuple[int, list[int]]:
    with open(path, "rb", buffering=0) as handle:
        return _scan(handle, start, end, every)


def _line_start(handle: io.FileIO, at: int, size: int) -> int:
    """The first position >= `at` that starts a line (`size` when none does)."""
    handle.seek(at - 1)
    position = at - 1
    while piece := handle.read(_WINDOW):
        newline = piece.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(piece)
    return size


def _record_after(handle: io.FileIO, at: int, ahead: int, path: Path) -> int:
    """Where the record `ahead` records after the one starting at `at` starts."""
    window = _WINDOW
    while True:
        handle.seek(at)
        piece = handle.read(window)
        scan = _native.accel.JsonlOffsets(ahead)
        scan.feed(piece)
        _, offsets = scan.finish()
        if len(offsets) > 1:
            return at + offsets[1]
        if len(piece) < window:
            raise SourceError(f"{path} changed while it was planned (it ends too early)")
        window *= 2


def pure_jsonl_offsets(path: Path, every: int) -> tuple[int, list[int]]:
    """`jsonl_offsets` line by line in Python: the reference definition (lines end at
    b"\\n"; a line that `bytes.strip()` empties is blank; an offset is where a line starts)."""
    count, position, offsets = 0, 0, []
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                if count % every == 0:
                    offsets.append(position)
                count += 1
            position += len(line)
    return count, offsets


def _jsonl(path: Path, offset: int, count: int, start: int = 0) -> Iterator[list[Record]]:
    decode = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constants).decode
    index, end = 0, offset + count
    batch: list[Record] = []
    with path.open("rb") as handle:
        if start:
            handle.seek(start - 1)
            if handle.read(1) != b"\n":  # now at `start`
                raise SourceError(f"{path}: byte {start} does not start a line (changed?)")
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            index += 1
            if index <= offset:
                continue
            try:
                value = decode(line.decode("utf-8"))
            except ValueError as exc:
                raise SourceError(f"{path}:{number}: {exc}") from None
            if type(value) is not dict:
                raise SourceError(f"{path}:{number}: a record must be a JSON object")
            batch.append(value)
            if len(batch) == BATCH_ROWS:
                yield batch
                batch = []
            if index >= end:
                break
    if batch:
        yield batch


def _sliced(batches: Iterator[pa.RecordBatch], offset: int, count: int) -> Iterator[pa.RecordBatch]:
    """Rows [offset, offset + count) of consecutive Arrow batches, skipping whole batches,
    in slices of at most BATCH_ROWS rows."""
    position, end = 0, offset + count
    for batch in batches:
        start, stop = position, position + batch.num_rows
        position = stop
        if stop <= offset:
            continue
        lo, hi = max(offset, start) - start, min(end, stop) - start
        for at in range(lo, hi, BATCH_ROWS):
            yield batch.slice(at, min(BATCH_ROWS, hi - at))
        if stop >= end:
            return


def _parquet(path: Path, offset: int, count: int) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(path) as reader:
        groups, skipped, position = [], 0, 0
        for index in range(reader.metadata.num_row_groups):
            rows = reader.metadata.row_group(index).num_rows
            if position + rows <= offset:
                skipped += rows
            elif position < offset + count:
                groups.append(index)
            position += rows
        if groups:
            batches = reader.iter_batches(batch_size=BATCH_ROWS, row_groups=groups)
            yield from _sliced(batches, offset - skipped, count)


def _arrow(source: ArrowFile, offset: int, count: int) -> Iterator[pa.RecordBatch]:
    with pa.memory_map(str(source.path)) as mapped:
        reader = source._reader(mapped)
        if isinstance(reader, ipc.RecordBatchFileReader):
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            yield from _sliced(batches, offset, count)
        else:
            yield from _sliced(iter(reader), offset, count)
