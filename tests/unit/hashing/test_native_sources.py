"""Dataset sources through the Rust accelerator against the pure-Python reference: JSON Lines
(its own parser, representative lines for the schema) and Arrow batches (column buffers).

Every test hashes the same file both ways and asserts the same DatasetDigest (root, count
and schema description), or the same error with the same message.
"""

import json
import math
import random
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cognify_hashing_native as accel
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from cognify_hashing import _native, hash_dataset, leaf_hash, leaves, sources
from cognify_hashing.arrow_values import batch_records
from cognify_hashing.canonical import pure_canonical_record
from cognify_hashing.leaves import arrow_leaf_batch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

IMPLEMENTATIONS = ("native",)  # these tests call both implementations themselves


@contextmanager
def pure_path() -> Iterator[None]:
    _native.enabled = False
    try:
        yield
    finally:
        _native.enabled = True


def outcome(call: Callable[[], object]) -> tuple[object, ...]:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the point is to compare any failure
        return ("error", type(exc), str(exc))


def assert_same_digest(path: Path) -> tuple[object, ...]:
    native = outcome(lambda: hash_dataset(path))
    with pure_path():
        pure = outcome(lambda: hash_dataset(path))
    assert native == pure
    return native


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Batches of 5 records, so that small files cross many batch boundaries."""
    monkeypatch.setattr(sources, "BATCH_ROWS", 5)
    monkeypatch.setattr(leaves, "BATCH_ROWS", 5)
    return 5


# ---- JSON Lines ----------------------------------------------------------------------------

NASTY_LINES: list[bytes] = [
    b'{"a": 1, "a": 2}',
    b'{"a": 1, "\\u0061": 2}',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b'{"a": nan}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\udc00x"}',
    b'{"a": "\\ud800\\u0041"}',
    b'{"\\ud800": 1}',
    b'{"a": "\\ud83d\\ude00", "b": "\\uD83D\\uDE00"}',
    b'{"a": "\xff"}',
    b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8: invalid
    b'\xef\xbb\xbf{"a": 1}',
    b'{"a": "\x00"}',
    b'{"a": "tab\there"}',
    b'{"a": 1,}',
    b'{"a": [1,]}',
    b'{"a": 01}',
    b'{"a": 1.}',
    b'{"a": .5}',
    b'{"a": -}',
    b'{"a": 1e}',
    b'{"a": +1}',
    b'{"a": 1e400}',
    b'{"a": -1e400}',
    b'{"a": 1e-400}',
    b'{"a": 1.7976931348623157e308, "b": 1.7976931348623158e308, "c": 1.797693134862315807e308}',
    b'{"a": 1.7976931348623159e308}',
    b'{"a": 2.4703282292062327e-324, "b": 2.4703282292062328e-324, "c": 4.9e-324}',
    b'{"a": 0.1e1, "b": 100e-2, "c": 9007199254740993.0, "d": 123456789012345678901234567890.5}',
    b'{"a": -0, "b": -0.0, "c": 0e0, "d": 1E+2, "e": 1.0, "f": 2.5e-7}',
    b'{"a": 123456789012345678901234567890, "b": -9223372036854775809}',
    b'{"a": 18446744073709551615, "b": 9223372036854775808, "c": -9223372036854775808}',
    b'{"a": ' + b"9" * 640 + b"}",
    b'{"a": ' + b"9" * 641 + b"}",
    b'{"a": ' + b"9" * 5000 + b"}",
    b'{"a": 0.' + b"3" * 2000 + b"}",
    b'{"a": ' + b"[" * 150 + b"]" * 150 + b"}",
    b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    b"[1, 2]",
    b"1",
    b'"s"',
    b"null",
    b"{}",
    b'  {"a" : 1 }  \r',
    b'{"a": 1}\x0c',
    b"\x0b\x0c",
    b"\t \r",
    b'{"a": "\\/\\b\\f\\n\\r\\t\\"\\\\"}',
    b'{"a": "\\u00e9\\u00E9\\u0000\\u001f\\u007f"}',
    b'{"a": "\\x"}',
    b'{"a": "\\u12"}',
    b'{"a" 1}',
    b"{a: 1}",
    b"{'a': 1}",
    b'{"a": tru}',
    b'{"a": true false}',
    b'{"a": 1}{"b": 2}',
    b'{"a": 1} x',
    b'{"a": {"b": {"c": [{"d": null}, [], {}]}}}',
    b'{"z": 1, "a": 2, "\\u00ff": 3, "\\ud83d\\ude00": 4, "\\ue000": 5, "": 6}',
    b'{"a": "\x7f\xe2\x80\xa8\xf0\x9f\x98\x80"}',
    b'{"a": [1, "x", 2.5, null, true, {"k": [1]}]}',
    b'{"long": "' + b"\xc3\xa9x" * 1_500_000 + b'"}',  # longer than a read (1 MiB)
]


@pytest.mark.parametrize("line", NASTY_LINES, ids=range(len(NASTY_LINES)))
def test_nasty_lines_hash_or_fail_alike(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "nasty.jsonl"
    path.write_bytes(b'{"ok": 1}\n' + line + b'\n\n{"after": [2]}\n')
    assert_same_digest(path)
    path.write_bytes(b'{"ok": 1}\r\n' + line)  # CRLF, and no newline at the end
    assert_same_digest(path)


def test_an_encoding_error_waits_for_the_batch_to_be_read(tmp_path: Path) -> None:
    # The pure path decodes a whole batch before encoding it: a malformed line later in the
    # batch is reported before an infinity earlier in it, and the other way round.
    path = tmp_path / "order.jsonl"
    path.write_text('{"a": 1}\n{"a": 1e400}\n{"a": 2}\n{"a": \n')
    assert assert_same_digest(path)[1] is sources.SourceError
    path.write_text('{"a": 1}\n{"a": "\\ud800"}\n{"b": 1e999}\n{"a": 2}\n')
    assert "column 'a'" in str(assert_same_digest(path)[2])


def test_errors_across_batches_keep_their_order(tmp_path: Path, small_batches: int) -> None:
    lines = [json.dumps({"i": i}) for i in range(23)]
    for bad_encoding, bad_line in [(2, 7), (7, 2), (6, 8), (11, 14), (14, 11), (20, 21)]:
        broken = list(lines)
        broken[bad_encoding] = '{"i": -1e400}'
        broken[bad_line] = '{"i": }'
        path = tmp_path / "errors.jsonl"
        path.write_text("\n".join(broken) + "\n")
        assert assert_same_digest(path)[0] == "error"


def _ws() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "", " ", "\t", "  ", "\r", " \t "])


NUMBER_TOKEN = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?", fullmatch=True
)
_CHAR = r"[a-zA-Z0-9 é€😀/\x7f]"
_ESCAPE = r'\\["\\/bfnrt]|\\u00[0-9a-fA-F]{2}|\\u[0-9a-cA-CeEfF][0-9a-fA-F]{3}'
_PAIR = r"\\u[dD][89aAbB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a surrogate pair
STRING_TOKEN = st.from_regex(f'"({_CHAR}|{_ESCAPE}|{_PAIR})*"', fullmatch=True)


@st.composite
def json_object(draw: st.DrawFn, inner: st.SearchStrategy[str]) -> str:
    # Distinct key texts (escapes may still decode to equal keys: a duplicate, now and then).
    members = draw(st.lists(st.tuples(STRING_TOKEN, inner), max_size=4, unique_by=lambda m: m[0]))
    body = ",".join(
        f"{draw(_ws())}{key}{draw(_ws())}:{draw(_ws())}{value}{draw(_ws())}"
        for key, value in members
    )
    return "{" + (body or draw(_ws())) + "}"


@st.composite
def json_array(draw: st.DrawFn, inner: st.SearchStrategy[str]) -> str:
    items = draw(st.lists(inner, max_size=4))
    return "[" + ",".join(f"{draw(_ws())}{item}{draw(_ws())}" for item in items) + "]"


json_tokens = st.recursive(
    NUMBER_TOKEN | STRING_TOKEN | st.sampled_from(["true", "false", "null"]),
    lambda inner: json_array(inner) | json_object(inner),
    max_leaves=10,
)


@st.composite
def json_lines(draw: st.DrawFn) -> list[str]:
    """Mostly valid records; now and then a blank line or one that must fail."""
    lines = draw(st.lists(json_object(json_tokens), min_size=1, max_size=12))
    if draw(st.integers(0, 3)) == 0:
        bad = draw(
            st.sampled_from(
                [
                    "",
                    "  ",
                    "[1]",
                    '{"a": NaN}',
                    '{"a": 1e999}',
                    '{"a": 1,}',
                    '{"a": 1, "\\u0061": 2}',
                ]
            )
        )
        lines.insert(draw(st.integers(0, len(lines))), bad)
    return lines


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(json_lines())
def test_generated_lines_hash_or_fail_alike(
    tmp_path: Path, small_batches: int, lines: list[str]
) -> None:
    path = tmp_path / "generated.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert_same_digest(path)


shaped_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["x", "", "ü"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=6,
)
shaped_records = st.lists(
    st.dictionaries(st.sampled_from("pqrs"), shaped_values, max_size=4), min_size=1, max_size=40
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shaped_records)
def test_schemas_inferred_from_sample_lines_equal_the_whole_batches(
    tmp_path: Path, small_batches: int, records: list[dict[str, Any]]
) -> None:
    path = tmp_path / "shapes.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = assert_same_digest(path)
    assert result[0] == "ok"


# Few keys and few values (a pool drawn per example): records of one shape that differ only
# in what the shape must capture (integer range, key order, element types) meet often within
# one batch, with nothing else in the column to make its type "json" anyway.
pooled_values = st.sampled_from(
    [
        1,
        -1,
        0,
        2**63 - 1,
        2**63,
        2**64 - 1,
        2**64,
        -(2**63),
        -(2**63) - 1,
        1.5,
        -0.0,
        "x",
        None,
        True,
    ]
)
pooled_nested = (
    pooled_values
    | st.lists(st.sampled_from([1, 2**63, "x", None]), max_size=3)
    | st.lists(pooled_values, max_size=3)
    | st.dictionaries(st.sampled_from("ab"), pooled_values, max_size=2)
    | st.lists(st.dictionaries(st.sampled_from("ab"), pooled_values, max_size=2), max_size=2)
)


@st.composite
def pooled_records(draw: st.DrawFn) -> list[dict[str, object]]:
    pool = draw(st.lists(pooled_nested, min_size=1, max_size=3))
    orders = [["p"], ["q"], ["p", "q"], ["q", "p"]]
    return [
        {key: draw(st.sampled_from(pool)) for key in draw(st.sampled_from(orders))}
        for _ in range(draw(st.integers(1, 25)))
    ]


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pooled_records())
@example([{"p": 1}, {"p": 2**63}])
@example([{"p": [1]}, {"p": [1, "x"]}])
@example([{"p": [{"a": 1}]}, {"p": [{"b": None}, {"a": 1}]}, {"p": [{"a": "x"}]}])
@example([{"p": {"a": 1, "b": 1}}, {"p": {"b": 1, "a": 1}}, {"q": 1}])
def test_schemas_of_records_that_differ_only_in_detail_agree(
    tmp_path: Path, small_batches: int, records: list[dict[str, Any]]
) -> None:
    path = tmp_path / "pooled.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert assert_same_digest(path)[0] == "ok"


def test_a_big_file_of_many_shapes_has_one_digest(tmp_path: Path) -> None:
    rng = random.Random(5)
    kinds: list[Callable[[], object]] = [
        lambda: rng.randrange(-(2**70), 2**70),
        lambda: rng.random() * 10 ** rng.randrange(-10, 30),
        lambda: "".join(rng.choice('ab"\\\n\u00e9\U0001f600') for _ in range(rng.randrange(5))),
        lambda: None,
        lambda: [rng.randrange(3)] * rng.randrange(3),
        lambda: {"n": rng.choice([1, "1", 1.5])},
    ]
    with (tmp_path / "big.jsonl").open("w", encoding="utf-8") as out:
        for i in range(3 * 4096 + 17):
            record = {f"c{k}": rng.choice(kinds)() for k in range(rng.randrange(1, 5))}
            out.write(
                json.dumps(record, ensure_ascii=bool(i % 2)) + ("\n\n" if i % 1000 == 0 else "\n")
            )
    assert assert_same_digest(tmp_path / "big.jsonl")[0] == "ok"


# ---- Arrow ---------------------------------------------------------------------------------


def flat_table(rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)

    def maybe(value: object) -> object:
        return None if rng.random() < 0.1 else value

    def ints(bits: int, signed: bool) -> list[object]:
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        return [maybe(rng.choice([lo, hi, 0, rng.randint(lo, hi)])) for _ in range(rows)]

    text = ["", "plain", 'quote " back \\ nl \n tab \t', "\x00\x1f\x7f", "é€😀", "\u2028"]
    columns: dict[str, pa.Array] = {
        "bool": pa.array([maybe(rng.random() < 0.5) for _ in range(rows)], pa.bool_()),
        "null": pa.nulls(rows),
        "double": pa.array(
            [maybe(rng.choice([0.1, -0.0, 5e-324, 1e21, 1e-7, rng.random()])) for _ in range(rows)]
        ),
        "float": pa.array([maybe(rng.uniform(-1e30, 1e30)) for _ in range(rows)], pa.float32()),
        "halffloat": pa.array(
            [
                maybe(struct.unpack("<e", struct.pack("<H", rng.randrange(0x7C00)))[0])
                for _ in range(rows)
            ],
            pa.float16(),
        ),
        "string": pa.array([maybe(rng.choice(text)) for _ in range(rows)], pa.string()),
        "large_string": pa.array([maybe(rng.choice(text)) for _ in range(rows)], pa.large_string()),
        "dictionary": pa.array([rng.choice(text) for _ in range(rows)]).dictionary_encode(),
        "\U0001f600 key": pa.array([rng.randrange(3) for _ in range(rows)], pa.int8()),
        "\ue000": pa.array([maybe(rng.random()) for _ in range(rows)], pa.float64()),
    }
    for bits in (8, 16, 32, 64):
        columns[f"int{bits}"] = pa.array(ints(bits, True), getattr(pa, f"int{bits}")())
        columns[f"uint{bits}"] = pa.array(ints(bits, False), getattr(pa, f"uint{bits}")())
    return pa.table(columns)


def write_arrow(path: Path, table: pa.Table, rows_per_batch: int) -> Path:
    with ipc.new_file(str(path), table.schema) as writer:
        for batch in table.to_batches(max_chunksize=rows_per_batch):
            writer.write_batch(batch)
    return path


def test_every_flat_type_hashes_alike_from_arrow_and_parquet(tmp_path: Path) -> None:
    table = flat_table(5000, seed=1)
    assert_same_digest(write_arrow(tmp_path / "flat.arrow", table, 777))
    pq.write_table(table, tmp_path / "flat.parquet", row_group_size=1000)
    assert_same_digest(tmp_path / "flat.parquet")


def test_sliced_batches_hash_from_their_offset(tmp_path: Path) -> None:
    batch = flat_table(300, seed=2).combine_chunks().to_batches()[0]
    for offset, length in [(0, 300), (1, 7), (3, 64), (9, 291), (150, 0)]:
        part = batch.slice(offset, length)
        expected = b"".join(leaf_hash(pure_canonical_record(r)) for r in batch_records(part))
        got = arrow_leaf_batch(part, samples=False)
        assert (got.hashes, got.count) == (expected, length), (offset, length)


def test_duplicate_column_names_keep_the_last_column_as_to_pylist_does(tmp_path: Path) -> None:
    batch = pa.record_batch(
        [pa.array([1, 2]), pa.array(["a", "b"]), pa.array([3.5, None])], names=["x", "y", "x"]
    )
    expected = b"".join(leaf_hash(pure_canonical_record(r)) for r in batch.to_pylist())
    assert arrow_leaf_batch(batch, samples=False).hashes == expected
    assert_same_digest(write_arrow(tmp_path / "dup.arrow", pa.Table.from_batches([batch]), 2))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("kind", [pa.float64(), pa.float32(), pa.float16()])
def test_non_finite_floats_fail_alike(tmp_path: Path, bad: float, kind: pa.DataType) -> None:
    table = pa.table({"id": [1, 2, 3], "loss": pa.array([0.5, bad, 1.0], kind)})
    result = assert_same_digest(write_arrow(tmp_path / "bad.arrow", table, 2))
    assert result[0] == "error" and "'loss'" in str(result[2])


def test_nested_and_typed_columns_take_the_record_path_alike(tmp_path: Path) -> None:
    table = pa.table(
        {
            "ts": pa.array([1_500_000_000_123_456_789, None, -1], pa.timestamp("ns")),
            "tz": pa.array([0, 1, None], pa.timestamp("us", "Europe/Paris")),
            "day": pa.array([0, None, 19000], pa.date32()),
            "t": pa.array([1, None, 86_399_999_999_999], pa.time64("ns")),
            "dec": pa.array([None, 1, -2], pa.decimal128(10, 3)),
            "bin": pa.array([b"\x00\xff", None, b""]),
            "fixed": pa.array([b"ab", b"cd", None], pa.binary(2)),
            "list": pa.array([[0.1, None], None, []], pa.list_(pa.float32())),
            "struct": pa.array([{"x": 1, "y": "é"}, None, {"x": None, "y": None}]),
            "map": pa.array([[("k", 0.1)], [], None], pa.map_(pa.string(), pa.float32())),
            "plain": pa.array([1, 2, 3]),
        }
    )
    assert_same_digest(write_arrow(tmp_path / "typed.arrow", table, 2))
    pq.write_table(table, tmp_path / "typed.parquet")
    assert_same_digest(tmp_path / "typed.parquet")


def test_a_directory_mixing_parquet_and_jsonl_infers_one_schema_alike(tmp_path: Path) -> None:
    directory = tmp_path / "mixed"
    directory.mkdir()
    pq.write_table(
        flat_table(50, seed=3).select(["int64", "string", "double"]), directory / "a.parquet"
    )
    (directory / "b.jsonl").write_text('{"int64": 1, "string": "x", "extra": [1]}\n')
    assert assert_same_digest(directory)[0] == "ok"


def _float32s(raw: bytes) -> pa.Array:
    return pa.Array.from_buffers(pa.float32(), len(raw) // 4, [None, pa.py_buffer(raw)])


def test_float32_widening_matches_arrow_casts_for_a_million_values() -> None:
    rng = random.Random(32)
    raw = rng.randbytes(4 * 1_000_000)
    specials = [0x00000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0x3DCCCCCD, 0x80000000, 0x4B800000]
    raw += b"".join(struct.pack("<I", bits | sign) for bits in specials for sign in (0, 1 << 31))
    values = _float32s(raw)
    values = values.filter(pc.is_finite(values))
    expected = values.cast(pa.string()).cast(pa.float64())
    got = accel.widen_float32s(values.buffers()[1])
    assert got == expected.buffers()[1].to_pybytes()[: 8 * len(expected)]


def test_every_half_float_widens_exactly_like_arrow() -> None:
    raw = b"".join(struct.pack("<H", bits) for bits in range(1 << 16))
    halves = pa.Array.from_buffers(pa.float16(), 1 << 16, [None, pa.py_buffer(raw)])
    finite = halves.filter(pc.is_finite(halves))
    batch = pa.record_batch([finite], names=["h"])
    expected = b"".join(leaf_hash(pure_canonical_record(r)) for r in batch_records(batch))
    assert arrow_leaf_batch(batch, samples=False).hashes == expected
