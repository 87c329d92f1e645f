"""`cognify.dataset`: register a dataset version with the run.

Accepts a Hugging Face `Dataset` or `DatasetDict`, a `save_to_disk` directory, Arrow or
Parquet files, or JSON Lines. Records the count, schema and provenance. The Merkle root of a
dataset with a `source_path` is computed by the hasher pool from that path (so the training
node does not spend its time on it); an in-memory dataset with no path is hashed here, with
the same shared hashing code, so both give the same root for the same records.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cognify_events as ev
from cognify_hashing import MerkleBuilder, format_digest, open_source
from cognify_hashing.arrow_values import batch_records
from cognify_hashing.schema import describe_arrow_schema

from . import provenance as prov
from .redaction import jsonable


class DatasetError(ValueError):
    """The dataset argument is not something Cognify can register; the message says why."""


@dataclass(frozen=True)
class DatasetRef:
    """What `cognify.dataset` returns: pass it to the callback and to `cognify.eval`."""

    dataset_id: str
    name: str
    version: str
    record_count: int | None
    merkle_root: str | None = None
    source_uri: str | None = None
    warnings: tuple[str, ...] = ()
    splits: Mapping[str, DatasetRef] = field(default_factory=dict)

    def __getitem__(self, split: str) -> DatasetRef:
        return self.splits[split]


def dataset_id(name: str, version: str, split: str | None = None) -> str:
    raw = f"ds_{name}_{version}" + (f"_{split}" if split else "")
    return re.sub(r"[^A-Za-z0-9._:@-]", "-", raw)[:128]


def _is_hf(obj: Any, kind: str) -> bool:
    return any(
        c.__name__ == kind and c.__module__.startswith("datasets") for c in type(obj).__mro__
    )


def _hf_batches(ds: Any) -> Iterator[list[dict[str, object]]]:
    # `iter` respects select/shuffle index mappings, unlike the raw table.
    for table in ds.with_format("arrow").iter(batch_size=4096):
        for batch in table.to_batches():
            yield batch_records(batch)


def _in_memory_root(batches: Iterator[list[dict[str, object]]]) -> tuple[str, int]:
    builder = MerkleBuilder()
    for batch in batches:
        builder.add_records(batch)
    return format_digest(builder.root()), builder.size


@dataclass
class Registration:
    """Everything `dataset.registered` carries, before the run turns it into an event."""

    payload: ev.DatasetRegisteredPayload
    ref: DatasetRef


def describe(
    dataset: Any,
    name: str,
    version: str,
    source_path: str | os.PathLike[str] | None,
    provenance: Mapping[str, Any] | None,
    tier: str,
    role: str = "other",
    split: str | None = None,
    *,
    required: Sequence[str] | None = None,
    workspace_tier: bool = False,
) -> Registration:
    """The registration of a dataset, its provenance checked against `tier` (`required`:
    the fields it requires, when ingest said which; `workspace_tier`: the tier is the
    workspace's)."""
    provenance = dict(provenance or {})
    source = str(Path(source_path).resolve()) if source_path else None
    if isinstance(dataset, (str, os.PathLike)):
        source = source or str(Path(dataset).resolve())
        if not Path(source).exists():
            raise DatasetError(f"dataset path {source} does not exist")
        try:
            reader = open_source(source)
            count, schema, fmt = reader.count(), reader.schema(), type(reader).__name__
        except ValueError as exc:
            raise DatasetError(f"cannot read dataset at {source}: {exc}") from None
        root = None
    elif _is_hf(dataset, "Dataset"):
        count, schema, fmt = len(dataset), describe_arrow_schema(dataset.data.schema), "datasets"
        root = None
        if source is None:
            root, count = _in_memory_root(_hf_batches(dataset))
    else:
        raise DatasetError(
            f"cognify.dataset got a {type(dataset).__name__}; expected a datasets.Dataset or "
            "DatasetDict, or a path to a save_to_disk directory, Parquet, Arrow or JSONL data"
        )
    warnings = prov.check(provenance, tier, name, required, workspace=workspace_tier)
    ident = dataset_id(name, version, split)
    payload = ev.DatasetRegisteredPayload(
        dataset_id=ident,
        name=name,
        version=version,
        role=role if role in ("train", "eval") else "other",
        source_uri=source,
        record_count=count,
        record_schema=jsonable(schema),
        provenance=jsonable(provenance),
        provenance_warnings=warnings,
        merkle_root=root,
        format=fmt,
    )
    ref = DatasetRef(
        dataset_id=ident,
        name=name,
        version=version,
        record_count=count,
        merkle_root=root,
        source_uri=source,
        warnings=tuple(warnings),
    )
    return Registration(payload, ref)


def split_items(
    dataset: Any, source_path: str | os.PathLike[str] | None
) -> list[tuple[str, Any, str | None]] | None:
    """For a DatasetDict (object or on disk): (split, dataset, split source path) each."""
    if _is_hf(dataset, "DatasetDict"):
        base = Path(source_path) if source_path else None
        return [(s, dataset[s], str(base / s) if base else None) for s in sorted(dataset)]
    if isinstance(dataset, (str, os.PathLike)) and (Path(dataset) / "dataset_dict.json").exists():
        return [
            (p.name, str(p), str(p))
            for p in sorted(Path(dataset).iterdir())
            if p.is_dir() and (p / "state.json").exists()
        ]
    return None
