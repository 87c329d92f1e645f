//! Leaf hashes of an Arrow record batch read straight from its column buffers.
//!
//! Only flat columns: null, bool, int8..int64, uint8..uint64, float16/32/64, string and
//! large_string (the Python side decodes dictionaries first and sends anything else down
//! the `to_pylist` path). Each row is the record {column name: value}; with duplicate column
//! names the last column wins, as `RecordBatch.to_pylist()` does. Values follow
//! `cognify_hashing.arrow_values`: float32 via its shortest decimal, float16 widened
//! exactly. A NaN or infinity, or a string that is not UTF-8, makes the whole batch go back
//! to the Python path, which raises today's error.

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::canonical::{utf16_cmp, write_string, Unsupported};
use crate::float::{widen_f16, widen_f32, write_f64, write_i64, write_u64};
use crate::merkle::leaf_hash;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int(usize),
    UInt(usize),
    Float16,
    Float32,
    Float64,
    Utf8,
    LargeUtf8,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "null" => Kind::Null,
            "bool" => Kind::Bool,
            "int8" => Kind::Int(1),
            "int16" => Kind::Int(2),
            "int32" => Kind::Int(4),
            "int64" => Kind::Int(8),
            "uint8" => Kind::UInt(1),
            "uint16" => Kind::UInt(2),
            "uint32" => Kind::UInt(4),
            "uint64" => Kind::UInt(8),
            "halffloat" => Kind::Float16,
            "float" => Kind::Float32,
            "double" => Kind::Float64,
            "string" => Kind::Utf8,
            "large_string" => Kind::LargeUtf8,
            _ => return None,
        })
    }

    /// Bytes per value in the data buffer (offsets buffer for strings); 0 for none.
    fn width(self) -> usize {
        match self {
            Kind::Null | Kind::Bool => 0,
            Kind::Int(w) | Kind::UInt(w) => w,
            Kind::Float16 => 2,
            Kind::Float32 | Kind::Utf8 => 4,
            Kind::Float64 | Kind::LargeUtf8 => 8,
        }
    }
}

/// A read-only view of a Python buffer, kept exported while in use.
pub struct View(PyUntypedBuffer);

impl View {
    pub fn get(obj: &Bound<'_, PyAny>) -> PyResult<View> {
        let buffer = PyUntypedBuffer::get(obj)?;
        if !buffer.is_c_contiguous() {
            return Err(PyValueError::new_err("buffer is not contiguous"));
        }
        Ok(View(buffer))
    }

    pub fn bytes(&self) -> &[u8] {
        let len = self.0.len_bytes();
        if len == 0 {
            return &[];
        }
        // SAFETY: a contiguous exported buffer of `len` bytes stays valid (and cannot be
        // resized) until the export is released when `self` drops.
        unsafe { std::slice::from_raw_parts(self.0.buf_ptr() as *const u8, len) }
    }
}

struct Column<'a> {
    kind: Kind,
    offset: usize,
    validity: Option<&'a [u8]>,
    values: &'a [u8],
    offsets: &'a [u8],
    prefix: Vec<u8>, // `{"name":` for the first member, `,"name":` for the others
}

fn bit(bits: &[u8], index: usize) -> bool {
    bits[index >> 3] >> (index & 7) & 1 == 1
}

fn read<const N: usize>(bytes: &[u8], index: usize) -> [u8; N] {
    bytes[index * N..index * N + N].try_into().expect("N bytes")
}

impl Column<'_> {
    fn check(&self, rows: usize) -> PyResult<()> {
        let end = self.offset + rows;
        let short = |what: &str| {
            Err(PyValueError::new_err(format!(
                "Arrow {what} buffer too short"
            )))
        };
        if let Some(bits) = self.validity {
            if bits.len() * 8 < end {
                return short("validity");
            }
        }
        match self.kind {
            Kind::Null => {}
            Kind::Bool if self.values.len() * 8 < end => return short("boolean"),
            Kind::Utf8 | Kind::LargeUtf8 if self.offsets.len() < (end + 1) * self.kind.width() => {
                return short("offsets")
            }
            Kind::Int(_) | Kind::UInt(_) | Kind::Float16 | Kind::Float32 | Kind::Float64
                if self.values.len() < end * self.kind.width() =>
            {
                return short("values")
            }
            _ => {}
        }
        Ok(())
    }

    fn write(&self, row: usize, out: &mut Vec<u8>) -> Result<(), Unsupported> {
        let at = self.offset + row;
        if self.kind == Kind::Null || self.validity.is_some_and(|bits| !bit(bits, at)) {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        match self.kind {
            Kind::Null => unreachable!(),
            Kind::Bool => out.extend_from_slice(if bit(self.values, at) {
                b"true"
            } else {
                b"false"
            }),
            Kind::Int(1) => write_i64(out, i64::from(read::<1>(self.values, at)[0] as i8)),
            Kind::Int(2) => write_i64(out, i64::from(i16::from_le_bytes(read(self.values, at)))),
            Kind::Int(4) => write_i64(out, i64::from(i32::from_le_bytes(read(self.values, at)))),
            Kind::Int(_) => write_i64(out, i64::from_le_bytes(read(self.values, at))),
            Kind::UInt(1) => write_u64(out, u64::from(read::<1>(self.values, at)[0])),
            Kind::UInt(2) => write_u64(out, u64::from(u16::from_le_bytes(read(self.values, at)))),
            Kind::UInt(4) => write_u64(out, u64::from(u32::from_le_bytes(read(self.values, at)))),
            Kind::UInt(_) => write_u64(out, u64::from_le_bytes(read(self.values, at))),
            Kind::Float16 => finite(out, widen_f16(u16::from_le_bytes(read(self.values, at))))?,
            Kind::Float32 => finite(out, widen_f32(f32::from_le_bytes(read(self.values, at))))?,
            Kind::Float64 => finite(out, f64::from_le_bytes(read(self.values, at)))?,
            Kind::Utf8 => {
                let lo = i32::from_le_bytes(read(self.offsets, at));
                let hi = i32::from_le_bytes(read(self.offsets, at + 1));
                self.text(i64::from(lo), i64::from(hi), out)?;
            }
            Kind::LargeUtf8 => {
                let lo = i64::from_le_bytes(read(self.offsets, at));
                let hi = i64::from_le_bytes(read(self.offsets, at + 1));
                self.text(lo, hi, out)?;
            }
        }
        Ok(())
    }

    fn text(&self, lo: i64, hi: i64, out: &mut Vec<u8>) -> Result<(), Unsupported> {
        let (lo, hi) = (
            usize::try_from(lo).map_err(|_| Unsupported)?,
            usize::try_from(hi).map_err(|_| Unsupported)?,
        );
        let bytes = self.values.get(lo..hi).ok_or(Unsupported)?;
        std::str::from_utf8(bytes).map_err(|_| Unsupported)?;
        write_string(out, bytes);
        Ok(())
    }
}

fn finite(out: &mut Vec<u8>, value: f64) -> Result<(), Unsupported> {
    if !value.is_finite() {
        return Err(Unsupported);
    }
    write_f64(out, value);
    Ok(())
}

pub type ColumnSpec<'py> = (
    String,                    // Arrow type name (str(array.type))
    usize,                     // array offset
    Option<Bound<'py, PyAny>>, // validity bitmap (None: no nulls)
    Option<Bound<'py, PyAny>>, // values (data) buffer
    Option<Bound<'py, PyAny>>, // offsets buffer (strings)
);

/// Leaf hashes (32 bytes per row) and canonical byte count of a batch of flat columns;
/// None when some value needs the Python path.
pub fn leaves(
    py: Python<'_>,
    names: &[Bound<'_, PyString>],
    specs: &[ColumnSpec<'_>],
    rows: usize,
) -> PyResult<Option<(Vec<u8>, u64)>> {
    if names.len() != specs.len() {
        return Err(PyValueError::new_err("one name per column"));
    }
    if rows == 0 {
        return Ok(Some((Vec::new(), 0)));
    }
    let mut texts = Vec::with_capacity(names.len());
    for name in names {
        match name.to_str() {
            Ok(text) => texts.push(text.as_bytes()),
            Err(_) => return Ok(None), // a lone surrogate: the Python path names it
        }
    }
    let mut views: Vec<[Option<View>; 3]> = Vec::with_capacity(specs.len());
    for (_, _, validity, values, offsets) in specs {
        let view = |obj: &Option<Bound<'_, PyAny>>| obj.as_ref().map(View::get).transpose();
        views.push([view(validity)?, view(values)?, view(offsets)?]);
    }
    // Duplicate names: the last column wins (as in to_pylist); members in UTF-16 order.
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by(|&a, &b| utf16_cmp(texts[a], texts[b]).then(b.cmp(&a)));
    order.dedup_by(|later, kept| texts[*later] == texts[*kept]);
    let mut columns = Vec::with_capacity(order.len());
    for (position, &index) in order.iter().enumerate() {
        let (kind_name, offset, ..) = &specs[index];
        let kind = Kind::parse(kind_name)
            .ok_or_else(|| PyValueError::new_err(format!("not a flat Arrow type: {kind_name}")))?;
        let [validity, values, offsets] = &views[index];
        // Strings: buffers are (validity, offsets, data); the caller passes data as values.
        let mut prefix = vec![if position == 0 { b'{' } else { b',' }];
        write_string(&mut prefix, texts[index]);
        prefix.push(b':');
        let column = Column {
            kind,
            offset: *offset,
            validity: validity.as_ref().map(View::bytes),
            values: values.as_ref().map_or(&[][..], View::bytes),
            offsets: offsets.as_ref().map_or(&[][..], View::bytes),
            prefix,
        };
        column.check(rows)?;
        columns.push(column);
    }
    let result = py.detach(|| {
        let mut hashes = Vec::with_capacity(rows * 32);
        let mut out = Vec::with_capacity(256);
        let mut nbytes = 0u64;
        for row in 0..rows {
            out.clear();
            if columns.is_empty() {
                out.push(b'{');
            }
            for column in &columns {
                out.extend_from_slice(&column.prefix);
                column.write(row, &mut out)?;
            }
            out.push(b'}');
            hashes.extend_from_slice(&leaf_hash(&out));
            nbytes += out.len() as u64;
        }
        Ok::<_, Unsupported>((hashes, nbytes))
    });
    Ok(result.ok())
}

/// Arrow's float32 -> string -> float64 rule over a buffer of little-endian float32 values
/// (exposed for the differential tests).
pub fn widen_float32s(values: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 2);
    for chunk in values.chunks_exact(4) {
        let value = f32::from_le_bytes(chunk.try_into().expect("4 bytes"));
        out.extend_from_slice(&widen_f32(value).to_le_bytes());
    }
    out
}
