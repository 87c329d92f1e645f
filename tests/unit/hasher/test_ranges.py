"""A chunk reads exactly its record range, whatever the format, so chunk roots combine into
the root of the whole dataset. Every test runs on the Rust accelerator and on the pure-Python
path of cognify_hashing, and the two are compared range by range."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from cognify_hasher.jobs import plan_dataset
from cognify_hasher.progress import Progress
from cognify_hasher.ranges import hash_range, record_batches
from cognify_hashing import (
    CanonicalEncodingError,
    SourceError,
    _native,
    combine_chunks,
    hash_dataset,
    open_source,
    parse_digest,
)

N = 1_000


@pytest.fixture(autouse=True, params=["native", "pure"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native" and _native.accel is None:
        pytest.fail(f"the Rust accelerator is not importable: {_native.IMPORT_ERROR}")
    monkeypatch.setattr(_native, "enabled", request.param == "native")
    return str(request.param)


def _records() -> list[dict[str, Any]]:
    return [{"id": i, "text": f"row {i}", "score": i / 4, "tags": [i % 3]} for i in range(N)]


def _jsonl(tmp: Path) -> Path:
    path = tmp / "d.jsonl"
    lines = [json.dumps(r) + ("\n\n" if r["id"] % 97 == 0 else "\n") for r in _records()]
    path.write_text("".join(lines))
    return path


def _parquet(tmp: Path) -> Path:
    path = tmp / "d.parquet"
    pq.write_table(pa.Table.from_pylist(_records()), path, row_group_size=70)
    return path


def _arrow_file(tmp: Path) -> Path:
    path = tmp / "d.arrow"
    table = pa.Table.from_pylist(_records())
    with ipc.new_file(str(path), table.schema) as writer:
        for batch in table.to_batches(max_chunksize=130):
            writer.write_batch(batch)
    return path


def _arrow_stream(tmp: Path) -> Path:
    path = tmp / "d.arrows"
    table = pa.Table.from_pylist(_records())
    with ipc.new_stream(str(path), table.schema) as writer:
        for batch in table.to_batches(max_chunksize=90):
            writer.write_batch(batch)
    return path


def _directory(tmp: Path) -> Path:
    directory = tmp / "parts"
    directory.mkdir()
    records = _records()
    for n, lo in enumerate(range(0, N, 300)):
        part = records[lo : lo + 300]
        if n % 2:
            pq.write_table(pa.Table.from_pylist(part), directory / f"part-{n}.parquet")
        else:
            (directory / f"part-{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    return directory


def _save_to_disk(tmp: Path) -> Path:
    from datasets import Dataset

    path = tmp / "saved"
    Dataset.from_list(_records()).save_to_disk(str(path), max_shard_size=20_000)
    return path


SOURCES = [_jsonl, _parquet, _arrow_file, _arrow_stream, _directory, _save_to_disk]


@pytest.mark.parametrize("make", SOURCES, ids=lambda f: f.__name__.strip("_"))
def test_a_range_holds_exactly_those_records(tmp_path: Path, make: Any) -> None:
    source = open_source(make(tmp_path))
    everything = list(source.records())
    for offset, count in [(0, 10), (65, 140), (299, 2), (512, 488), (999, 1)]:
        got = [r for batch in record_batches(source, offset, count) for r in batch]
        assert got == everything[offset : offset + count], (offset, count)


@pytest.mark.parametrize("make", SOURCES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("chunk", [16, 256, 1024])
def test_chunk_roots_combine_into_the_unchunked_root(tmp_path: Path, make: Any, chunk: int) -> None:
    path = make(tmp_path)
    expected = hash_dataset(path)
    source = open_source(path)
    plan = plan_dataset(N, chunk) or []
    if not plan:
        digest = hash_range(source, Progress("dataset"))
        assert digest.root == expected.root and digest.record_count == N
        return
    parts = [
        hash_range(source, Progress("dataset"), spec.record_offset or 0, spec.record_count)
        for spec in plan
    ]
    combined = combine_chunks([(d.record_count, parse_digest(d.root)) for d in parts])
    assert "sha256:" + combined.hex() == expected.root


def test_a_range_beyond_the_end_is_refused(tmp_path: Path) -> None:
    from cognify_hashing import SourceError

    with pytest.raises(SourceError, match="fewer than the 1024 planned"):
        hash_range(open_source(_jsonl(tmp_path)), Progress("dataset"), 512, 512)


def test_json_lines_chunks_seek_to_the_byte_offsets_found_when_planning(tmp_path: Path) -> None:
    from cognify_hasher.ranges import jsonl_offsets

    path = _jsonl(tmp_path)  # blank lines after some records: not records
    count, offsets = jsonl_offsets(path, 128)
    assert count == N and len(offsets) == 8
    source = open_source(path)
    everything = list(source.records())
    for index, start in enumerate(offsets):
        got = [r for b in record_batches(source, index * 128, 128, start) for r in b]
        assert got == everything[index * 128 : index * 128 + 128]
    from cognify_hashing import SourceError

    with pytest.raises(SourceError, match="does not start a line"):
        list(record_batches(source, 128, 128, offsets[1] + 1))


def _both(*args: Any) -> tuple[Any, Any]:
    """(accelerated, pure) outcome of hash_range(source, *args): its result, or its error
    type and message."""

    def outcome() -> Any:
        try:
            return hash_range(args[0], Progress("dataset"), *args[1:])
        except (SourceError, CanonicalEncodingError) as exc:
            return type(exc), str(exc)

    enabled = _native.enabled
    try:
        _native.enabled = True
        native = outcome()
        _native.enabled = False
        return native, outcome()
    finally:
        _native.enabled = enabled


@pytest.mark.parametrize("make", SOURCES, ids=lambda f: f.__name__.strip("_"))
def test_ranges_hash_alike_with_and_without_the_accelerator(tmp_path: Path, make: Any) -> None:
    source = open_source(make(tmp_path))
    for offset, count in [(0, 10), (65, 140), (299, 2), (512, 488), (999, 1), (0, N)]:
        native, pure = _both(source, offset, count)
        assert native == pure, (offset, count)
    native, pure = _both(source)
    assert native == pure


def test_json_lines_errors_name_the_same_line_and_record(tmp_path: Path) -> None:
    from cognify_hasher.ranges import jsonl_offsets

    lines = [json.dumps({"i": i}) for i in range(300)]
    lines[140] = '{"i": 1e400}'
    lines[201] = '{"i": }'
    path = tmp_path / "errors.jsonl"
    path.write_text("\n".join(lines) + "\n")
    source = open_source(path)
    _, offsets = jsonl_offsets(path, 128)
    cases = [(0, 128, None), (128, 64, None), (128, 128, offsets[1]), (256, 44, offsets[2])]
    cases += [(128, 128, offsets[1] + 1), (0, 300, None)]
    for offset, count, start in cases:
        native, pure = _both(source, offset, count, start)
        assert native == pure, (offset, count, start)
    assert _both(source, 128, 64)[0][1].startswith("record 140: column 'i'")
