"""Arrow columns to the Python values that canonical records are built from.

`RecordBatch.to_pylist()` does almost everything; this module fixes the few Arrow types whose
Python form would break format independence or cannot be built (docs/spec/hashing.md,
"Arrow values"):

- float32 becomes the double nearest its shortest single-precision decimal, so a Parquet
  float32 0.1 hashes like JSONL's 0.1 (widening it exactly would give 0.10000000149...);
- float16 is widened exactly to float64;
- timestamp[ns] and time64[ns] become their canonical ISO 8601 text directly, because
  Python datetimes stop at microseconds (the text equals what a datetime would give).
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["batch_records", "normalise_array"]

_TRAILING_ZERO_FRACTION = r"\.?0+$"  # ns text always has 9 fraction digits, so this is safe


def batch_records(batch: pa.RecordBatch) -> list[dict[str, object]]:
    """The records of one batch as Python dicts, Arrow types normalised as above."""
    if _needs_change_schema(batch.schema):
        columns = [normalise_array(column) for column in batch.columns]
        batch = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
    records: list[dict[str, object]] = batch.to_pylist()
    return records


def _needs_change_schema(schema: pa.Schema) -> bool:
    return any(_needs_change(field.type) for field in schema)


@lru_cache(maxsize=256)
def _needs_change(kind: pa.DataType) -> bool:
    if kind in (pa.float16(), pa.float32()):
        return True
    if pa.types.is_timestamp(kind) or pa.types.is_time64(kind):
        return bool(kind.unit == "ns")
    if pa.types.is_dictionary(kind):
        return _needs_change(kind.value_type)
    return any(_needs_change(kind.field(i).type) for i in range(kind.num_fields))


def normalise_array(array: pa.Array) -> pa.Array:
    """Rewrite `array` so that `to_pylist()` gives canonical-ready values (see module doc)."""
    kind = array.type
    if not _needs_change(kind):
        return array
    if kind == pa.float16():
        return array.cast(pa.float64())
    if kind == pa.float32():
        return array.cast(pa.string()).cast(pa.float64())
    if pa.types.is_timestamp(kind):
        return _timestamp_ns_text(array)
    if pa.types.is_time64(kind):
        return pc.replace_substring_regex(
            array.cast(pa.string()), pattern=_TRAILING_ZERO_FRACTION, replacement=""
        )
    if pa.types.is_dictionary(kind):
        return normalise_array(array.dictionary_decode())
    if pa.types.is_struct(kind):
        fields = [normalise_array(child) for child in array.flatten()]
        return pa.StructArray.from_arrays(
            fields, names=[kind.field(i).name for i in range(kind.num_fields)], mask=array.is_null()
        )
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        factory = pa.ListArray if pa.types.is_list(kind) else pa.LargeListArray
        offsets, start, stop = _rebased_offsets(array)
        values = normalise_array(array.values.slice(start, stop - start))
        return factory.from_arrays(offsets, values, mask=array.is_null())
    if pa.types.is_map(kind):
        offsets, start, stop = _rebased_offsets(array)
        keys = normalise_array(array.keys.slice(start, stop - start))
        items = normalise_array(array.items.slice(start, stop - start))
        return pa.MapArray.from_arrays(offsets, keys, items, mask=array.is_null())
    if pa.types.is_fixed_size_list(kind):
        size = kind.list_size
        values = array.values.slice(array.offset * size, len(array) * size)
        return pa.FixedSizeListArray.from_arrays(
            normalise_array(values), size, mask=array.is_null()
        )
    raise TypeError(f"cannot normalise Arrow type {kind} for hashing")


def _rebased_offsets(array: pa.Array) -> tuple[pa.Array, int, int]:
    """Offsets of a (possibly sliced) list-like array shifted to start at zero."""
    offsets = array.offsets
    start, stop = offsets[0].as_py(), offsets[-1].as_py()
    return pc.subtract(offsets, pa.scalar(start, offsets.type)), start, stop


def _timestamp_ns_text(array: pa.Array) -> pa.Array:
    aware = array.type.tz is not None
    if aware:
        array = array.cast(pa.timestamp("ns", "UTC"))
    text = pc.strftime(array, format="%Y-%m-%dT%H:%M:%S")
    text = pc.replace_substring_regex(text, pattern=_TRAILING_ZERO_FRACTION, replacement="")
    if aware:
        text = pc.binary_join_element_wise(text, pa.scalar("Z"), pa.scalar(""))
    return text
