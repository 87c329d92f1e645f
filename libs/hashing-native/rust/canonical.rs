//! Canonical JSON text (docs/spec/hashing.md §2): string escaping, member order, and the
//! encoder from Python objects.
//!
//! The encoder takes exactly the types whose canonical form is plain JSON: `dict`, `list`,
//! `tuple`, `str`, `int`, `float`, `bool` and `None` (exact types, no subclasses). Any other
//! value goes to a Python hook (the pure implementation's `canonical_json`); any refusal
//! (NaN, a lone surrogate, a non-string key, a hook that raised, nesting deeper than
//! `MAX_DEPTH`) makes the caller hand the whole record to the pure implementation, which
//! then returns the same bytes or raises today's error with today's message.

use std::cmp::Ordering;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::float::{write_f64, write_i64, write_python_f64};

/// Deeper values are left to the pure implementation (which has Python's recursion limit).
pub const MAX_DEPTH: u32 = 200;

/// The pure implementation must decide: the value has no plain-JSON canonical form here.
#[derive(Debug)]
pub struct Unsupported;

const fn escape_table() -> [u8; 256] {
    // 0: copy; b'u': \u00XX; anything else: the letter after the backslash.
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
}

static ESCAPE: [u8; 256] = escape_table();
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `text` (valid UTF-8) as a JSON string, escaped as RFC 8785 §3.2.2.2 says: `"`, `\`
/// and the control characters only, `\u00XX` with lowercase hex; everything else as itself.
pub fn write_string(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (at, &byte) in text.iter().enumerate() {
        let code = ESCAPE[byte as usize];
        if code == 0 {
            continue;
        }
        out.extend_from_slice(&text[start..at]);
        if code == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(byte >> 4) as usize]);
            out.push(HEX[(byte & 0xf) as usize]);
        } else {
            out.push(b'\\');
            out.push(code);
        }
        start = at + 1;
    }
    out.extend_from_slice(&text[start..]);
    out.push(b'"');
}

/// True when `write_string` would copy `text` unchanged between the quotes.
pub fn needs_no_escape(text: &[u8]) -> bool {
    text.iter().all(|&byte| ESCAPE[byte as usize] == 0)
}

/// Order of two keys (valid UTF-8) as sequences of UTF-16 code units (RFC 8785 §3.2.3).
///
/// UTF-8 byte order is code point order, which differs from UTF-16 order only where a code
/// point of U+E000..U+FFFF meets one above U+FFFF (stored as surrogates D800..DFFF).
pub fn utf16_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let Some(at) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return a.len().cmp(&b.len());
    };
    if a[at] < 0x80 && b[at] < 0x80 {
        return a[at].cmp(&b[at]);
    }
    // Both differ inside the character that starts at the same boundary (equal prefixes).
    let start = (0..=at).rev().find(|&i| a[i] & 0xc0 != 0x80).unwrap_or(0);
    let (x, y) = (first_char(&a[start..]), first_char(&b[start..]));
    (first_unit(x), x).cmp(&(first_unit(y), y))
}

/// The character at the start of `text` (valid UTF-8, starting at a character boundary).
fn first_char(text: &[u8]) -> u32 {
    let len = match text[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    std::str::from_utf8(&text[..len.min(text.len())])
        .ok()
        .and_then(|s| s.chars().next())
        .map_or(0, u32::from)
}

fn first_unit(c: u32) -> u32 {
    if c >= 0x10000 {
        0xd800 + ((c - 0x10000) >> 10)
    } else {
        c
    }
}

/// Which JSON text the encoder writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// Canonical records (docs/spec/hashing.md §2): RFC 8785 member order and numbers.
    Canonical,
    /// `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`: the
    /// signed bytes of an event (docs/spec/events.md). Members in code point order, doubles
    /// as Python's `repr`, NaN and the infinities as `NaN`, `Infinity`, `-Infinity`.
    PythonJson,
}

/// Encoder of Python values to canonical bytes, with a hook for the types it does not know
/// (none in the `PythonJson` dialect: every other type is `Unsupported`).
pub struct Encoder<'a, 'py> {
    value_hook: Option<&'a Bound<'py, PyAny>>,
    dialect: Dialect,
}

impl<'a, 'py> Encoder<'a, 'py> {
    pub fn canonical(value_hook: &'a Bound<'py, PyAny>) -> Self {
        Encoder {
            value_hook: Some(value_hook),
            dialect: Dialect::Canonical,
        }
    }

    pub fn python_json() -> Self {
        Encoder {
            value_hook: None,
            dialect: Dialect::PythonJson,
        }
    }

    /// The signed bytes of an event object: the object without its top-level `signature`.
    pub fn event_body(
        &self,
        event: &Bound<'py, PyAny>,
        out: &mut Vec<u8>,
    ) -> Result<(), Unsupported> {
        let dict = event.cast_exact::<PyDict>().map_err(|_| Unsupported)?;
        self.members(dict, out, 0, Some("signature"))
    }

    pub fn record(&self, record: &Bound<'py, PyAny>, out: &mut Vec<u8>) -> Result<(), Unsupported> {
        match record.cast_exact::<PyDict>() {
            Ok(dict) => self.object(dict, out, 0),
            Err(_) => Err(Unsupported),
        }
    }

    pub fn value(
        &self,
        value: &Bound<'py, PyAny>,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<(), Unsupported> {
        if depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        if let Ok(text) = value.cast_exact::<PyString>() {
            let text = text.to_str().map_err(|_| Unsupported)?; // a lone surrogate fails here
            write_string(out, text.as_bytes());
        } else if value.is_exact_instance_of::<PyInt>() {
            write_int(value, out)?;
        } else if let Ok(float) = value.cast_exact::<PyFloat>() {
            let number = float.value();
            match self.dialect {
                Dialect::Canonical if !number.is_finite() => return Err(Unsupported),
                Dialect::Canonical => write_f64(out, number),
                Dialect::PythonJson => write_python_f64(out, number),
            }
        } else if value.is_none() {
            out.extend_from_slice(b"null");
        } else if let Ok(flag) = value.cast_exact::<PyBool>() {
            out.extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
        } else if let Ok(dict) = value.cast_exact::<PyDict>() {
            self.object(dict, out, depth)?;
        } else if let Ok(list) = value.cast_exact::<PyList>() {
            out.push(b'[');
            for (index, item) in list.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                self.value(&item, out, depth + 1)?;
            }
            out.push(b']');
        } else if let Ok(tuple) = value.cast_exact::<PyTuple>() {
            out.push(b'[');
            for (index, item) in tuple.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                self.value(&item, out, depth + 1)?;
            }
            out.push(b']');
        } else {
            let hook = self.value_hook.ok_or(Unsupported)?;
            let encoded = hook.call1((value,)).map_err(|_| Unsupported)?;
            let bytes = encoded.cast_exact::<PyBytes>().map_err(|_| Unsupported)?;
            out.extend_from_slice(bytes.as_bytes());
        }
        Ok(())
    }

    fn object(
        &self,
        dict: &Bound<'py, PyDict>,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<(), Unsupported> {
        self.members(dict, out, depth, None)
    }

    fn members(
        &self,
        dict: &Bound<'py, PyDict>,
        out: &mut Vec<u8>,
        depth: u32,
        skip: Option<&str>,
    ) -> Result<(), Unsupported> {
        if depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        let mut keys: Vec<Bound<'py, PyString>> = Vec::with_capacity(dict.len());
        let mut values: Vec<Bound<'py, PyAny>> = Vec::with_capacity(dict.len());
        for (key, value) in dict.iter() {
            let key = key.cast_into_exact::<PyString>().map_err(|_| Unsupported)?;
            if skip.is_some() && key.to_str().ok() == skip {
                continue;
            }
            keys.push(key);
            values.push(value);
        }
        let texts = keys
            .iter()
            .map(|key| key.to_str().map(str::as_bytes))
            .collect::<Result<Vec<&[u8]>, _>>()
            .map_err(|_| Unsupported)?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        match self.dialect {
            Dialect::Canonical => order.sort_unstable_by(|&a, &b| utf16_cmp(texts[a], texts[b])),
            Dialect::PythonJson => order.sort_unstable_by(|&a, &b| texts[a].cmp(texts[b])),
        }
        out.push(b'{');
        for (position, &index) in order.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            write_string(out, texts[index]);
            out.push(b':');
            self.value(&values[index], out, depth + 1)?;
        }
        out.push(b'}');
        Ok(())
    }
}

fn write_int(value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> Result<(), Unsupported> {
    let mut overflow = 0;
    // SAFETY: `value` is an exact int, a valid object for the duration of the call.
    let small = unsafe { ffi::PyLong_AsLongLongAndOverflow(value.as_ptr(), &mut overflow) };
    if overflow == 0 {
        if small == -1 && PyErr::take(value.py()).is_some() {
            return Err(Unsupported);
        }
        write_i64(out, small);
        return Ok(());
    }
    // Beyond 64 bits: Python's own decimal digits (which refuses past int_max_str_digits).
    let text = value.str().map_err(|_| Unsupported)?;
    out.extend_from_slice(text.to_str().map_err(|_| Unsupported)?.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_utf16_code_units() {
        let mut keys = vec![
            "\u{fb33}",
            "\u{1f600}",
            "\u{e000}",
            "a",
            "B",
            "",
            "ab",
            "\u{ff}",
        ];
        keys.sort_by(|a, b| utf16_cmp(a.as_bytes(), b.as_bytes()));
        assert_eq!(
            keys,
            [
                "",
                "B",
                "a",
                "ab",
                "\u{ff}",
                "\u{1f600}",
                "\u{e000}",
                "\u{fb33}"
            ]
        );
    }

    #[test]
    fn strings_escape_only_quotes_backslashes_and_controls() {
        let mut out = Vec::new();
        write_string(
            &mut out,
            "\"\\\u{8}\t\n\u{c}\r\u{0}\u{1f}\u{7f}é/".as_bytes(),
        );
        assert_eq!(
            out,
            "\"\\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f\u{7f}é/\"".as_bytes()
        );
    }
}
