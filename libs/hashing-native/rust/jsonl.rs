//! JSON Lines to leaf hashes without building Python objects.
//!
//! Each line is parsed by a small strict JSON parser straight to its canonical bytes
//! (members sorted by UTF-16 code units, numbers re-printed) and hashed as a Merkle leaf.
//! The parser accepts a subset of what Python's `json` accepts and refuses everything else
//! (invalid UTF-8, duplicate keys, NaN/Infinity, lone surrogate escapes, raw control
//! characters, numbers that overflow to infinity, integers longer than 640 digits, nesting
//! deeper than 128, a non-object record...): the Python driver then decodes that one line
//! itself, so every error keeps today's message and line number.
//!
//! For schema inference it also reports, per batch of records, the first line of each
//! distinct *shape*: a recursive type signature (object keys in order with their value
//! shapes, list element shapes as a set, integers told apart by int64 / uint64 / larger
//! range). Arrow's type inference over those lines equals its inference over the batch.

use std::collections::HashSet;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::canonical::{needs_no_escape, utf16_cmp, write_string};
use crate::float::write_f64;
use crate::merkle::leaf_hash;

const MAX_DEPTH: u32 = 128;
/// Python refuses integers longer than sys.get_int_max_str_digits() (640 at the least).
const MAX_INT_DIGITS: usize = 640;
const MAX_NUMBER_TEXT: usize = 1000;

#[derive(Debug)]
pub struct Refused;

type Parsed = Result<(), Refused>;

#[derive(Default)]
struct ObjectScratch {
    buf: Vec<u8>,
    members: Vec<(usize, usize, usize)>, // key start, key end (= value start), value end
}

#[derive(Default)]
struct ListScratch {
    sigs: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

/// One line of JSON to canonical bytes and a shape signature.
#[derive(Default)]
pub struct LineParser {
    objects: Vec<ObjectScratch>,
    lists: Vec<ListScratch>,
    text: Vec<u8>,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Parsed {
        if self.peek() == Some(byte) {
            self.i += 1;
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Parsed {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }
}

fn push_sig_bytes(sig: &mut Vec<u8>, bytes: &[u8]) {
    sig.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    sig.extend_from_slice(bytes);
}

impl LineParser {
    /// Canonical bytes of one record line into `out`, its shape into `sig`.
    pub fn parse(&mut self, line: &[u8], out: &mut Vec<u8>, sig: &mut Vec<u8>) -> Parsed {
        std::str::from_utf8(line).map_err(|_| Refused)?;
        let mut c = Cursor { s: line, i: 0 };
        c.ws();
        c.eat(b'{')?;
        self.object(&mut c, out, sig, 0)?;
        c.ws();
        if c.i == line.len() {
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn value(
        &mut self,
        c: &mut Cursor,
        out: &mut Vec<u8>,
        sig: &mut Vec<u8>,
        depth: u32,
    ) -> Parsed {
        match c.peek().ok_or(Refused)? {
            b'{' => {
                c.i += 1;
                self.object(c, out, sig, depth + 1)
            }
            b'[' => {
                c.i += 1;
                self.list(c, out, sig, depth + 1)
            }
            b'"' => {
                c.i += 1;
                sig.push(b's');
                self.string_value(c, out)
            }
            b't' => {
                sig.push(b'b');
                c.literal(b"true")?;
                out.extend_from_slice(b"true");
                Ok(())
            }
            b'f' => {
                sig.push(b'b');
                c.literal(b"false")?;
                out.extend_from_slice(b"false");
                Ok(())
            }
            b'n' => {
                sig.push(b'n');
                c.literal(b"null")?;
                out.extend_from_slice(b"null");
                Ok(())
            }
            b'-' | b'0'..=b'9' => number(c, out, sig),
            _ => Err(Refused),
        }
    }

    fn object(
        &mut self,
        c: &mut Cursor,
        out: &mut Vec<u8>,
        sig: &mut Vec<u8>,
        depth: u32,
    ) -> Parsed {
        if depth > MAX_DEPTH {
            return Err(Refused);
        }
        let level = depth as usize;
        if self.objects.len() <= level {
            self.objects.resize_with(level + 1, Default::default);
        }
        let mut scratch = std::mem::take(&mut self.objects[level]);
        scratch.buf.clear();
        scratch.members.clear();
        let mut parsed = self.members(c, &mut scratch, sig, depth);
        if parsed.is_ok() {
            parsed = emit_object(&mut scratch, out);
        }
        self.objects[level] = scratch;
        parsed
    }

    fn members(
        &mut self,
        c: &mut Cursor,
        scratch: &mut ObjectScratch,
        sig: &mut Vec<u8>,
        depth: u32,
    ) -> Parsed {
        sig.push(b'{');
        c.ws();
        if c.peek() == Some(b'}') {
            c.i += 1;
            sig.push(b'}');
            return Ok(());
        }
        loop {
            c.ws();
            c.eat(b'"')?;
            let key_start = scratch.buf.len();
            self.string_text(c, &mut scratch.buf)?;
            let key_end = scratch.buf.len();
            push_sig_bytes(sig, &scratch.buf[key_start..key_end]);
            c.ws();
            c.eat(b':')?;
            c.ws();
            self.value(c, &mut scratch.buf, sig, depth)?;
            scratch
                .members
                .push((key_start, key_end, scratch.buf.len()));
            c.ws();
            match c.peek() {
                Some(b',') => c.i += 1,
                Some(b'}') => {
                    c.i += 1;
                    sig.push(b'}');
                    return Ok(());
                }
                _ => return Err(Refused),
            }
        }
    }

    fn list(&mut self, c: &mut Cursor, out: &mut Vec<u8>, sig: &mut Vec<u8>, depth: u32) -> Parsed {
        if depth > MAX_DEPTH {
            return Err(Refused);
        }
        let level = depth as usize;
        if self.lists.len() <= level {
            self.lists.resize_with(level + 1, Default::default);
        }
        let mut scratch = std::mem::take(&mut self.lists[level]);
        scratch.sigs.clear();
        scratch.ranges.clear();
        let parsed = self.elements(c, out, &mut scratch, depth);
        if parsed.is_ok() {
            // The list's shape is the *set* of its elements' shapes.
            let ListScratch { sigs, ranges } = &mut scratch;
            ranges.sort_unstable_by(|a, b| sigs[a.0..a.1].cmp(&sigs[b.0..b.1]));
            ranges.dedup_by(|a, b| sigs[a.0..a.1] == sigs[b.0..b.1]);
            sig.push(b'[');
            for &(start, end) in ranges.iter() {
                push_sig_bytes(sig, &sigs[start..end]);
            }
            sig.push(b']');
        }
        self.lists[level] = scratch;
        parsed
    }

    fn elements(
        &mut self,
        c: &mut Cursor,
        out: &mut Vec<u8>,
        scratch: &mut ListScratch,
        depth: u32,
    ) -> Parsed {
        out.push(b'[');
        c.ws();
        if c.peek() == Some(b']') {
            c.i += 1;
            out.push(b']');
            return Ok(());
        }
        loop {
            c.ws();
            let start = scratch.sigs.len();
            self.value(c, out, &mut scratch.sigs, depth)?;
            scratch.ranges.push((start, scratch.sigs.len()));
            c.ws();
            match c.peek() {
                Some(b',') => {
                    c.i += 1;
                    out.push(b',');
                }
                Some(b']') => {
                    c.i += 1;
                    out.push(b']');
                    return Ok(());
                }
                _ => return Err(Refused),
            }
        }
    }

    /// A string value (after its opening quote) as canonical JSON text.
    fn string_value(&mut self, c: &mut Cursor, out: &mut Vec<u8>) -> Parsed {
        let start = c.i;
        if let Some(end) = plain_string_end(c.s, start) {
            // No escapes: the JSON text is already canonical.
            c.i = end + 1;
            out.push(b'"');
            out.extend_from_slice(&c.s[start..end]);
            out.push(b'"');
            return Ok(());
        }
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let parsed = self.string_text(c, &mut text);
        if parsed.is_ok() {
            write_string(out, &text);
        }
        self.text = text;
        parsed
    }

    /// The decoded UTF-8 text of a string (after its opening quote), appended to `into`.
    fn string_text(&mut self, c: &mut Cursor, into: &mut Vec<u8>) -> Parsed {
        loop {
            let run = c.i;
            while let Some(&byte) = c.s.get(c.i) {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                c.i += 1;
            }
            into.extend_from_slice(&c.s[run..c.i]);
            match c.peek().ok_or(Refused)? {
                b'"' => {
                    c.i += 1;
                    return Ok(());
                }
                b'\\' => {
                    c.i += 1;
                    escape(c, into)?;
                }
                _ => return Err(Refused), // a raw control character (Python's strict mode)
            }
        }
    }
}

/// The index of the closing quote when the string starting at `start` has no escape and no
/// control character (so its bytes are its canonical text), else None.
#[inline]
fn plain_string_end(s: &[u8], start: usize) -> Option<usize> {
    let end = start + memchr::memchr(b'"', &s[start..])?;
    let body = &s[start..end];
    if needs_no_escape(body) {
        Some(end)
    } else {
        None
    }
}

fn hex4(c: &mut Cursor) -> Result<u32, Refused> {
    let digits = c.s.get(c.i..c.i + 4).ok_or(Refused)?;
    let mut value = 0u32;
    for &d in digits {
        value = value * 16 + (d as char).to_digit(16).ok_or(Refused)?;
    }
    c.i += 4;
    Ok(value)
}

fn escape(c: &mut Cursor, into: &mut Vec<u8>) -> Parsed {
    let byte = c.peek().ok_or(Refused)?;
    c.i += 1;
    let plain = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let unit = hex4(c)?;
            let code = match unit {
                0xd800..=0xdbff => {
                    // Only a high surrogate followed by a low one is a character; a lone
                    // surrogate is left to Python (which then refuses to encode it).
                    c.literal(b"\\u")?;
                    let low = hex4(c)?;
                    if !(0xdc00..=0xdfff).contains(&low) {
                        return Err(Refused);
                    }
                    0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                }
                0xdc00..=0xdfff => return Err(Refused),
                _ => unit,
            };
            let ch = char::from_u32(code).ok_or(Refused)?;
            let mut utf8 = [0u8; 4];
            into.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            return Ok(());
        }
        _ => return Err(Refused),
    };
    into.push(plain);
    Ok(())
}

/// A JSON number: integers keep their exact digits, others are doubles in ECMAScript form.
fn number(c: &mut Cursor, out: &mut Vec<u8>, sig: &mut Vec<u8>) -> Parsed {
    let start = c.i;
    let negative = c.peek() == Some(b'-');
    if negative {
        c.i += 1;
    }
    let int_start = c.i;
    match c.peek() {
        Some(b'0') => c.i += 1,
        Some(b'1'..=b'9') => {
            c.digits();
        }
        _ => return Err(Refused),
    }
    let int_end = c.i;
    let mut is_float = false;
    if c.peek() == Some(b'.') {
        c.i += 1;
        if c.digits() == 0 {
            return Err(Refused);
        }
        is_float = true;
    }
    if let Some(b'e' | b'E') = c.peek() {
        c.i += 1;
        if let Some(b'+' | b'-') = c.peek() {
            c.i += 1;
        }
        if c.digits() == 0 {
            return Err(Refused);
        }
        is_float = true;
    }
    let text = &c.s[start..c.i];
    if text.len() > MAX_NUMBER_TEXT {
        return Err(Refused);
    }
    if is_float {
        // Correctly rounded, as Python's float() is; overflow to infinity is Python's error.
        let value: f64 = std::str::from_utf8(text)
            .map_err(|_| Refused)?
            .parse()
            .map_err(|_| Refused)?;
        if !value.is_finite() {
            return Err(Refused);
        }
        write_f64(out, value);
        sig.push(b'f');
        return Ok(());
    }
    let digits = &c.s[int_start..int_end];
    if digits.len() > MAX_INT_DIGITS {
        return Err(Refused);
    }
    if digits == b"0" {
        out.push(b'0'); // "-0" is the integer 0
    } else {
        if negative {
            out.push(b'-');
        }
        out.extend_from_slice(digits);
    }
    sig.push(int_class(negative, digits));
    Ok(())
}

/// Arrow infers int64 for Python ints in range and fails beyond: keep those apart.
fn int_class(negative: bool, digits: &[u8]) -> u8 {
    if digits.len() <= 18 {
        return b'i';
    }
    if digits.len() > 20 {
        return b'I';
    }
    let magnitude: u128 = digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + u128::from(d - b'0'));
    if negative {
        if magnitude <= 1u128 << 63 {
            b'i'
        } else {
            b'I'
        }
    } else if magnitude <= i64::MAX as u128 {
        b'i'
    } else if magnitude <= u64::MAX as u128 {
        b'u'
    } else {
        b'I'
    }
}

fn emit_object(scratch: &mut ObjectScratch, out: &mut Vec<u8>) -> Parsed {
    let ObjectScratch { buf, members } = scratch;
    members.sort_unstable_by(|a, b| utf16_cmp(&buf[a.0..a.1], &buf[b.0..b.1]));
    if members
        .windows(2)
        .any(|w| buf[w[0].0..w[0].1] == buf[w[1].0..w[1].1])
    {
        return Err(Refused); // duplicate keys: Python names them in its error
    }
    out.push(b'{');
    for (index, &(key_start, key_end, value_end)) in members.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(out, &buf[key_start..key_end]);
        out.push(b':');
        out.extend_from_slice(&buf[key_end..value_end]);
    }
    out.push(b'}');
    Ok(())
}

/// A byte `bytes.strip()` removes (ASCII whitespace).
pub fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `bytes.strip()` would leave nothing: a blank line, which is not a record.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| is_space(b))
}

/// (leaf hashes, record count, canonical bytes, [(line number, line)] samples).
type Batch<'py> = (
    Bound<'py, PyBytes>,
    usize,
    u64,
    Vec<(u64, Bound<'py, PyBytes>)>,
);

const NEED_DATA: u8 = 0;
const BATCH_READY: u8 = 1;
const LINE_REFUSED: u8 = 2;

/// Leaf hashes of a JSON Lines byte stream, a batch of records at a time.
///
/// The driver `feed`s file bytes and calls `advance`, which returns NEED_DATA (feed more,
/// or `finish` at end of file; `done` says when no more is wanted), BATCH_READY
/// (`take_batch`) or LINE_REFUSED (`refused_line`, then `accept` the canonical bytes the
/// driver computed for it).
#[pyclass(module = "cognify_hashing_native")]
pub struct JsonLines {
    data: Vec<u8>,
    pos: usize,
    eof: bool,
    done: bool,
    batch_rows: usize,
    skip: u64,
    remaining: Option<u64>,
    line: u64,
    hashes: Vec<u8>,
    count: usize,
    nbytes: u64,
    shapes: HashSet<Vec<u8>>,
    samples: Vec<(u64, Vec<u8>)>,
    refused: Option<(u64, Vec<u8>)>,
    parser: LineParser,
    canonical: Vec<u8>,
    sig: Vec<u8>,
}

impl JsonLines {
    fn batch_ready(&self) -> bool {
        self.count > 0 && (self.count == self.batch_rows || self.remaining == Some(0) || self.done)
    }

    /// Count one record whose canonical bytes are in `self.canonical`.
    fn push_record(&mut self, sample: Option<(u64, Vec<u8>)>) {
        self.hashes.extend_from_slice(&leaf_hash(&self.canonical));
        self.count += 1;
        self.nbytes += self.canonical.len() as u64;
        if let Some(left) = self.remaining.as_mut() {
            *left -= 1;
        }
        self.samples.extend(sample);
    }

    /// Process lines until a batch fills, a line is refused, or the data runs out.
    fn run(&mut self) -> u8 {
        loop {
            if self.batch_ready() {
                return BATCH_READY;
            }
            if self.done || self.remaining == Some(0) {
                self.done = true;
                return NEED_DATA;
            }
            let rest = &self.data[self.pos..];
            let end = match memchr::memchr(b'\n', rest) {
                Some(at) => self.pos + at + 1,
                None if self.eof && !rest.is_empty() => self.data.len(),
                None => {
                    if self.eof {
                        self.done = true;
                        if self.batch_ready() {
                            return BATCH_READY;
                        }
                    }
                    return NEED_DATA;
                }
            };
            let start = std::mem::replace(&mut self.pos, end);
            self.line += 1;
            let line = &self.data[start..end];
            if is_blank(line) {
                continue;
            }
            if self.skip > 0 {
                self.skip -= 1;
                continue;
            }
            self.canonical.clear();
            self.sig.clear();
            if self
                .parser
                .parse(line, &mut self.canonical, &mut self.sig)
                .is_err()
            {
                self.refused = Some((self.line, line.to_vec()));
                return LINE_REFUSED;
            }
            let sample = if self.shapes.contains(&self.sig) {
                None
            } else {
                self.shapes.insert(self.sig.clone());
                Some((self.line, line.to_vec()))
            };
            self.push_record(sample);
        }
    }
}

#[pymethods]
impl JsonLines {
    /// `skip` records are passed over unparsed, then at most `limit` records are read.
    #[new]
    #[pyo3(signature = (batch_rows, skip=0, limit=None))]
    fn new(batch_rows: usize, skip: u64, limit: Option<u64>) -> PyResult<Self> {
        if batch_rows == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "batch_rows must be positive",
            ));
        }
        Ok(Self {
            data: Vec::new(),
            pos: 0,
            eof: false,
            done: false,
            batch_rows,
            skip,
            remaining: limit,
            line: 0,
            hashes: Vec::new(),
            count: 0,
            nbytes: 0,
            shapes: HashSet::new(),
            samples: Vec::new(),
            refused: None,
            parser: LineParser::default(),
            canonical: Vec::new(),
            sig: Vec::new(),
        })
    }

    /// Append file bytes (any split: lines may straddle calls).
    fn feed(&mut self, chunk: &[u8]) {
        self.data.drain(..self.pos);
        self.pos = 0;
        self.data.extend_from_slice(chunk);
    }

    /// End of file: a last line without a newline is a line too.
    fn finish(&mut self) {
        self.eof = true;
    }

    fn advance(&mut self, py: Python<'_>) -> PyResult<u8> {
        if self.refused.is_some() {
            return Err(PyRuntimeError::new_err("accept() the refused line first"));
        }
        Ok(py.detach(|| self.run()))
    }

    /// (leaf hashes, record count, canonical bytes, [(line number, line)] samples).
    fn take_batch<'py>(&mut self, py: Python<'py>) -> Batch<'py> {
        let hashes = PyBytes::new(py, &self.hashes);
        let samples = self
            .samples
            .drain(..)
            .map(|(n, line)| (n, PyBytes::new(py, &line)))
            .collect();
        let batch = (hashes, self.count, self.nbytes, samples);
        self.hashes.clear();
        self.count = 0;
        self.nbytes = 0;
        self.shapes.clear();
        batch
    }

    /// (line number, line) of the line the parser refused.
    fn refused_line<'py>(&self, py: Python<'py>) -> PyResult<(u64, Bound<'py, PyBytes>)> {
        match &self.refused {
            Some((number, line)) => Ok((*number, PyBytes::new(py, line))),
            None => Err(PyRuntimeError::new_err("no refused line")),
        }
    }

    /// Count the refused line as a record with these canonical bytes (and as a sample).
    fn accept(&mut self, canonical: &[u8]) -> PyResult<()> {
        let Some((number, line)) = self.refused.take() else {
            return Err(PyRuntimeError::new_err("no refused line"));
        };
        self.canonical.clear();
        self.canonical.extend_from_slice(canonical);
        self.push_record(Some((number, line)));
        Ok(())
    }

    /// Records in the batch being filled.
    #[getter]
    fn batch_count(&self) -> usize {
        self.count
    }

    /// True once no more input is wanted (end of file or `limit` reached).
    #[getter]
    fn done(&self) -> bool {
        self.done
    }

    /// Lines consumed so far (blank and skipped ones included).
    #[getter]
    fn line(&self) -> u64 {
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<(String, Vec<u8>), Refused> {
        let (mut out, mut sig) = (Vec::new(), Vec::new());
        LineParser::default().parse(line.as_bytes(), &mut out, &mut sig)?;
        Ok((String::from_utf8(out).unwrap(), sig))
    }

    #[test]
    fn lines_become_canonical_json() {
        let line = r#" {"b": [1, -0, -0.0, 1E2, 4.50, 1e21, 1e-7], "a": "\u00e9\"\/\ud83d\ude00", "\u20ac": null} "#;
        let expected = "{\"a\":\"é\\\"/😀\",\"b\":[1,0,0,100,4.5,1e+21,1e-7],\"€\":null}";
        assert_eq!(parse(line).unwrap().0, expected);
        assert_eq!(
            parse(r#"{"n":123456789012345678901234567890}"#).unwrap().0,
            r#"{"n":123456789012345678901234567890}"#
        );
    }

    #[test]
    fn what_python_would_reject_or_change_is_refused() {
        for line in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"a":NaN}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":1e400}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":[1,]}"#,
            "{\"a\":\"\t\"}",
            "[1]",
            r#"{"a":1} x"#,
        ] {
            assert!(parse(line).is_err(), "{line}");
        }
        assert!(LineParser::default()
            .parse(b"{\"a\":\"\xff\"}", &mut Vec::new(), &mut Vec::new())
            .is_err());
    }

    #[test]
    fn shapes_tell_apart_what_arrow_inference_tells_apart() {
        let shape = |line: &str| parse(line).unwrap().1;
        assert_eq!(shape(r#"{"a":1,"b":"x"}"#), shape(r#"{"a":-7,"b":""}"#));
        assert_ne!(shape(r#"{"a":1,"b":"x"}"#), shape(r#"{"b":"x","a":1}"#));
        assert_ne!(shape(r#"{"a":1}"#), shape(r#"{"a":9223372036854775808}"#));
        assert_ne!(shape(r#"{"a":1}"#), shape(r#"{"a":1.0}"#));
        assert_eq!(shape(r#"{"a":[1,"x"]}"#), shape(r#"{"a":["y",2,3]}"#));
        assert_ne!(shape(r#"{"a":[1]}"#), shape(r#"{"a":[1,"x"]}"#));
    }
}
