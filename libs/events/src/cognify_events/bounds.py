"""What an event may hold, so that whatever ingest admits every store and reader can hold.

Checked by the strict codec on untrusted bytes (docs/spec/events.md, "Bounds"):

- `shape_problems(data)`, before any parsing: the nesting depth of arrays and objects,
  counted over the bytes outside strings. A JSON parser recurses once per level (Python's
  `json` raises RecursionError near 1,000 levels), so a deep document is refused before a
  parser sees it, in time linear in its size.
- `value_problems(obj)`, one pass over the parsed JSON: no U+0000 and no lone surrogate in
  any string or key (PostgreSQL `text` and `jsonb` hold neither); integers within
  +-(2^53 - 1) (what JavaScript and most JSON readers hold exactly, and well inside
  PostgreSQL's BIGINT); finite numbers only (NaN and the infinities, which JSON has no
  number for, travel by name where a payload has a place for them); skipped when
  `may_hold_bad_values(data)` shows the bytes cannot hold such a value.
- `event_problems(event)`, on the validated event: the rules of particular members.

All return `field.path: reason` lines, like the rest of the codec. Nothing here is a
pydantic constraint: the tolerant reader downstream keeps reading what was stored before
these bounds existed.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_DEPTH = 32  # arrays and objects, the event object itself being level 1
# Arrays and objects in one untrusted event: a checkpoint's 100,000 file entries and room
# besides. Parsed, each costs about 60 bytes or more for every 2 bytes of `[]` it takes.
MAX_CONTAINERS = 262_144
MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER
MIN_SAFE_INTEGER = -MAX_SAFE_INTEGER
NONFINITE_NAMES = ("nan", "inf", "-inf")  # how NaN and the infinities are written by name
MAX_PROBLEMS = 10  # a reason names at most this many values (a dead letter stays small)

_MARKS = bytes(b for b in range(256) if b not in b'"[]{}')  # delete all but these
_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # depth is all the scan needs, not the kind
# Characters no string may hold: U+0000 and the surrogates. A str from a JSON parser holds a
# surrogate only when the input had a lone one (a valid pair decodes to one code point).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def brackets_outside_strings(data: bytes) -> bytes:
    """The `[`, `]`, `{` and `}` of JSON text that are not inside strings, in order; with
    bytes methods only (no Python loop per byte), in time linear in the text.

    Escaped backslashes, then escaped quotes, are removed, so every `"` left delimits a
    string; of the quotes and brackets, two adjacent quotes (an empty string, or the end of
    one string and the start of the next) hold nothing outside; what is left outside
    strings is every other piece between quotes. Text that is not JSON may be read
    differently after its first error, where every parser stops."""
    if b'"' not in data:
        return data.translate(None, _BRACKETS)
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = data.translate(None, _MARKS).replace(b'""', b"")
    return b"".join(marks.split(b'"')[::2]).translate(None, _BRACKETS)


def nesting_depth(brackets: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep brackets nest, counted up to limit + 1. Each pass removes the innermost
    pairs, so a balanced sequence is gone after as many passes as it is deep; an unbalanced
    one counts its unclosed brackets too (a parser recurses into them before it fails)."""
    brackets = brackets.translate(_ONE_KIND)
    for level in range(limit + 1):
        if not brackets:
            return level
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # no pair left: "]" * a + "[" * b
            return min(level + inner.count(b"["), limit + 1)
        brackets = inner
    return limit + 1


def shape_problems(
    data: bytes, max_depth: int = MAX_DEPTH, max_containers: int | None = None
) -> list[str]:
    """What is wrong with the shape of JSON text, read before it is parsed."""
    if data.count(b"[") + data.count(b"{") <= max_depth:  # nearly every event: no scan
        return []
    brackets = brackets_outside_strings(data)
    opened = brackets.count(b"[") + brackets.count(b"{")
    if max_containers is not None and opened > max_containers:
        return [f"event: {opened:,} arrays and objects, over the limit of {max_containers:,}"]
    if nesting_depth(brackets, max_depth) > max_depth:
        return [f"event: nested deeper than {max_depth} levels of arrays and objects"]
    return []


# What any value an event may not hold needs in the JSON text, read from strict UTF-8 (a
# raw control character or surrogate is refused by the parser): a `\u` escape (for U+0000
# or a lone surrogate), 16 digits in a row (an integer past 2^53 - 1, or a number past the
# largest double without an exponent), or an exponent of 3 digits (a number past it).
# Found with bytes methods (a regular expression costs more than the walk it would save):
# digits read as 0, exponent marks as e, signs as +, everything else as a space.
_NUMBER_MARKS = bytes(
    48 if b in b"0123456789" else 101 if b in b"eE" else 43 if b in b"+-" else 32
    for b in range(256)
)
_SUSPECT_SCAN_BYTES = 65_536  # past this, walking the parsed value is the cheaper check


def may_hold_bad_values(data: bytes) -> bool:
    """False only when JSON text (strict UTF-8) cannot hold a value `value_problems` would
    name: three searches over a small event instead of a walk over its values. True (walk
    them) for large texts."""
    if len(data) > _SUSPECT_SCAN_BYTES or b"\\u" in data:
        return True
    marks = data.translate(_NUMBER_MARKS)
    return b"0" * 16 in marks or b"e000" in marks or b"e+000" in marks


def value_problems(obj: Any, limit: int = MAX_PROBLEMS, *, strings: bool = True) -> list[str]:
    """Every string, integer and number in a parsed JSON value that an event may not hold,
    as `path: reason` (at most `limit` of them). Expects what a JSON parser returns (dict,
    list, str, int, float, bool, None) no deeper than `MAX_DEPTH`.

    `strings=False` skips the strings, for a value parsed from strict UTF-8 text without a
    `\\u` escape: such text cannot spell U+0000 (a raw control character is not JSON) or a
    lone surrogate (UTF-8 cannot encode one)."""
    if _clean(obj, strings):  # the usual case, without building a path for every value
        return []
    problems: list[str] = []
    _walk(obj, "", problems, limit)
    return problems


def _clean(obj: Any, strings: bool) -> bool:
    pending = [obj]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is dict:
            if strings and any(_bad_string(k) for k in value):
                return False
            pending.extend(value.values())
        elif kind is list:
            pending.extend(value)
        elif kind is str:
            if strings and _bad_string(value):
                return False
        elif kind is int:
            if not MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                return False
        elif kind is float and not math.isfinite(value):
            return False
    return True


def _bad_string(text: str) -> bool:
    return "\x00" in text or (not text.isascii() and _FORBIDDEN.search(text) is not None)


def _walk(value: Any, path: str, problems: list[str], limit: int) -> None:
    if len(problems) >= limit:
        return
    kind = type(value)
    if kind is str:
        if _bad_string(value):
            problems.append(f"{path or 'event'}: {_string_reason(value)}")
    elif kind is dict:
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if _bad_string(key):
                problems.append(f"{_printable(where)}: the name {_string_reason(key)}")
                where = _printable(where)
            _walk(item, where, problems, limit)
    elif kind is list:
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", problems, limit)
    elif kind is int:
        if not MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            problems.append(f"{path or 'event'}: {_integer_reason(value)}")
    elif kind is float and not math.isfinite(value):
        problems.append(
            f"{path or 'event'}: {value!r} is not a finite number (NaN and the infinities "
            'are written by name: "nan", "inf", "-inf")'
        )


def _string_reason(text: str) -> str:
    if "\x00" in text:
        return "contains U+0000 (NUL), which no string may hold"
    return "contains a lone surrogate (not a Unicode character), which no string may hold"


def _integer_reason(value: int) -> str:
    # str() of an integer of more than 4,300 digits raises; the size is enough to show.
    shown = (
        str(value) if value.bit_length() <= 128 else f"an integer of {value.bit_length():,} bits"
    )
    return (
        f"{shown} is outside the integers an event may hold "
        f"({MIN_SAFE_INTEGER:,} to {MAX_SAFE_INTEGER:,}, what JSON readers hold exactly)"
    )


def _printable(text: str) -> str:
    """A name quoted safely in a reason (the reason is text in PostgreSQL and Kafka too)."""
    return _FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def event_problems(event: Any) -> list[str]:
    """Rules of particular fields, checked on the validated event: a non-finite metric is
    named as `nan`, `inf` or `-inf`, and a metric is either a number or such a name."""
    payload = getattr(event, "payload", None)
    names = getattr(payload, "nonfinite_metrics", None) or {}
    numbers = getattr(payload, "metrics", None) or {}
    problems = []
    for name, value in names.items():
        where = f"payload.nonfinite_metrics.{_printable(name)}"
        if value not in NONFINITE_NAMES:
            problems.append(f"{where}: {value!r} is not one of 'nan', 'inf', '-inf'")
        elif name in numbers:
            problems.append(f"{where}: also in payload.metrics; a metric is a number or a name")
    return problems[:MAX_PROBLEMS]


def string_problem(text: str) -> str | None:
    """Why a single string cannot be part of an event, or None: for adapters that build
    events from other input (HTTP command bodies) and want the same rule."""
    return _string_reason(text) if _FORBIDDEN.search(text) else None
