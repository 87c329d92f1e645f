//! Number text of canonical records (docs/spec/hashing.md §2.1).
//!
//! Doubles print as ECMAScript's Number::toString (ryu-js: shortest round-tripping digits,
//! the closest when several qualify, then ECMAScript's fixed/exponent layout); both zeros
//! print as "0". Integers print their exact digits. Arrow float32 and float16 values become
//! doubles first, as `cognify_hashing.arrow_values` does.

/// Append a finite double as ECMAScript prints it. The caller rejects NaN and infinities.
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    debug_assert!(value.is_finite());
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(value).as_bytes());
}

/// Append a double as Python's `repr` (and so `json.dumps`) writes it: the shortest digits
/// that round-trip, fixed notation for decimal exponents -4..15 (with ".0" when integral),
/// otherwise `d.ddde+XX`; `NaN`, `Infinity`, `-Infinity` for the rest.
pub fn write_python_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
        return;
    }
    if value.is_sign_negative() {
        out.push(b'-');
    }
    if value == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    // ryu-js prints the shortest round-tripping digits (the closest when several qualify,
    // as Python's repr picks) in ECMAScript's layout: "1496887933091857.2", "1.5e-7", "1e+21",
    // "0.000001". Take the significant digits and the decimal exponent of the first one.
    let mut buffer = ryu_js::Buffer::new();
    let text = buffer.format_finite(value.abs());
    let (number, shift) = match text.split_once('e') {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().expect("an exponent")),
        None => (text, 0),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let all: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
    let lead = all.iter().take_while(|&&b| b == b'0').count();
    let trail = all.iter().rev().take_while(|&&b| b == b'0').count();
    let digits = &all[lead..all.len() - trail];
    let exponent = whole.len() as i32 - 1 - lead as i32 + shift;
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-exponent - 1) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            let whole = exponent as usize + 1;
            if digits.len() <= whole {
                out.extend_from_slice(digits);
                out.resize(out.len() + whole - digits.len(), b'0');
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..whole]);
                out.push(b'.');
                out.extend_from_slice(&digits[whole..]);
            }
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(
            format!(
                "e{}{:02}",
                if exponent < 0 { '-' } else { '+' },
                exponent.abs()
            )
            .as_bytes(),
        );
    }
}

/// The double nearest to the shortest decimal that round-trips at single precision (what
/// Arrow's float32 -> string -> float64 casts give): float32 0.1 -> 0.1, not 0.100000001...
pub fn widen_f32(value: f32) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value as f64; // keeps the sign of zero, as Arrow's "-0" text does
    }
    let mut buffer = ryu_js::Buffer::new();
    let text = buffer.format_finite(value);
    text.parse::<f64>()
        .expect("ryu-js prints parseable numbers")
}

/// IEEE half precision widened exactly to a double.
pub fn widen_f16(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        0x1f if fraction == 0.0 => sign * f64::INFINITY,
        0x1f => f64::NAN,
        _ => sign * (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    }
}

/// Append the decimal digits of an unsigned integer.
pub fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Append the decimal digits of a signed integer.
pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u64(out, value.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn spec_number_vectors() {
        let cases = [
            (0x0000000000000000u64, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, expected) in cases {
            assert_eq!(text(f64::from_bits(bits)), expected, "{bits:016x}");
        }
    }

    #[test]
    fn half_precision_widens_exactly() {
        assert_eq!(widen_f16(0x2e66), 0.0999755859375);
        assert_eq!(widen_f16(0x3c00), 1.0);
        assert_eq!(widen_f16(0xc000), -2.0);
        assert_eq!(widen_f16(0x0001), 2f64.powi(-24));
        assert_eq!(widen_f16(0x7bff), 65504.0);
        assert!(widen_f16(0x7c00).is_infinite());
        assert!(widen_f16(0x7e00).is_nan());
    }

    #[test]
    fn single_precision_takes_its_shortest_decimal() {
        assert_eq!(widen_f32(0.1f32), 0.1);
        assert_eq!(widen_f32(-0.0f32).to_bits(), (-0.0f64).to_bits());
        assert_eq!(widen_f32(3.4028235e38f32), 3.4028235e38);
    }
}
