"""The bounds of the event contract: the vectors of docs/spec/events.md, and the scanner that
reads the shape of JSON text before any parser does."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from cognify_events import bounds
from cognify_events.codec import InvalidEvent, decode, decode_strict, parse_object
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
PLACEHOLDER = "\u2603value\u2603"


def _vectors() -> list[tuple[str, str, str, str, str]]:
    """The rows of the test vector table under "### Test vectors" in docs/spec/events.md."""
    text = (ROOT / "docs/spec/events.md").read_text()
    table = text.split("### Test vectors", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 5 and cells[0].isdigit():
            rows.append((cells[0], cells[1], cells[2], _code(cells[3]), cells[4]))
    return rows


def _code(cell: str) -> str:
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


def _value_text(value: str) -> str:
    """A vector's value as JSON text: verbatim, or one of the table's generators."""
    made = re.fullmatch(r"(nest|arrays|str|digits)\((\d+)\)", value)
    if made is None:
        return value
    kind, n = made.group(1), int(made.group(2))
    if kind == "nest":
        return "[" * n + "0" + "]" * n
    if kind == "arrays":
        return "[" + ",".join(["[]"] * n) + "]"
    if kind == "str":
        return '"' + "x" * n + '"'
    return "1" + "0" * (n - 1)


def _set(raw: dict[str, Any], member: str, value: Any) -> None:
    parts = [p for p in re.split(r"\.|\[(\d+)\]", member) if p]
    node: Any = raw
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() and isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def vector_bytes(type_name: str, member: str, value: str) -> bytes:
    raw = json.loads((GOLDEN / f"{type_name}.v1.json").read_text())
    _set(raw, member, PLACEHOLDER)
    text = json.dumps(raw, ensure_ascii=False)
    assert text.count(json.dumps(PLACEHOLDER, ensure_ascii=False)) == 1
    return text.replace(json.dumps(PLACEHOLDER, ensure_ascii=False), _value_text(value)).encode()


VECTORS = _vectors()


def test_the_spec_has_the_vectors_numbered_in_order() -> None:
    assert [int(n) for n, *_ in VECTORS] == list(range(1, len(VECTORS) + 1))
    assert len(VECTORS) >= 40


@pytest.mark.parametrize(("n", "type_name", "member", "value", "result"), VECTORS, ids=lambda x: x)
def test_a_vector_of_the_spec(n: str, type_name: str, member: str, value: str, result: str) -> None:
    data = vector_bytes(type_name, member, value)
    if result == "accepted":
        event = decode_strict(data)
        assert event.type == type_name
        assert decode(data) == event  # the tolerant reader agrees
        return
    assert result.startswith("refused: "), result
    expected = _code(result.removeprefix("refused: "))
    with pytest.raises(InvalidEvent) as info:
        decode_strict(data)
    assert info.value.problems and expected in str(info.value), info.value.problems


def test_a_document_ten_thousand_levels_deep_is_refused_quickly_by_both_readers() -> None:
    """What gave a RecursionError (and a 500 over HTTP): now a reason, in milliseconds."""
    data = b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    for read in (decode_strict, decode, parse_object):
        started = time.perf_counter()
        with pytest.raises(InvalidEvent, match="nested deeper than 32 levels"):
            read(data)
        assert time.perf_counter() - started < 0.5


def test_sixteen_megabytes_of_open_brackets_are_refused_in_well_under_a_second() -> None:
    data = b"[" * (bounds.MAX_CONTAINERS * 60)
    started = time.perf_counter()
    with pytest.raises(InvalidEvent, match="arrays and objects, over the limit"):
        decode_strict(data)
    assert time.perf_counter() - started < 1.0


def test_the_biggest_checkpoint_the_schema_allows_is_within_every_bound() -> None:
    raw = json.loads((GOLDEN / "checkpoint.saved.v1.json").read_text())
    raw["payload"]["files"] = [
        {"path": f"shard-{i:06d}/[{i}].safetensors", "size": 2**53 - 1} for i in range(100_000)
    ]
    data = json.dumps(raw).encode()
    assert bounds.shape_problems(data, max_containers=bounds.MAX_CONTAINERS) == []
    assert bounds.value_problems(json.loads(data)) == []


# The scanner against a reference: a parse of the JSON text, counting its depth.


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TRICKY_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\ab\u00e9\U0001f600\n'), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=40,
)


@given(_JSON, st.booleans())
def test_the_scanner_counts_the_depth_a_parser_sees(value: Any, ascii_only: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    brackets = bounds.brackets_outside_strings(data)
    assert bounds.nesting_depth(brackets, limit=64) == min(_depth(value), 65)
    assert brackets.count(b"[") + brackets.count(b"{") == data.count(b"[") + data.count(b"{") - sum(
        s.count("[") + s.count("{") for s in _strings(value)
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'["\\\\"]', 1),  # an escaped backslash ends the string before `"`
        (b'["\\"[["]', 1),  # an escaped quote does not
        (b'["\\\\\\"[", [[]]]', 3),
        (b'{"a": "}}}}", "b": [[[0]]]}', 4),
        (b"[[[", 3),  # unclosed: a parser recurses into them before it fails
        (b"]]][[", 2),
        (b'[["unterminated [[[[', 2),
        (b"", 0),
    ],
)
def test_the_scanner_on_escapes_and_broken_text(text: bytes, depth: int) -> None:
    assert bounds.nesting_depth(bounds.brackets_outside_strings(text)) == depth


def test_a_reason_names_at_most_ten_values() -> None:
    raw = {f"k{i}": "\x00" for i in range(50)}
    assert len(bounds.value_problems(raw)) == bounds.MAX_PROBLEMS


def test_an_integer_too_long_to_print_is_described_by_its_size() -> None:
    (problem,) = bounds.value_problems({"n": 10**5000})
    assert problem.startswith("n: an integer of 16,610 bits is outside")


def test_one_string_can_be_checked_alone() -> None:
    assert bounds.string_problem("fine 😀") is None
    assert "U+0000" in (bounds.string_problem("a\x00") or "")
    assert "lone surrogate" in (bounds.string_problem("\udfff") or "")


@pytest.mark.parametrize(
    "data",
    [
        '{"a": "\ud800"}'.encode("utf-8", "surrogatepass"),  # a surrogate encoded in UTF-8
        '{"type": "run.started"}'.encode("utf-16"),  # `json` reads UTF-16 too
    ],
    ids=["utf8-surrogate", "utf16"],
)
def test_untrusted_bytes_are_read_as_strict_utf8_only(data: bytes) -> None:
    with pytest.raises(InvalidEvent, match=r"^event: not valid UTF-8 JSON"):
        decode_strict(data)


def test_strings_are_only_skipped_when_no_escape_can_spell_a_forbidden_character() -> None:
    assert bounds.value_problems({"a": "\x00"}, strings=False) == []
    assert bounds.value_problems({"a": "\x00"}) == [
        "a: contains U+0000 (NUL), which no string may hold"
    ]
    data = vector_bytes("run.started", "payload.run_name", '"\\u0000"')
    with pytest.raises(InvalidEvent, match=r"payload\.run_name: contains U\+0000"):
        decode_strict(data)


@pytest.mark.parametrize("member", ["event_id", "time", "type"])
def test_the_envelope_members_with_defaults_are_required_on_the_wire(member: str) -> None:
    """Read without them, the same bytes would be a new event (a new id, a new time) at
    every decode: lineage would store a redelivery twice and a rebuild would differ."""
    raw = json.loads((GOLDEN / "metrics.logged.v1.json").read_text())
    del raw[member]
    with pytest.raises(InvalidEvent) as info:
        decode_strict(json.dumps(raw).encode())
    expected = "type: unknown event type None" if member == "type" else f"{member}: Field required"
    assert info.value.problems == [expected]


_NUMBER_TOKENS = st.one_of(
    st.integers().map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.tuples(st.integers(-99, 99), st.integers(0, 9_999), st.integers(-999, 999)).map(
        lambda t: f"{t[0]}.{t[1]}{'eE'[t[2] % 2]}{t[2]:+d}"
    ),
    st.integers(1, 400).map(lambda n: "9" * n + ".5"),
)


@given(st.lists(_NUMBER_TOKENS | st.text().map(json.dumps), max_size=6))
def test_the_prefilter_never_passes_a_value_the_walk_would_refuse(tokens: list[str]) -> None:
    """`may_hold_bad_values` lets decode_strict skip the walk: it must say True whenever the
    walk finds a problem (strings with escapes, big integers, numbers that overflow)."""
    data = ("[" + ",".join(tokens) + "]").encode()
    if bounds.value_problems(json.loads(data)):
        assert bounds.may_hold_bad_values(data)
