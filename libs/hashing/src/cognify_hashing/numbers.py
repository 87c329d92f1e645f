"""JSON number text for canonical records (hashing spec v1, section "Numbers").

Floats follow ECMAScript's Number::toString, as RFC 8785 requires; integers are written as
their exact decimal digits so that no two distinct int64/uint64 values ever share a hash.
"""

from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["format_decimal", "format_float", "format_int"]

# Below 2**53 every integral double prints as its own digits, the common case worth a shortcut.
_EXACT_INTEGER_LIMIT = 9007199254740992.0


def format_float(value: float) -> str:
    """Format a finite double exactly as ECMAScript's `Number.prototype.toString()` does.

    Raises ValueError for NaN and the infinities, which JSON cannot represent.
    """
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number; canonical JSON has no NaN/Infinity")
    if value == 0.0:
        return "0"  # also -0.0: ECMAScript prints both zeros as "0"
    if value.is_integer() and -_EXACT_INTEGER_LIMIT < value < _EXACT_INTEGER_LIMIT:
        return str(int(value))
    if 1e-4 <= abs(value) < 1e16:
        # Here repr() is positional with the same shortest digits ECMAScript would print.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if value < 0.0:
        return "-" + _format_positive(-value)
    return _format_positive(value)


def _format_positive(value: float) -> str:
    # repr() yields the shortest digit string that round-trips, ties broken towards the
    # closest decimal: the (s, k, n) that ECMAScript's algorithm asks for.
    digits, point = _shortest_digits(value)
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    exponent = point - 1
    sign = "+" if exponent > 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(exponent)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return (digits, n) with value == 0.digits * 10**n and no leading/trailing zero digits."""
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    exponent = int(exp_text) if exp_text else 0
    digits = whole + fraction
    point = len(whole) + exponent
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0"), point


def format_int(value: int) -> str:
    """Exact decimal digits of an integer of any size (spec v1 decision, not RFC 8785's double)."""
    try:
        return str(value)
    except ValueError as exc:  # Python refuses int->str beyond sys.get_int_max_str_digits()
        raise ValueError(f"integer too large to encode: {exc}") from exc


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation of an exact decimal, without exponent or trailing zeros.

    Decimals become JSON *strings* in canonical records (their exactness would be lost as an
    ECMAScript number), so `Decimal("1.50")` and `Decimal("1.5")` both give `1.5`.
    """
    if not value.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal")
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite decimals always have an integer exponent
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    if exponent >= 0:
        text = digits + "0" * exponent
    else:
        point = len(digits) + exponent
        text = digits[:point] + "." + digits[point:] if point > 0 else "0." + "0" * -point + digits
    return "-" + text if sign else text
