//! `cognify_hashing_native`: the Rust accelerator of `cognify_hashing`.
//!
//! It computes exactly the bytes of docs/spec/hashing.md (format version 1) faster than the
//! pure-Python reference, which stays the definition and the fallback: `cognify_hashing`
//! uses this module when it is installed (and `COGNIFY_HASHING_NATIVE` is not "0"), and the
//! tests check the two against each other and against the spec's vectors. Whatever this
//! module does not handle (types beyond plain JSON, lines its parser refuses, non-finite
//! numbers) it hands back to Python, so errors keep their messages.

mod arrow;
mod canonical;
mod float;
mod hmac;
mod jsonl;
mod merkle;
mod offsets;

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use arrow::View;
use canonical::Encoder;
use merkle::{Tree, HASH_SIZE};

/// Records (or leaves) encoded before the GIL is released to hash them.
const CHUNK: usize = 4096;

/// A bytes-like argument: `bytes` borrowed directly, anything else through the buffer API.
enum Data<'py> {
    Bytes(Bound<'py, PyBytes>),
    View(View),
}

impl<'py> Data<'py> {
    fn get(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
        if let Ok(bytes) = obj.cast::<PyBytes>() {
            return Ok(Data::Bytes(bytes.clone()));
        }
        View::get(obj).map(Data::View).map_err(|_| {
            PyTypeError::new_err(format!(
                "a bytes-like object is required, not '{}'",
                obj.get_type()
                    .name()
                    .map_or_else(|_| "?".to_string(), |n| n.to_string())
            ))
        })
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Data::Bytes(bytes) => bytes.as_bytes(),
            Data::View(view) => view.bytes(),
        }
    }
}

/// Leaf hashes of `datas` (any iterable of bytes-like), hashed a chunk at a time without
/// the GIL, handed to `sink` as consecutive 32-byte values. On an error the leaves before
/// the failing item still reach `sink` (as the pure builder's would).
fn hash_leaves(datas: &Bound<'_, PyAny>, mut sink: impl FnMut(&[u8]) + Send) -> PyResult<()> {
    let py = datas.py();
    let mut items = datas.try_iter()?;
    let mut hashes = Vec::with_capacity(CHUNK * HASH_SIZE);
    loop {
        let mut held = Vec::with_capacity(CHUNK);
        let mut failure = None;
        for item in items.by_ref().take(CHUNK) {
            match item.and_then(|item| Data::get(&item)) {
                Ok(data) => held.push(data),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let slices: Vec<&[u8]> = held.iter().map(Data::bytes).collect();
        hashes.clear();
        py.detach(|| {
            for slice in &slices {
                hashes.extend_from_slice(&merkle::leaf_hash(slice));
            }
            sink(&hashes);
        });
        if let Some(error) = failure {
            return Err(error);
        }
        if held.len() < CHUNK {
            return Ok(());
        }
    }
}

/// Canonical bytes of each record, a chunk at a time; the chunk's leaf hashes go to `sink`
/// (without the GIL). Returns the number of canonical bytes. A record the accelerator
/// refuses goes to `record_hook`; if that raises, the records before it still reach `sink`.
fn hash_records(
    records: &Bound<'_, PyAny>,
    value_hook: &Bound<'_, PyAny>,
    record_hook: &Bound<'_, PyAny>,
    mut sink: impl FnMut(&[u8]) + Send,
) -> PyResult<u64> {
    let py = records.py();
    let encoder = Encoder::canonical(value_hook);
    let mut items = records.try_iter()?;
    let mut data = Vec::with_capacity(CHUNK * 256);
    let mut ends = Vec::with_capacity(CHUNK);
    let mut hashes = Vec::with_capacity(CHUNK * HASH_SIZE);
    let mut total = 0u64;
    let encode = |item: PyResult<Bound<'_, PyAny>>, data: &mut Vec<u8>| -> PyResult<()> {
        let record = item?;
        let start = data.len();
        if encoder.record(&record, data).is_err() {
            data.truncate(start);
            let fallback = record_hook.call1((&record,))?;
            data.extend_from_slice(fallback.cast::<PyBytes>()?.as_bytes());
        }
        Ok(())
    };
    loop {
        data.clear();
        ends.clear();
        let mut failure = None;
        for item in items.by_ref().take(CHUNK) {
            if let Err(error) = encode(item, &mut data) {
                failure = Some(error);
                break;
            }
            ends.push(data.len());
        }
        total += ends.last().map_or(0, |&end| end as u64);
        hashes.clear();
        py.detach(|| {
            let mut start = 0;
            for &end in &ends {
                hashes.extend_from_slice(&merkle::leaf_hash(&data[start..end]));
                start = end;
            }
            sink(&hashes);
        });
        if let Some(error) = failure {
            return Err(error);
        }
        if ends.len() < CHUNK {
            return Ok(total);
        }
    }
}

/// Streaming RFC 6962 Merkle root (the accelerated core of `MerkleBuilder`).
#[pyclass(module = "cognify_hashing_native")]
#[derive(Default)]
struct Merkle {
    tree: Tree,
}

#[pymethods]
impl Merkle {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Number of leaves added so far.
    #[getter]
    fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Add one leaf by its data.
    fn add_leaf(&mut self, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = Data::get(data)?;
        self.tree.push(merkle::leaf_hash(data.bytes()));
        Ok(())
    }

    /// Add leaves by their data (any iterable of bytes-like objects).
    fn add_leaves(&mut self, datas: &Bound<'_, PyAny>) -> PyResult<()> {
        let tree = &mut self.tree;
        hash_leaves(datas, |hashes| tree.push_hashes(hashes))
    }

    /// Add leaves by their hashes, given as consecutive 32-byte values.
    fn add_leaf_hashes(&mut self, py: Python<'_>, hashes: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = Data::get(hashes)?;
        let bytes = data.bytes();
        if bytes.len() % HASH_SIZE != 0 {
            return Err(PyValueError::new_err(format!(
                "leaf hashes are 32 bytes each, got {} bytes",
                bytes.len()
            )));
        }
        let tree = &mut self.tree;
        py.detach(|| tree.push_hashes(bytes));
        Ok(())
    }

    /// Add records by their canonical bytes; returns the number of canonical bytes.
    fn add_records(
        &mut self,
        records: &Bound<'_, PyAny>,
        value_hook: &Bound<'_, PyAny>,
        record_hook: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        let tree = &mut self.tree;
        hash_records(records, value_hook, record_hook, |hashes| {
            tree.push_hashes(hashes)
        })
    }

    /// The Merkle Tree Hash of the leaves so far (the builder is unchanged).
    fn root<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.tree.root())
    }
}

/// Leaf hashes of `datas`, concatenated (32 bytes each).
#[pyfunction]
fn leaf_hashes<'py>(datas: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let mut out = Vec::new();
    hash_leaves(datas, |hashes| out.extend_from_slice(hashes))?;
    Ok(PyBytes::new(datas.py(), &out))
}

/// (leaf hashes, canonical byte count) of records, encoded like `canonical_record`.
#[pyfunction]
fn record_leaves<'py>(
    records: &Bound<'py, PyAny>,
    value_hook: &Bound<'py, PyAny>,
    record_hook: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyBytes>, u64)> {
    let mut out = Vec::new();
    let nbytes = hash_records(records, value_hook, record_hook, |hashes| {
        out.extend_from_slice(hashes)
    })?;
    Ok((PyBytes::new(records.py(), &out), nbytes))
}

fn checked_hashes(data: &Data<'_>) -> PyResult<usize> {
    let len = data.bytes().len();
    if len % HASH_SIZE != 0 {
        return Err(PyValueError::new_err(format!(
            "leaf hashes are 32 bytes each, got {len} bytes"
        )));
    }
    Ok(len / HASH_SIZE)
}

/// RFC 6962 root of consecutive 32-byte leaf hashes.
#[pyfunction]
fn root_of_leaf_hashes<'py>(
    py: Python<'py>,
    hashes: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let data = Data::get(hashes)?;
    checked_hashes(&data)?;
    let bytes = data.bytes();
    let root = py.detach(|| {
        let mut tree = Tree::default();
        tree.push_hashes(bytes);
        tree.root()
    });
    Ok(PyBytes::new(py, &root))
}

/// The audit path (RFC 6962 PATH) of leaf `index` among consecutive 32-byte leaf hashes.
#[pyfunction]
fn inclusion_path<'py>(
    py: Python<'py>,
    hashes: &Bound<'py, PyAny>,
    index: usize,
) -> PyResult<Bound<'py, PyList>> {
    let data = Data::get(hashes)?;
    let count = checked_hashes(&data)?;
    if index >= count {
        return Err(PyIndexError::new_err(format!(
            "leaf index {index} outside a tree of {count} leaves"
        )));
    }
    let bytes = data.bytes();
    let path = py.detach(|| merkle::inclusion_path(bytes, index));
    PyList::new(py, path.iter().map(|h| PyBytes::new(py, h)))
}

/// Canonical bytes of a record; `record_hook(record)` (the pure implementation) decides
/// whatever the accelerator does not handle, `value_hook(value)` encodes unknown values.
#[pyfunction]
fn canonical_record<'py>(
    record: &Bound<'py, PyAny>,
    value_hook: &Bound<'py, PyAny>,
    record_hook: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut out = Vec::with_capacity(256);
    match (Encoder::canonical(value_hook)).record(record, &mut out) {
        Ok(()) => Ok(PyBytes::new(record.py(), &out).into_any()),
        Err(_) => record_hook.call1((record,)),
    }
}

/// Canonical bytes of any value; `json_hook(value)` decides what the accelerator does not.
#[pyfunction]
fn canonical_json<'py>(
    value: &Bound<'py, PyAny>,
    value_hook: &Bound<'py, PyAny>,
    json_hook: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut out = Vec::with_capacity(64);
    match (Encoder::canonical(value_hook)).value(value, &mut out, 0) {
        Ok(()) => Ok(PyBytes::new(value.py(), &out).into_any()),
        Err(_) => json_hook.call1((value,)),
    }
}

/// The bytes an event's HMAC signature covers (docs/spec/events.md): the event object
/// without its `signature` member as `json.dumps(sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)` encodes it; None for anything but plain JSON values (the caller's
/// `json.dumps` then decides, and raises where it raises).
#[pyfunction]
fn event_signing_body<'py>(event: &Bound<'py, PyAny>) -> Option<Bound<'py, PyBytes>> {
    let mut out = Vec::with_capacity(512);
    Encoder::python_json()
        .event_body(event, &mut out)
        .ok()
        .map(|()| PyBytes::new(event.py(), &out))
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
#[pyfunction]
fn hmac_sha256<'py>(py: Python<'py>, key: &[u8], message: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &hmac::hmac_sha256(key, message))
}

/// A finite double as ECMAScript's Number::toString writes it (ValueError otherwise).
#[pyfunction]
fn format_float(value: f64) -> PyResult<String> {
    if !value.is_finite() {
        return Err(PyValueError::new_err(format!(
            "{value} is not a finite number"
        )));
    }
    let mut out = Vec::with_capacity(24);
    float::write_f64(&mut out, value);
    Ok(String::from_utf8(out).expect("ASCII"))
}

/// Leaf hashes and canonical byte count of an Arrow batch of flat columns, or None when
/// some value (NaN, infinity, invalid UTF-8) needs the Python path.
#[pyfunction]
fn arrow_leaves<'py>(
    py: Python<'py>,
    names: Vec<Bound<'py, PyString>>,
    columns: Vec<arrow::ColumnSpec<'py>>,
    rows: usize,
) -> PyResult<Option<(Bound<'py, PyBytes>, u64)>> {
    Ok(arrow::leaves(py, &names, &columns, rows)?
        .map(|(hashes, nbytes)| (PyBytes::new(py, &hashes), nbytes)))
}

/// Arrow's float32 -> string -> float64 values of a little-endian float32 buffer.
#[pyfunction]
fn widen_float32s<'py>(
    py: Python<'py>,
    values: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let data = Data::get(values)?;
    let bytes = data.bytes();
    let out = py.detach(|| arrow::widen_float32s(bytes));
    Ok(PyBytes::new(py, &out))
}

#[pymodule]
fn cognify_hashing_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SPEC_VERSION", 1)?;
    m.add_class::<Merkle>()?;
    m.add_class::<jsonl::JsonLines>()?;
    m.add_class::<offsets::JsonlOffsets>()?;
    m.add_function(wrap_pyfunction!(leaf_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(record_leaves, m)?)?;
    m.add_function(wrap_pyfunction!(root_of_leaf_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(inclusion_path, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_record, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_json, m)?)?;
    m.add_function(wrap_pyfunction!(format_float, m)?)?;
    m.add_function(wrap_pyfunction!(event_signing_body, m)?)?;
    m.add_function(wrap_pyfunction!(hmac_sha256, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_leaves, m)?)?;
    m.add_function(wrap_pyfunction!(widen_float32s, m)?)?;
    Ok(())
}
