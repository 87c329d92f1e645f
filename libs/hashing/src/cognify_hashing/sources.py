"""Dataset records from files: JSON Lines, Parquet, Arrow IPC (file and stream format), a
Hugging Face `save_to_disk` directory, or a directory of such files. With `filesystem`, the
only I/O in the package.

Every source yields plain dict records in order, a batch at a time, holding values that
`canonical_record` accepts, so the same rows in any format give the same Merkle root
(docs/spec/hashing.md, "Dataset sources").
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Union

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from cognify_hashing.arrow_values import batch_records
from cognify_hashing.schema import SchemaInference, describe_arrow_schema, merge_descriptions

__all__ = [
    "ArrowFile",
    "DataFileDirectory",
    "JsonLinesFile",
    "ParquetFile",
    "RecordSource",
    "SaveToDiskDataset",
    "SourceError",
    "open_source",
]

BATCH_ROWS = 4096
_JSONL = {".jsonl", ".ndjson"}
_PARQUET = {".parquet", ".pq"}
_ARROW = {".arrow", ".arrows", ".ipc", ".feather"}
_ARROW_FILE_MAGIC = b"ARROW1"

Record = dict[str, object]
_IpcReader = Union[ipc.RecordBatchFileReader, ipc.RecordBatchStreamReader]


class SourceError(ValueError):
    """The path is not a dataset this module can read, or its content is malformed."""


class RecordSource(ABC):
    """A dataset on disk: records in a fixed order, their number, and a schema description."""

    # False when schema() must read every record (JSON Lines has no schema of its own).
    schema_is_cheap = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @abstractmethod
    def batches(self) -> Iterator[list[Record]]:
        """The records in order, a few thousand at a time."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def schema(self) -> dict[str, object]: ...

    def records(self) -> Iterator[Record]:
        for batch in self.batches():
            yield from batch


def open_source(path: str | os.PathLike[str]) -> RecordSource:
    """The right reader for a file or directory, chosen by layout and file suffix."""
    target = Path(path)
    if target.is_dir():
        if (target / "dataset_dict.json").is_file():
            raise SourceError(f"{target} is a DatasetDict: point at one split's directory")
        if (target / "state.json").is_file():
            return SaveToDiskDataset(target)
        return DataFileDirectory(target)
    return _open_file(target)


def _suffix(name: str | Path) -> str:
    return Path(name).suffix.lower()


def _open_file(path: Path) -> RecordSource:
    suffix = _suffix(path)
    if not path.is_file():
        raise SourceError(f"no such dataset file: {path}")
    if suffix in _JSONL:
        return JsonLinesFile(path)
    if suffix in _PARQUET:
        return ParquetFile(path)
    if suffix in _ARROW:
        return ArrowFile(path)
    raise SourceError(f"unknown dataset file type {suffix!r}: {path}")


class JsonLinesFile(RecordSource):
    """One JSON object per line; blank lines are skipped; duplicate keys are an error."""

    schema_is_cheap = False

    def batches(self) -> Iterator[list[Record]]:
        decode = json.JSONDecoder(
            object_pairs_hook=_unique_keys, parse_constant=_no_constants
        ).decode
        batch: list[Record] = []
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = decode(line.decode("utf-8"))
                except ValueError as exc:  # also UnicodeDecodeError and duplicate keys
                    raise SourceError(f"{self.path}:{number}: {exc}") from None
                if type(value) is not dict:
                    raise SourceError(f"{self.path}:{number}: a record must be a JSON object")
                batch.append(value)
                if len(batch) == BATCH_ROWS:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def count(self) -> int:
        with self.path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())

    def schema(self) -> dict[str, object]:
        inference = SchemaInference()
        for batch in self.batches():
            inference.add_records(batch)
        return inference.describe()


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    record = dict(pairs)
    if len(record) != len(pairs):
        twice = sorted(key for key, seen in Counter(key for key, _ in pairs).items() if seen > 1)
        raise ValueError(f"duplicate keys {twice} make the object ambiguous")
    return record


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON and has no canonical encoding")


class ParquetFile(RecordSource):
    def batches(self) -> Iterator[list[Record]]:
        with pq.ParquetFile(self.path) as reader:
            for batch in reader.iter_batches(batch_size=BATCH_ROWS):
                yield batch_records(batch)

    def count(self) -> int:
        return int(pq.read_metadata(self.path).num_rows)

    def schema(self) -> dict[str, object]:
        return describe_arrow_schema(pq.read_schema(self.path))


class ArrowFile(RecordSource):
    """Arrow IPC in the random-access file format or the stream format (told by magic)."""

    def batches(self) -> Iterator[list[Record]]:
        for batch in self._arrow_batches():
            for offset in range(0, batch.num_rows, BATCH_ROWS):
                yield batch_records(batch.slice(offset, BATCH_ROWS))

    def count(self) -> int:
        return sum(batch.num_rows for batch in self._arrow_batches())

    def schema(self) -> dict[str, object]:
        with pa.memory_map(str(self.path)) as source:
            return describe_arrow_schema(self._reader(source).schema)

    def _arrow_batches(self) -> Iterator[pa.RecordBatch]:
        # Memory-mapped, so batches are zero-copy views and counting reads only headers.
        with pa.memory_map(str(self.path)) as source:
            reader = self._reader(source)
            if isinstance(reader, ipc.RecordBatchFileReader):
                for index in range(reader.num_record_batches):
                    yield reader.get_batch(index)
            else:
                yield from reader

    def _reader(self, source: pa.MemoryMappedFile) -> _IpcReader:
        is_file_format = source.read(len(_ARROW_FILE_MAGIC)) == _ARROW_FILE_MAGIC
        source.seek(0)
        try:
            return ipc.open_file(source) if is_file_format else ipc.open_stream(source)
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{self.path}: not an Arrow IPC file or stream: {exc}") from None


class _MultiFileSource(RecordSource):
    """Several files read one after the other, in a fixed order."""

    @abstractmethod
    def parts(self) -> list[RecordSource]: ...

    def batches(self) -> Iterator[list[Record]]:
        for part in self.parts():
            yield from part.batches()

    def count(self) -> int:
        return sum(part.count() for part in self.parts())

    def schema(self) -> dict[str, object]:
        return merge_descriptions(part.schema() for part in self.parts())


class SaveToDiskDataset(_MultiFileSource):
    """`datasets.Dataset.save_to_disk` output: Arrow stream shards listed in state.json."""

    def parts(self) -> list[RecordSource]:
        try:
            state = json.loads((self.path / "state.json").read_text(encoding="utf-8"))
            names = [str(entry["filename"]) for entry in state["_data_files"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{self.path}/state.json lists no data files: {exc}") from None
        for name in names:
            if "/" in name or "\\" in name or name in ("", ".", ".."):
                raise SourceError(f"{self.path}/state.json names a file outside it: {name!r}")
        return [ArrowFile(self.path / name) for name in names]


class DataFileDirectory(_MultiFileSource):
    """The dataset files directly in a directory, in the byte order of their UTF-8 names.

    Names starting with "." or "_" (.DS_Store, _SUCCESS, _metadata) are not data.
    """

    @property
    def schema_is_cheap(self) -> bool:  # type: ignore[override]
        return all(part.schema_is_cheap for part in self.parts())

    def parts(self) -> list[RecordSource]:
        known = _JSONL | _PARQUET | _ARROW
        with os.scandir(self.path) as listing:
            names = [entry.name for entry in listing if entry.is_file()]
        names = [name for name in names if name[0] not in "._" and _suffix(name) in known]
        names.sort(key=lambda name: name.encode("utf-8", "surrogateescape"))
        if not names:
            raise SourceError(f"no .jsonl, .parquet or .arrow files in {self.path}")
        return [_open_file(self.path / name) for name in names]
