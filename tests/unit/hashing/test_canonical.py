"""Canonical record bytes: RFC 8785 (JCS) plus the spec's type mapping."""

import datetime as dt
import json
import math
import struct
from decimal import Decimal
from typing import Any

import pytest
import rfc8785
from cognify_hashing import CanonicalEncodingError, canonical_json, canonical_record, format_float
from hypothesis import given
from hypothesis import strategies as st


def text(value: object) -> str:
    return canonical_json(value).decode("utf-8")


def test_members_are_sorted_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 and U+FB33 there,
    # although its code point is larger.
    record = {"\ufb33": 1, "\U0001f600": 2, "\ue000": 3, "a": 4, "B": 5}
    keys = list(json.loads(canonical_record(record)))
    assert keys == ["B", "a", "\U0001f600", "\ue000", "\ufb33"]


def test_column_order_of_the_source_does_not_change_the_bytes() -> None:
    assert canonical_record({"a": 1, "b": 2}) == canonical_record({"b": 2, "a": 1})


def test_strings_escape_only_what_rfc_8785_requires() -> None:
    assert text('"\\') == r'"\"\\"'
    assert text("\b\t\n\f\r") == r'"\b\t\n\f\r"'
    assert text("\x00\x01\x1f") == r'"\u0000\u0001\u001f"'
    assert text("\x7f\u2028\u2029é€😀/") == '"\x7f\u2028\u2029é€😀/"'


def test_output_has_no_whitespace_and_literals_are_lowercase() -> None:
    assert text({"a": [1, None, True, False, {"b": []}]}) == '{"a":[1,null,true,false,{"b":[]}]}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (4.5, "4.5"),
        (0.002, "0.002"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e30, "1e+30"),
        (1e-27, "1e-27"),
        (333333333.33333329, "333333333.3333333"),
        (2.0**53, "9007199254740992"),
        (2.0**60, "1152921504606847000"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_floats_print_as_ecmascript_number_to_string(value: float, expected: str) -> None:
    assert format_float(value) == expected


def test_integers_keep_exact_digits_beyond_2_to_the_53() -> None:
    assert text(2**53 + 1) == "9007199254740993"
    assert text(-(2**63)) == "-9223372036854775808"
    assert text(2**64 - 1) == "18446744073709551615"
    assert text(2**53 + 1) != text(2**53)


def test_an_integral_float_and_the_same_integer_encode_alike() -> None:
    assert canonical_record({"n": 1.0}) == canonical_record({"n": 1})
    assert canonical_record({"n": -42.0}) == canonical_record({"n": -42})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_naming_the_column(bad: float) -> None:
    with pytest.raises(CanonicalEncodingError, match=r"column 'loss'") as caught:
        canonical_record({"id": 1, "loss": bad})
    assert isinstance(caught.value, ValueError)


def test_errors_inside_nested_values_name_the_column_and_the_path() -> None:
    record = {"metrics": [{"acc": 0.5}, {"acc": math.nan}]}
    with pytest.raises(CanonicalEncodingError, match=r"column 'metrics' at \[1\]\['acc'\]"):
        canonical_record(record)


def test_unsupported_types_and_non_string_keys_are_refused() -> None:
    with pytest.raises(CanonicalEncodingError, match="timedelta"):
        canonical_record({"d": dt.timedelta(seconds=1)})
    with pytest.raises(CanonicalEncodingError, match="set"):
        canonical_record({"s": {1, 2}})
    with pytest.raises(CanonicalEncodingError, match="not a string"):
        canonical_record({"nested": {1: "x"}})
    with pytest.raises(CanonicalEncodingError, match="time zone"):
        canonical_record({"t": dt.time(1, 2, tzinfo=dt.UTC)})


def test_a_lone_surrogate_is_refused_naming_the_column() -> None:
    with pytest.raises(CanonicalEncodingError, match=r"column 'text'.*surrogate"):
        canonical_record({"ok": "fine", "text": "bad \ud800"})


def test_bytes_are_standard_padded_base64() -> None:
    assert text(b"\x00\xff\x10\xfb") == '"AP8Q+w=="'
    assert text(bytearray(b"ab")) == '"YWI="'
    assert text(b"") == '""'


def test_datetimes_are_iso_8601_and_aware_ones_are_converted_to_utc() -> None:
    assert text(dt.date(2024, 2, 29)) == '"2024-02-29"'
    assert text(dt.datetime(2024, 2, 29, 1, 2, 3)) == '"2024-02-29T01:02:03"'
    assert text(dt.datetime(2024, 2, 29, 1, 2, 3, 450000)) == '"2024-02-29T01:02:03.45"'
    plus_two = dt.timezone(dt.timedelta(hours=2))
    aware = dt.datetime(2024, 3, 1, 1, 0, tzinfo=plus_two)
    assert text(aware) == '"2024-02-29T23:00:00Z"'
    assert text(aware) == text(aware.astimezone(dt.UTC))
    assert text(dt.time(23, 59, 59, 1)) == '"23:59:59.000001"'


def test_decimals_are_plain_decimal_strings_without_trailing_zeros() -> None:
    assert text(Decimal("1.50")) == text(Decimal("1.5")) == '"1.5"'
    assert text(Decimal("-001.2300")) == '"-1.23"'
    assert text(Decimal("1E+3")) == '"1000"'
    assert text(Decimal("-0.000")) == '"0"'
    assert text(Decimal("1.2345678901234567890123456789012345")) == (
        '"1.2345678901234567890123456789012345"'
    )
    with pytest.raises(CanonicalEncodingError):
        text(Decimal("NaN"))


def test_tuples_encode_as_arrays_like_arrow_map_entries() -> None:
    assert text([("k", 1)]) == '[["k",1]]'


finite_doubles = st.floats(allow_nan=False, allow_infinity=False)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_any_finite_double_round_trips_through_its_text(bits: int) -> None:
    value = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
    if math.isfinite(value):
        assert float(format_float(value)) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_doubles | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_canonical_bytes_parse_back_and_are_a_fixed_point(record: dict[str, object]) -> None:
    canonical = canonical_record(record)
    parsed = json.loads(canonical)
    assert canonical_record(parsed) == canonical


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_json_records_match_an_independent_rfc_8785_implementation(
    record: dict[str, Any],
) -> None:
    if _has_large_int(record):
        return  # we keep exact digits beyond 2**53, where RFC 8785 goes through doubles
    assert canonical_record(record) == rfc8785.dumps(record)


def _has_large_int(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > 2**53 - 1  # rfc8785 refuses beyond the safe integers
    if isinstance(value, dict):
        return any(_has_large_int(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_large_int(item) for item in value)
    return False


def test_an_integer_too_long_to_print_is_refused_naming_the_column() -> None:
    with pytest.raises(CanonicalEncodingError, match=r"column 'n'.*too large"):
        canonical_record({"n": 10**5000})
