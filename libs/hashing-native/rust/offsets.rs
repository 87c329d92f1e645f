//! The planning pass over a JSON Lines file: how many records it holds, and where every
//! `every`-th record starts (the byte offsets the hasher's chunk jobs seek to).
//!
//! The reference is `cognify_hasher.ranges.pure_jsonl_offsets`: lines end at b"\n" (the
//! last one may lack it), and a line is a record unless `bytes.strip()` would leave nothing
//! of it (the blank lines `JsonLinesFile` passes over). A record's offset is where its line
//! starts. Lines are never parsed: one memchr per record line.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::jsonl::is_space;
use crate::Data;

/// Counts records and collects the start of records 0, every, 2 * every, ... of a stream fed
/// in pieces of any size.
pub struct OffsetScan {
    every: u64,
    count: u64,
    offsets: Vec<u64>,
    /// Absolute position of the first byte of the current line.
    line_start: u64,
    /// Absolute position of the first byte of the next piece.
    position: u64,
    /// Every byte of the current line so far is whitespace (it is not a record yet).
    blank: bool,
}

impl OffsetScan {
    /// `every` must be at least 1.
    pub fn new(every: u64) -> Self {
        assert!(every >= 1, "every must be positive");
        OffsetScan {
            every,
            count: 0,
            offsets: Vec::new(),
            line_start: 0,
            position: 0,
            blank: true,
        }
    }

    pub fn feed(&mut self, piece: &[u8]) {
        let mut i = 0;
        let n = piece.len();
        while i < n {
            if self.blank {
                // Whitespace other than the newline keeps the line blank.
                while i < n && piece[i] != b'\n' && is_space(piece[i]) {
                    i += 1;
                }
                if i == n {
                    break;
                }
                if piece[i] == b'\n' {
                    i += 1;
                    self.line_start = self.position + i as u64;
                    continue;
                }
                // The first other byte: this line is a record.
                if self.count % self.every == 0 {
                    self.offsets.push(self.line_start);
                }
                self.count += 1;
                self.blank = false;
            }
            match memchr::memchr(b'\n', &piece[i..]) {
                Some(at) => {
                    i += at + 1;
                    self.line_start = self.position + i as u64;
                    self.blank = true;
                }
                None => i = n,
            }
        }
        self.position += n as u64;
    }

    /// (records, offsets): a last line without its newline counts as any other.
    pub fn finish(self) -> (u64, Vec<u64>) {
        (self.count, self.offsets)
    }
}

/// `OffsetScan` for Python: the driver `feed`s the file's bytes in pieces of any size (its
/// own reads, so open and read errors are Python's), then `finish` returns (records,
/// offsets).
#[pyclass(module = "cognify_hashing_native")]
pub struct JsonlOffsets {
    scan: Option<OffsetScan>,
}

#[pymethods]
impl JsonlOffsets {
    #[new]
    fn new(every: u64) -> PyResult<Self> {
        if every < 1 {
            return Err(PyValueError::new_err(
                "every must be a positive number of records",
            ));
        }
        Ok(JsonlOffsets {
            scan: Some(OffsetScan::new(every)),
        })
    }

    /// Scan the next bytes of the file (any bytes-like object), without the GIL.
    fn feed(&mut self, py: Python<'_>, piece: &Bound<'_, PyAny>) -> PyResult<()> {
        let scan = self
            .scan
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("finish() was called"))?;
        let data = Data::get(piece)?;
        let bytes = data.bytes();
        py.detach(|| scan.feed(bytes));
        Ok(())
    }

    /// (records, [start of records 0, every, 2 * every, ...]) at the end of the file.
    fn finish(&mut self) -> PyResult<(u64, Vec<u64>)> {
        self.scan
            .take()
            .map(OffsetScan::finish)
            .ok_or_else(|| PyRuntimeError::new_err("finish() was called"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference rule, line by line (what the Python function does).
    fn reference(data: &[u8], every: u64) -> (u64, Vec<u64>) {
        let (mut count, mut position, mut offsets) = (0u64, 0u64, Vec::new());
        for line in data.split_inclusive(|&b| b == b'\n') {
            if !line.iter().all(|&b| is_space(b)) {
                if count % every == 0 {
                    offsets.push(position);
                }
                count += 1;
            }
            position += line.len() as u64;
        }
        (count, offsets)
    }

    fn in_pieces(data: &[u8], every: u64, size: usize) -> (u64, Vec<u64>) {
        let mut scan = OffsetScan::new(every);
        for piece in data.chunks(size.max(1)) {
            scan.feed(piece);
        }
        scan.finish()
    }

    #[test]
    fn agrees_with_the_line_rule_whatever_the_pieces() {
        let cases: [&[u8]; 9] = [
            b"",
            b"\n\n\n",
            b"{}",
            b"{}\n{}\n",
            b"{}\r\n\r\n{}\r\n",
            b" \t\x0b\x0c\r\n{\"a\": 1}\n  \n{}",
            b"\n {} \n\n\t{}\n \x0c\n",
            b"x\ny\nz",
            b"\x00\n\x85\n\xa0\n",
        ];
        for data in cases {
            for every in [1, 2, 3] {
                let want = reference(data, every);
                for size in [1, 2, 3, 7, 1024] {
                    assert_eq!(
                        in_pieces(data, every, size),
                        want,
                        "{data:?} {every} {size}"
                    );
                }
            }
        }
    }

    #[test]
    fn offsets_start_every_nth_record() {
        let data = b"a\n\nb\nc\n  \nd\ne";
        assert_eq!(in_pieces(data, 2, 4), (5, vec![0, 5, 12]));
    }
}
