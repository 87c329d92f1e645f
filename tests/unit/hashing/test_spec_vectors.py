"""The code reproduces every vector in docs/spec/hashing-vectors.json, and the spec text
quotes the same values, so specification and implementation cannot drift apart."""

import datetime as dt
import hashlib
import struct
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from cognify_hashing import (
    CanonicalEncodingError,
    InclusionProof,
    Manifest,
    ManifestEntry,
    canonical_json,
    canonical_record,
    combine_chunks,
    format_digest,
    leaf_hash,
    plan_chunks,
    prove_inclusion,
    root_from_leaf_hashes,
)
from cognify_hashing.arrow_values import normalise_array
from cognify_hashing.numbers import format_float, format_int


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


def test_number_vectors_format_as_ecmascript_does(vectors: dict[str, Any]) -> None:
    for case in vectors["numbers"]:
        value = _double(case["ieee754"])
        if case.get("error"):
            with pytest.raises(ValueError):
                format_float(value)
        else:
            assert format_float(value) == case["text"], case


def test_integer_vectors_keep_every_digit(vectors: dict[str, Any]) -> None:
    for case in vectors["integers"]:
        assert format_int(int(case["value"])) == case["text"]


def test_record_vectors_have_their_canonical_bytes_and_leaf_hash(vectors: dict[str, Any]) -> None:
    for case in vectors["records"]:
        canonical = canonical_record(case["record"])
        assert canonical == case["canonical"].encode("utf-8"), case["name"]
        assert leaf_hash(canonical).hex() == case["leaf_hash"], case["name"]


def _typed_value(kind: str, given: Any) -> object:
    if kind == "bytes":
        return bytes.fromhex(given)
    if kind == "date":
        return dt.date.fromisoformat(given)
    if kind == "datetime":
        return dt.datetime.fromisoformat(given)
    if kind == "time":
        return dt.time.fromisoformat(given)
    if kind == "decimal":
        return Decimal(given)
    if kind == "arrow_float32":
        array = pa.array([struct.unpack(">f", bytes.fromhex(given))[0]], pa.float32())
    elif kind == "arrow_float16":
        array = pa.array([struct.unpack(">e", bytes.fromhex(given))[0]], pa.float16())
    elif kind == "arrow_timestamp_ns":
        array = pa.array([given["epoch_ns"]], pa.timestamp("ns", given["tz"]))
    else:
        raise AssertionError(f"unknown vector type {kind}")
    return normalise_array(array).to_pylist()[0]


def test_typed_value_vectors_map_to_their_json_strings(vectors: dict[str, Any]) -> None:
    for case in vectors["typed_values"]:
        value = _typed_value(case["type"], case["input"])
        assert canonical_json(value).decode("utf-8") == case["canonical"], case


def test_merkle_vectors_reproduce_the_certificate_transparency_roots(
    vectors: dict[str, Any],
) -> None:
    merkle = vectors["merkle"]
    hashes = [leaf_hash(bytes.fromhex(data)) for data in merkle["leaf_data_hex"]]
    assert [h.hex() for h in hashes] == merkle["leaf_hashes"]
    for case in merkle["roots"]:
        assert format_digest(root_from_leaf_hashes(hashes[: case["tree_size"]])) == case["root"]


def test_inclusion_proof_vectors_are_generated_and_verify(vectors: dict[str, Any]) -> None:
    hashes = [leaf_hash(bytes.fromhex(data)) for data in vectors["merkle"]["leaf_data_hex"]]
    for document in vectors["inclusion_proofs"]:
        size, index = document["tree_size"], document["leaf_index"]
        assert prove_inclusion(hashes[:size], index).to_json() == document
        assert InclusionProof.from_json(document).verify()


def test_chunk_vectors_combine_into_the_unchunked_root(vectors: dict[str, Any]) -> None:
    chunks = vectors["chunks"]
    leaves = [leaf_hash(canonical_record(record)) for record in chunks["records"]]
    plan = plan_chunks(len(leaves), chunks["chunk_leaves"])
    assert [(c["offset"], c["size"]) for c in chunks["chunks"]] == plan
    roots = [(size, root_from_leaf_hashes(leaves[o : o + size])) for o, size in plan]
    assert [format_digest(root) for _, root in roots] == [c["root"] for c in chunks["chunks"]]
    assert format_digest(combine_chunks(roots)) == chunks["root"]
    assert format_digest(root_from_leaf_hashes(leaves)) == chunks["root"]


def test_manifest_vector_has_its_canonical_lines_and_checkpoint_hash(
    vectors: dict[str, Any],
) -> None:
    spec = vectors["manifest"]
    entries = []
    for file in spec["files"]:
        content = bytes.fromhex(file["content_hex"])
        entries.append(
            ManifestEntry(file["path"], len(content), hashlib.sha256(content).hexdigest())
        )
    manifest = Manifest.from_entries(entries)
    assert manifest.canonical_bytes().decode("utf-8") == spec["canonical"]
    assert manifest.checkpoint_hash == spec["checkpoint_hash"]
    assert Manifest.from_entries([]).checkpoint_hash == vectors["empty_manifest_checkpoint_hash"]


def test_the_spec_text_quotes_the_vector_values(vectors: dict[str, Any], spec_text: str) -> None:
    quoted = [case["root"] for case in vectors["merkle"]["roots"]]
    quoted += [case["leaf_hash"] for case in vectors["records"][:2]]
    quoted += [case["canonical"] for case in vectors["records"][:2]]
    quoted += [vectors["chunks"]["root"], *(c["root"] for c in vectors["chunks"]["chunks"])]
    quoted += [vectors["manifest"]["checkpoint_hash"], vectors["manifest"]["canonical"]]
    quoted += [step for step in vectors["inclusion_proofs"][1]["audit_path"]]
    for case in vectors["numbers"]:
        if not case.get("error") and f"`{case['ieee754']}`" in spec_text:
            assert f"`{case['ieee754']}` | `{case['text']}`" in spec_text
    for value in quoted:
        assert value in spec_text, value


def test_non_finite_vectors_are_refused_inside_records(vectors: dict[str, Any]) -> None:
    for case in vectors["numbers"]:
        if case.get("error"):
            with pytest.raises(CanonicalEncodingError, match="'loss'"):
                canonical_record({"loss": _double(case["ieee754"])})
