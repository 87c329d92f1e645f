"""JSON-able schema descriptions of datasets, in Arrow's type vocabulary.

    {"columns": [{"name": "prompt", "type": "string"}, {"name": "score", "type": "double"}]}

Columns keep the source's order (first appearance for JSON Lines). A column seen with
several types lists them joined by "|" ("int64|string"); null alone is "null", and is
dropped beside any other type; int64 beside double is double, as Arrow itself infers.
The description documents a dataset; it is not part of its Merkle root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa

__all__ = ["SchemaInference", "describe_arrow_schema", "merge_descriptions"]

_UNTYPED = "json"  # a column whose values Arrow cannot hold in one array


def describe_arrow_schema(schema: pa.Schema) -> dict[str, object]:
    return {"columns": [{"name": field.name, "type": str(field.type)} for field in schema]}


class SchemaInference:
    """Accumulates column types from batches of records (or from other descriptions)."""

    def __init__(self) -> None:
        self._types: dict[str, set[str]] = {}

    def add_records(self, records: Sequence[Mapping[str, object]]) -> None:
        if not records:
            return
        try:
            struct = pa.array(records).type
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            self._add_columnwise(records)
            return
        for index in range(struct.num_fields):
            field = struct.field(index)
            self._note(field.name, str(field.type))

    def add_description(self, description: Mapping[str, object]) -> None:
        columns = description.get("columns")
        if not isinstance(columns, list):
            raise ValueError("a schema description holds a 'columns' list")
        for column in columns:
            for kind in str(column["type"]).split("|"):
                self._note(str(column["name"]), kind)

    def describe(self) -> dict[str, object]:
        return {
            "columns": [{"name": name, "type": _join(kinds)} for name, kinds in self._types.items()]
        }

    def _add_columnwise(self, records: Sequence[Mapping[str, object]]) -> None:
        names = list(dict.fromkeys(name for record in records for name in record))
        for name in names:
            try:
                kind = str(pa.array([record.get(name) for record in records]).type)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                kind = _UNTYPED
            self._note(name, kind)

    def _note(self, name: str, kind: str) -> None:
        self._types.setdefault(name, set()).add(kind)


def merge_descriptions(descriptions: Iterable[Mapping[str, object]]) -> dict[str, object]:
    inference = SchemaInference()
    for description in descriptions:
        inference.add_description(description)
    return inference.describe()


def _join(kinds: set[str]) -> str:
    concrete = kinds - {"null"}
    if not concrete:
        return "null"
    if concrete == {"int64", "double"}:
        return "double"
    return "|".join(sorted(concrete))
