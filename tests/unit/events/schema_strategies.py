"""Hypothesis strategies that generate events from the published JSON Schemas (docs/events/),
leaning on the edges: the largest and smallest integers a field allows, strings of the
greatest length (astral characters included), empty maps, free-form JSON nested as deep as
an event may nest, non-finite numbers by name. The edge comes first in every choice, so the
first example hypothesis draws of a type (its simplest) has every member at its edge.
And `hostile`: the same events with one value anywhere replaced by one that the strict
codec must refuse with a reason.

Only what the generated schemas use is understood ($ref, anyOf, const, enum, object,
array, string with pattern/format/length, integer, number, boolean, null, `{}`); anything
else fails loudly, so a schema change cannot silently narrow what is generated.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cognify_events.bounds import MAX_DEPTH, MAX_SAFE_INTEGER
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[3]
Schema = dict[str, Any]
Json = Any

# Every character but U+0000 and the surrogates (which no event may hold), astral included.
_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_SHORT = 12  # the usual size of a generated string, map or list; edges go to the limit


def schemas() -> dict[str, Schema]:
    """Wire name -> the checked-in JSON Schema of that event type."""
    index = json.loads((ROOT / "docs/events/index.json").read_text())
    return {
        name: json.loads((ROOT / "docs/events" / entry["schema"]).read_text())
        for name, entry in index["events"].items()
    }


def event_objects(types: list[str] | None = None) -> st.SearchStrategy[dict[str, Json]]:
    """Event JSON objects of the given types (all by default), valid against their schema."""
    found = schemas()
    names = sorted(found) if types is None else types
    built = [_Builder(found[name]).build(_typed(found[name]), 0) for name in names]
    return st.one_of(built).map(_metric_names_apart)


def _metric_names_apart(obj: dict[str, Json]) -> dict[str, Json]:
    """The one rule a JSON Schema cannot say (bounds.event_problems): a metric is a number
    or a non-finite name, not both."""
    payload = obj.get("payload")
    if isinstance(payload, dict) and payload.get("nonfinite_metrics") and payload.get("metrics"):
        names = {
            k: v for k, v in payload["nonfinite_metrics"].items() if k not in payload["metrics"]
        }
        return {**obj, "payload": {**payload, "nonfinite_metrics": names}}
    return obj


def _typed(schema: Schema) -> Schema:
    """The event's schema with `type` required: it has a default in the model, but on the
    wire it is what says which model to read."""
    return {**schema, "required": sorted({*schema.get("required", []), "type"})}


class _Builder:
    def __init__(self, root: Schema) -> None:
        self.defs: dict[str, Schema] = root.get("$defs", {})

    def build(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        """A value for `schema`, which sits inside `level` arrays and objects."""
        if "$ref" in schema:
            return self.build(self.defs[schema["$ref"].rsplit("/", 1)[1]], level)
        if "anyOf" in schema:  # mostly a value rather than null: edges are in the values
            options = [self.build(s, level) for s in schema["anyOf"]]
            values = [o for s, o in zip(schema["anyOf"], options, strict=True) if s != _NULL]
            return st.one_of(*values, *values, *options[::-1])
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if not schema or schema.get("type") is None:
            return free_json(MAX_DEPTH - level)
        make: Callable[[Schema, int], st.SearchStrategy[Json]] = getattr(self, f"_{schema['type']}")
        return make(schema, level)

    def _object(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        properties: dict[str, Schema] = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", []))
            members = {k: self.build(v, level + 1) for k, v in properties.items()}
            return st.one_of(
                st.fixed_dictionaries(members),  # every member given
                st.fixed_dictionaries(
                    {k: v for k, v in members.items() if k in required},
                    optional={k: v for k, v in members.items() if k not in required},
                ),
            )
        values = schema.get("additionalProperties")
        assert isinstance(values, dict), schema
        names: Schema = schema.get("propertyNames", {})
        if not {"$ref", "enum", "type"} & set(names):  # only a length: a string of it
            names = {**names, "type": "string"}
        keys = self.build(names, level)
        most = schema.get("maxProperties", _SHORT)
        return st.one_of(
            st.dictionaries(keys, self.build(values, level + 1), min_size=1, max_size=min(most, 4)),
            st.just({}),
        )

    def _array(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        least = schema.get("minItems", 0)
        most = min(schema.get("maxItems", 4), max(least, 4))
        items = self.build(schema["items"], level + 1)
        return st.one_of(
            st.lists(items, min_size=max(least, 1), max_size=most),
            st.lists(items, min_size=least, max_size=most),
        )

    def _string(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        return _string(schema, _SHORT)

    def _integer(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        least = schema.get("minimum", -MAX_SAFE_INTEGER)
        most = schema.get("maximum", MAX_SAFE_INTEGER)
        edges = [most, least, max(least, min(most, 0)), max(least, most - 1)]
        return st.one_of(st.sampled_from(edges), st.integers(least, most))

    def _number(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        above = schema.get("exclusiveMinimum")
        least = schema.get("minimum", above)
        finite = st.floats(
            min_value=least, allow_nan=False, allow_infinity=False, exclude_min=above is not None
        )
        edges = [x for x in (1.7976931348623157e308, 5e-324, 0.0, -0.0, -1.5e308) if _ok(x, schema)]
        return st.one_of(st.sampled_from(edges), finite) if edges else finite

    def _boolean(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        return st.booleans()

    def _null(self, schema: Schema, level: int) -> st.SearchStrategy[Json]:
        return st.none()


def _ok(x: float, schema: Schema) -> bool:
    if "minimum" in schema and x < schema["minimum"]:
        return False
    return not ("exclusiveMinimum" in schema and x <= schema["exclusiveMinimum"])


def _string(schema: Schema, usual: int) -> st.SearchStrategy[str]:
    if "pattern" in schema:
        pattern: str = schema["pattern"]
        return st.from_regex(pattern, fullmatch=True).filter(
            lambda s: len(s) <= schema.get("maxLength", len(s))
        )
    if schema.get("format") == "uuid":
        return st.uuids().map(str)
    if schema.get("format") == "date-time":
        return timestamps()
    least, most = schema.get("minLength", 0), schema.get("maxLength", 64)
    return st.one_of(longest(most), st.text(_CHARS, min_size=least, max_size=min(most, usual)))


_NULL = {"type": "null"}


def longest(length: int) -> st.SearchStrategy[str]:
    """Strings of `length` characters, mostly astral (4 UTF-8 bytes each) and random, so
    that nothing compresses them (an index entry does). Drawn from a seed: drawing each
    character would take hypothesis past the size of an example it allows."""

    def text(seed: int) -> str:
        rng = random.Random(seed)
        return "".join(chr(rng.choice((_randastral, _randbmp))(rng)) for _ in range(length))

    return st.integers(0, 2**32).map(text)


def _randastral(rng: random.Random) -> int:
    return rng.randrange(0x10000, 0x110000)


def _randbmp(rng: random.Random) -> int:
    code = rng.randrange(1, 0xD800 + 0x2000)  # U+0001..U+D7FF and U+E000..U+FFFF
    return code if code < 0xD800 else code + 0x800  # past the surrogates


def timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 with an offset, from year 1 to 9999 once in UTC, edges included."""
    offsets = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
    moments = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=offsets)
    edges = st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"])
    return st.one_of(edges, moments.map(lambda d: d.isoformat()))


def free_json(levels: int) -> st.SearchStrategy[Json]:
    """Any JSON value an event may hold that nests at most `levels` arrays and objects: edge
    integers, finite numbers, non-finite ones by name, and sometimes the deepest nesting."""
    leaves = st.one_of(
        st.sampled_from([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0]),
        st.none(),
        st.booleans(),
        st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["nan", "inf", "-inf"]),
        st.text(_CHARS, max_size=_SHORT),
    )
    if levels <= 0:
        return leaves
    nested = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(_CHARS, max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    ).filter(lambda v: _depth(v) <= levels)
    deepest = st.tuples(st.integers(0, levels - 1), leaves).map(
        lambda p: _nest(p[1], levels - p[0])
    )
    return st.one_of(deepest, nested)


def _nest(value: Json, levels: int) -> Json:
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def _depth(value: Json) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


# Hostile values: each one is refused by the strict codec, wherever it stands.
HOSTILE: dict[str, str] = {
    "nul": '"a\\u0000b"',
    "lone-surrogate": '"\\ud800"',
    "too-big": str(2**63),
    "too-small": str(-(2**53)),
    "nan": "NaN",
    "infinity": "-Infinity",
    "overflow": "1e400",
    "too-deep": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
}


def hostile(obj: dict[str, Json], index: int, kind: str) -> bytes:
    """The JSON text of `obj` with its leaf number `index` (mod the leaf count) replaced by
    the hostile value `kind`."""
    marker = "\u2603hostile\u2603"
    leaves = _leaves(obj)
    path = leaves[index % len(leaves)]
    _replace(obj, path, marker)
    text = json.dumps(obj, ensure_ascii=False)
    return text.replace(json.dumps(marker, ensure_ascii=False), HOSTILE[kind], 1).encode()


def _leaves(value: Json, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _replace(value: Json, path: tuple[Any, ...], new: Json) -> None:
    for part in path[:-1]:
        value = value[part]
    value[path[-1]] = new
