"""Canonical bytes of one dataset record: RFC 8785 (JCS) plus Cognify's type mapping.

A record is a mapping of column name to value; its canonical bytes are the Merkle leaf data
(docs/spec/hashing.md, section "Canonical record encoding", format version 1). Values that
JSON lacks map to JSON strings: bytes as base64, dates and times as ISO 8601, decimals as
plain decimal text. Integers keep their exact digits at any size.

`pure_canonical_record` and `pure_canonical_json` are the reference implementation. The
public functions use the Rust accelerator when it is enabled (`cognify_hashing._native`):
it encodes plain JSON values itself, asks the pure code for any other value, and hands the
whole record to the pure code when it refuses one (NaN, lone surrogate, non-string key...),
so the bytes and the errors are the pure code's.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring

from cognify_hashing import _native
from cognify_hashing.numbers import format_decimal, format_float, format_int

__all__ = [
    "CanonicalEncodingError",
    "canonical_json",
    "canonical_record",
    "pure_canonical_json",
    "pure_canonical_record",
]


class CanonicalEncodingError(ValueError):
    """A value has no canonical encoding (NaN, an unsupported type, a lone surrogate...)."""


class _Problem(Exception):
    """Internal: why a value was refused and where, built up while the stack unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str | int] = []


def canonical_record(record: Mapping[str, object]) -> bytes:
    """Canonical UTF-8 bytes of a record; errors name the offending column."""
    if _native.enabled:
        return _native.accel.canonical_record(record, pure_canonical_json, pure_canonical_record)
    return pure_canonical_record(record)


def canonical_json(value: object) -> bytes:
    """Canonical UTF-8 bytes of any supported value (a record, a list, a scalar...)."""
    if _native.enabled:
        return _native.accel.canonical_json(value, pure_canonical_json, pure_canonical_json)
    return pure_canonical_json(value)


def pure_canonical_record(record: Mapping[str, object]) -> bytes:
    """`canonical_record` in pure Python: the reference implementation."""
    out: list[str] = []
    try:
        _encode_object(record, out)
    except _Problem as problem:
        raise _as_error(problem, record=True) from None
    return _to_utf8(out, record)


def pure_canonical_json(value: object) -> bytes:
    """`canonical_json` in pure Python: the reference implementation."""
    out: list[str] = []
    try:
        _encode(value, out)
    except _Problem as problem:
        raise _as_error(problem, record=False) from None
    return _to_utf8(out, None)


def _as_error(problem: _Problem, *, record: bool) -> CanonicalEncodingError:
    steps = problem.path[::-1]
    if not steps:
        return CanonicalEncodingError(problem.reason)
    if record:
        column, *inner = steps
        where = f"column {column!r}" + (f" at {_format_steps(inner)}" if inner else "")
    else:
        where = f"at {_format_steps(steps)}"
    return CanonicalEncodingError(f"{where}: {problem.reason}")


def _format_steps(steps: list[str | int]) -> str:
    return "".join(f"[{step!r}]" if isinstance(step, str) else f"[{step}]" for step in steps)


def _to_utf8(out: list[str], record: Mapping[str, object] | None) -> bytes:
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        # Only lone surrogates fail here; find the column to name it (slow path, error only).
        for column, value in (record or {}).items():
            if not _encodes(column) or not _encodes("".join(_encoded(value))):
                raise CanonicalEncodingError(
                    f"column {column!r}: lone surrogate, not valid Unicode text"
                ) from None
        raise CanonicalEncodingError("lone surrogate, not valid Unicode text") from None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _encoded(value: object) -> list[str]:
    out: list[str] = []
    _encode(value, out)
    return out


def _encode(value: object, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))  # type: ignore[arg-type]
    elif kind is int:
        _append_int(value, out)  # type: ignore[arg-type]
    elif kind is float:
        _append_float(value, out)  # type: ignore[arg-type]
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is dict:
        _encode_object(value, out)  # type: ignore[arg-type]
    elif kind is list or kind is tuple:
        _encode_array(value, out)  # type: ignore[arg-type]
    else:
        _encode_other(value, out)


def _append_int(value: int, out: list[str]) -> None:
    try:
        out.append(format_int(value))
    except ValueError as exc:
        raise _Problem(str(exc)) from None


def _append_float(value: float, out: list[str]) -> None:
    try:
        out.append(format_float(value))
    except ValueError:
        raise _Problem(f"{value!r} is not allowed, canonical JSON has no NaN/Infinity") from None


def _encode_object(value: Mapping[str, object], out: list[str]) -> None:
    keys = _sorted_keys(tuple(value))
    out.append("{")
    first = True
    for key in keys:
        if not first:
            out.append(",")
        first = False
        out.append(encode_basestring(key))
        out.append(":")
        try:
            _encode(value[key], out)
        except _Problem as problem:
            problem.path.append(key)
            raise
    out.append("}")


def _encode_array(value: Sequence[object], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        try:
            _encode(item, out)
        except _Problem as problem:
            problem.path.append(index)
            raise
    out.append("]")


@lru_cache(maxsize=4096)
def _sorted_keys(keys: tuple[object, ...]) -> tuple[str, ...]:
    for key in keys:
        if not isinstance(key, str):
            raise _Problem(f"object key {key!r} is not a string")
    # RFC 8785 orders keys by UTF-16 code units; big-endian bytes compare the same way.
    return tuple(sorted(keys, key=_utf16_units))  # type: ignore[arg-type]


def _utf16_units(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _encode_other(value: object, out: list[str]) -> None:
    if isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        _append_int(int(value), out)
    elif isinstance(value, float):
        _append_float(float(value), out)
    elif isinstance(value, str):
        out.append(encode_basestring(str(value)))
    elif isinstance(value, Mapping):
        _encode_object(value, out)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append('"' + base64.b64encode(value).decode("ascii") + '"')
    elif isinstance(value, dt.datetime):
        out.append('"' + _format_datetime(value) + '"')
    elif isinstance(value, dt.date):
        out.append('"' + value.isoformat() + '"')
    elif isinstance(value, dt.time):
        out.append('"' + _format_time(value) + '"')
    elif isinstance(value, Decimal):
        try:
            out.append('"' + format_decimal(value) + '"')
        except ValueError as exc:
            raise _Problem(str(exc)) from None
    elif isinstance(value, (list, tuple)):
        _encode_array(value, out)
    else:
        raise _Problem(f"values of type {type(value).__name__} have no canonical encoding")


def _format_datetime(value: dt.datetime) -> str:
    suffix = ""
    if value.utcoffset() is not None:
        try:
            value = value.astimezone(dt.timezone.utc)
        except OverflowError:
            raise _Problem(f"{value!r} cannot be expressed in UTC") from None
        suffix = "Z"
    date = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    clock = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    # pandas.Timestamp (a datetime subclass) carries nanoseconds beyond the microseconds.
    nanos = value.microsecond * 1000 + int(getattr(value, "nanosecond", 0))
    return f"{date}T{clock}{_fraction(nanos)}{suffix}"


def _format_time(value: dt.time) -> str:
    if value.tzinfo is not None:
        raise _Problem(f"{value!r}: times of day with a time zone have no canonical encoding")
    nanos = value.microsecond * 1000
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(nanos)}"


def _fraction(nanos: int) -> str:
    return "." + f"{nanos:09d}".rstrip("0") if nanos else ""
