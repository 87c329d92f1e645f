"""Cognify's hashing core: canonical records, RFC 6962 Merkle trees, checkpoint manifests.

Formats are specified in docs/spec/hashing.md (version 1) with test vectors in
docs/spec/hashing-vectors.json. Everything here is pure except `sources`, `filesystem` and
`hash_dataset`, which read local files.

The Python code is the reference implementation. When the Rust accelerator
`cognify_hashing_native` (libs/hashing-native) is installed, Merkle roots, canonical records
and dataset hashing run there (see `_native`); `COGNIFY_HASHING_NATIVE=0` switches it off.
"""

from __future__ import annotations

from cognify_hashing.canonical import CanonicalEncodingError, canonical_json, canonical_record
from cognify_hashing.chunks import combine_chunks, plan_chunks
from cognify_hashing.dataset import DatasetDigest, hash_dataset, hash_records, iter_records
from cognify_hashing.digest import format_digest, parse_digest
from cognify_hashing.filesystem import hash_file, scan_checkpoint
from cognify_hashing.manifest import Manifest, ManifestEntry, ManifestError
from cognify_hashing.merkle import (
    EMPTY_ROOT,
    MerkleBuilder,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
)
from cognify_hashing.numbers import format_float
from cognify_hashing.proofs import (
    InclusionProof,
    inclusion_proof,
    prove_inclusion,
    verify_inclusion,
)
from cognify_hashing.sources import RecordSource, SourceError, open_source

__all__ = [
    "EMPTY_ROOT",
    "CanonicalEncodingError",
    "DatasetDigest",
    "InclusionProof",
    "Manifest",
    "ManifestEntry",
    "ManifestError",
    "MerkleBuilder",
    "RecordSource",
    "SourceError",
    "canonical_json",
    "canonical_record",
    "combine_chunks",
    "format_digest",
    "format_float",
    "hash_dataset",
    "hash_file",
    "hash_records",
    "inclusion_proof",
    "iter_records",
    "leaf_hash",
    "node_hash",
    "open_source",
    "parse_digest",
    "plan_chunks",
    "prove_inclusion",
    "root_from_leaf_hashes",
    "scan_checkpoint",
    "verify_inclusion",
]
