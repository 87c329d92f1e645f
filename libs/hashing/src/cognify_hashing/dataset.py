"""A dataset's identity: its Merkle root, record count and schema, from records or a path."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from cognify_hashing import _native
from cognify_hashing.digest import format_digest
from cognify_hashing.leaves import RecordEncodingError, leaf_batches
from cognify_hashing.merkle import MerkleBuilder
from cognify_hashing.schema import SchemaInference
from cognify_hashing.sources import Record, open_source

__all__ = ["DatasetDigest", "hash_dataset", "hash_records", "iter_records"]


@dataclass(frozen=True)
class DatasetDigest:
    root: str  # "sha256:<hex>"
    record_count: int
    schema: dict[str, object]


def hash_records(records: Iterable[Mapping[str, object]]) -> tuple[int, bytes]:
    """(number of records, RFC 6962 root over their canonical bytes)."""
    builder = MerkleBuilder()
    builder.add_records(records)
    return builder.size, builder.root()


def iter_records(path: str | os.PathLike[str]) -> Iterator[Record]:
    """The records of the dataset at `path`, in order (any format `open_source` reads)."""
    return open_source(path).records()


def hash_dataset(path: str | os.PathLike[str]) -> DatasetDigest:
    """Read a dataset once and return its root, count and schema description."""
    source = open_source(path)
    builder = MerkleBuilder()
    inference = None if source.schema_is_cheap else SchemaInference()
    if _native.enabled:
        try:
            for leaves in leaf_batches(source, samples=inference is not None):
                builder.add_leaf_hashes(leaves.hashes)
                if inference is not None:
                    inference.add_records(leaves.samples)
        except RecordEncodingError as exc:
            raise exc.error from None
    else:
        for batch in source.batches():
            builder.add_records(batch)
            if inference is not None:
                inference.add_records(batch)
    schema = inference.describe() if inference is not None else source.schema()
    return DatasetDigest(
        root=format_digest(builder.root()), record_count=builder.size, schema=schema
    )
