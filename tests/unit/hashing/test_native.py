"""The Rust accelerator against the pure-Python reference: numbers, records, Merkle trees.

Each test computes the same thing both ways and asserts equal bytes (or the same error with
the same message). The sources (JSON Lines, Arrow) are in test_native_sources.py.
"""

import collections
import datetime as dt
import enum
import hashlib
import math
import random
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import cognify_hashing_native
import pytest
from cognify_hashing import (
    CanonicalEncodingError,
    MerkleBuilder,
    _native,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
)
from cognify_hashing import merkle as merkle_module
from cognify_hashing.canonical import pure_canonical_json, pure_canonical_record
from cognify_hashing.numbers import format_float
from hypothesis import given, settings
from hypothesis import strategies as st

IMPLEMENTATIONS = ("native",)  # these tests call both implementations themselves

accel = cognify_hashing_native


def outcome(call: Callable[[], object]) -> tuple[object, ...]:
    """The result of a call, or the type and message of what it raised."""
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the point is to compare any failure
        return ("error", type(exc), str(exc))


def test_the_accelerator_is_built_and_used_in_this_workspace() -> None:
    # `uv sync` builds libs/hashing-native; a missing build must fail CI, not skip tests.
    assert _native.IMPORT_ERROR is None
    assert _native.accel is cognify_hashing_native
    assert accel.SPEC_VERSION == 1


# ---- numbers -------------------------------------------------------------------------------


def _double(bits: int) -> float:
    value: float = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
    return value


def _same_text(value: float) -> None:
    if math.isfinite(value):
        assert accel.format_float(value) == format_float(value), value.hex()
    else:
        with pytest.raises(ValueError):
            accel.format_float(value)


def test_float_text_for_a_million_random_bit_patterns() -> None:
    rng = random.Random(6962)
    for _ in range(1_000_000):
        _same_text(_double(rng.getrandbits(64)))


def test_float_text_for_short_decimals_and_boundaries() -> None:
    rng = random.Random(8785)
    for _ in range(200_000):  # few digits, any exponent: where shortest-digit choices differ
        digits = rng.randrange(1, 10 ** rng.randrange(1, 18))
        _same_text(float(f"{digits}e{rng.randrange(-340, 310)}"))
    edges = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]
    for exponent in range(-330, 310):
        for base in (1.0, 2.0, 5.0, 9.5, 1.5):
            value = float(f"{base}e{exponent}")
            edges += [value, math.nextafter(value, 0.0), math.nextafter(value, math.inf)]
    for power in range(-1075, 1024):
        value = math.ldexp(1.0, power)
        edges += [value, math.nextafter(value, 0.0), math.nextafter(value, math.inf)]
    for limit in (2.0**53, 1e21, 1e-7, 1e-6, 1e16, 1e-4):
        edges += [limit, math.nextafter(limit, 0.0), math.nextafter(limit, math.inf)]
    for value in edges:
        _same_text(value)
        _same_text(-value)
    for bad in (math.nan, math.inf, -math.inf):
        _same_text(bad)


def test_float_text_reproduces_the_spec_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["numbers"]:
        value = struct.unpack(">d", bytes.fromhex(case["ieee754"]))[0]
        if case.get("error"):
            with pytest.raises(ValueError):
                accel.format_float(value)
        else:
            assert accel.format_float(value) == case["text"], case


# ---- canonical records ---------------------------------------------------------------------


def native_record(record: object) -> bytes:
    return accel.canonical_record(record, pure_canonical_json, pure_canonical_record)


def native_json(value: object) -> bytes:
    return accel.canonical_json(value, pure_canonical_json, pure_canonical_json)


def same_record(record: object) -> None:
    assert outcome(lambda: native_record(record)) == outcome(
        lambda: pure_canonical_record(record)  # type: ignore[arg-type]
    )
    assert outcome(lambda: native_json(record)) == outcome(lambda: pure_canonical_json(record))


class Colour(enum.IntEnum):
    RED = 1


class Label(str):
    pass


class Ordered(dict[str, object]):
    pass


NASTY_VALUES: list[object] = [
    0,
    -1,
    2**53 + 1,
    -(2**63),
    2**63,
    2**64,
    -(2**64) - 1,
    10**300,
    10**5000,  # beyond int_max_str_digits: refused with the pure message
    0.0,
    -0.0,
    1e21,
    1e-7,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    None,
    "",
    "plain",
    '"\\\b\f\n\r\t\x00\x1f\x7f\u2028\u2029é€😀/',
    "lone \ud800 surrogate",
    "\udfff",
    b"\x00\xff",
    bytearray(b"ab"),
    memoryview(b"xyz"),
    dt.date(2024, 2, 29),
    dt.datetime(2024, 2, 29, 1, 2, 3, 450000),
    dt.datetime(2024, 3, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.time(23, 59, 59, 1),
    dt.time(1, tzinfo=dt.UTC),
    dt.timedelta(seconds=1),
    Decimal("-001.2300"),
    Decimal("NaN"),
    Colour.RED,
    Label("subclass"),
    Ordered(b=1, a=[1.5]),
    collections.OrderedDict(z=None),
    {1, 2},
    frozenset(),
    object(),
    (1, "two", [3.0]),
    [],
    {},
    {"nested": {"deeper": [{"x": math.nan}]}},
    {"\ud800": 1},
    {1: "int key"},
    {("t",): "tuple key"},
    [[[[[]]]]],
]


@pytest.mark.parametrize("value", NASTY_VALUES, ids=lambda v: type(v).__name__)
def test_nasty_values_encode_or_fail_alike(value: object) -> None:
    same_record({"column": value, "other": 1})
    same_record({"a": [value, value], "b": {"c": value}})
    same_record(value)


def test_keys_sort_by_utf16_code_units_in_both() -> None:
    keys = ["\ufb33", "\U0001f600", "\ue000", "a", "B", "", "ab", "\xff", "\U00010000", "\uffff"]
    rng = random.Random(3)
    for _ in range(200):
        rng.shuffle(keys)
        record = {key: index for index, key in enumerate(keys)}
        assert native_record(record) == pure_canonical_record(record)


def test_deep_nesting_and_cycles_fall_back_to_the_pure_code() -> None:
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    same_record({"deep": deep})
    cycle: list[object] = []
    cycle.append(cycle)
    assert outcome(lambda: native_record({"c": cycle}))[1] is RecursionError


def test_a_non_mapping_record_fails_as_the_pure_code_does() -> None:
    for record in ([("a", 1)], "text", 5, None):
        same_record(record)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(alphabet=st.characters(codec=None))  # lone surrogates included
)
any_values = st.recursive(
    json_scalars
    | st.binary(max_size=8)
    | st.dates()
    | st.datetimes(timezones=st.none() | st.timezones())
    | st.times()
    | st.decimals(allow_nan=True)
    | st.sampled_from([Colour.RED, Label("x"), frozenset(), dt.timedelta(1)]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(alphabet=st.characters(codec=None)), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, max_size=2)
    ),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(st.text(alphabet=st.characters(codec=None)), any_values, max_size=6))
def test_random_records_encode_or_fail_alike(record: dict[str, object]) -> None:
    same_record(record)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.text(), any_values, max_size=4), max_size=30))
def test_record_batches_hash_alike(records: list[dict[str, object]]) -> None:
    pure = outcome(lambda: [leaf_hash(pure_canonical_record(r)) for r in records])
    native = outcome(
        lambda: accel.record_leaves(records, pure_canonical_json, pure_canonical_record)
    )
    if pure[0] == "ok":
        hashes = b"".join(pure[1])  # type: ignore[arg-type]
        nbytes = sum(len(pure_canonical_record(r)) for r in records)
        assert native == ("ok", (hashes, nbytes))
    else:
        assert native == pure


# ---- Merkle trees --------------------------------------------------------------------------

SIZES = sorted(
    set(range(0, 70))
    | {k + d for p in range(7, 16) for k in (1 << p,) for d in (-1, 0, 1)}
    | {16384 * m + d for m in (1, 2, 3) for d in (-1, 0, 1, 3)}
)


def pure_builder() -> MerkleBuilder:
    _native.enabled = False
    try:
        return MerkleBuilder()
    finally:
        _native.enabled = True


def test_roots_agree_around_powers_of_two_and_block_boundaries() -> None:
    datas = [i.to_bytes(4, "big") * (i % 5) for i in range(max(SIZES))]
    hashes = [leaf_hash(d) for d in datas]
    for size in SIZES:
        pure = pure_builder()
        pure.add_leaves(datas[:size])
        native = MerkleBuilder()
        native.add_leaves(datas[:size])
        by_hash = accel.Merkle()
        by_hash.add_leaf_hashes(b"".join(hashes[:size]))
        expected = pure.root()
        assert native.root() == by_hash.root() == expected, size
        assert accel.root_of_leaf_hashes(b"".join(hashes[:size])) == expected
        assert native.size == by_hash.size == size


def test_roots_agree_when_leaves_arrive_one_by_one_and_roots_are_asked_midway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(merkle_module, "_BLOCK_LEAVES", 4)  # many blocks in the pure builder
    pure, native = pure_builder(), MerkleBuilder()
    for i in range(300):
        data = bytes([i % 256]) * (i % 7)
        if i % 3:
            pure.add_leaf(data)
            native.add_leaf(data)
        else:
            pure.add_leaf_hash(leaf_hash(data))
            native.add_leaf_hash(leaf_hash(data))
        assert native.root() == pure.root()
    assert native.size == pure.size == 300


def test_leaves_of_any_bytes_like_type_hash_alike() -> None:
    datas: list[Any] = [b"a", bytearray(b"bc"), memoryview(b"def"), b""]
    native = accel.Merkle()
    native.add_leaves(datas)
    pure = pure_builder()
    pure.add_leaves(datas)
    assert native.root() == pure.root()
    assert accel.leaf_hashes(datas) == b"".join(hashlib.sha256(b"\0" + d).digest() for d in datas)
    with pytest.raises(TypeError):
        not_all_bytes: list[Any] = [b"ok", "not bytes"]
        accel.Merkle().add_leaves(not_all_bytes)


def test_a_failing_record_leaves_the_records_before_it_added_in_both() -> None:
    records: list[dict[str, object]] = [{"i": i} for i in range(10)]
    records.append({"bad": math.nan})
    pure, native = pure_builder(), MerkleBuilder()
    for builder in (pure, native):
        with pytest.raises(CanonicalEncodingError, match="'bad'"):
            builder.add_records(records)
    assert native.size == pure.size == 10
    assert native.root() == pure.root()


def test_inclusion_paths_agree_for_every_leaf() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(40)]
    for size in range(1, 41):
        for index in range(size):
            native = accel.inclusion_path(b"".join(hashes[:size]), index)
            _native.enabled = False
            try:
                pure = inclusion_proof(hashes[:size], index)
            finally:
                _native.enabled = True
            assert native == pure, (size, index)
    big = [leaf_hash(i.to_bytes(3, "big")) for i in range(16384 + 77)]
    for index in (0, 1, 8191, 16383, 16384, 16384 + 76):
        _native.enabled = False
        try:
            pure = inclusion_proof(big, index)
        finally:
            _native.enabled = True
        assert inclusion_proof(big, index) == pure


def test_malformed_leaf_hashes_are_refused_by_the_accelerator() -> None:
    with pytest.raises(ValueError):
        accel.Merkle().add_leaf_hashes(b"\0" * 33)
    with pytest.raises(ValueError):
        accel.root_of_leaf_hashes(b"\0" * 31)
    with pytest.raises(IndexError):
        accel.inclusion_path(b"\0" * 64, 2)
    assert root_from_leaf_hashes([]) == hashlib.sha256(b"").digest()
