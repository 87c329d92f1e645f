"""Merkle inclusion proofs: generation (RFC 6962 PATH), verification (RFC 9162 §2.1.3.2),
and the version-1 JSON document an auditor checks offline (docs/spec/hashing.md).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cognify_hashing import _native
from cognify_hashing.digest import format_digest, parse_digest, parse_hex_hash
from cognify_hashing.merkle import HASH_SIZE, _parent_level, node_hash, root_from_leaf_hashes

__all__ = ["InclusionProof", "inclusion_proof", "prove_inclusion", "verify_inclusion"]

PROOF_VERSION = 1


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index`: sibling hashes from the leaf level up to the root."""
    if not 0 <= index < len(leaf_hashes):
        raise IndexError(f"leaf index {index} outside a tree of {len(leaf_hashes)} leaves")
    if _native.enabled and all(len(value) == HASH_SIZE for value in leaf_hashes):
        return _native.accel.inclusion_path(b"".join(leaf_hashes), index)
    path: list[bytes] = []
    level = list(leaf_hashes)
    position = index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):  # a promoted last odd node has no sibling at this level
            path.append(level[sibling])
        level = _parent_level(level)
        position >>= 1
    return path


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when `proof` shows leaf `index` of a `tree_size`-leaf tree hashes up to `root`."""
    if not 0 <= index < tree_size or len(leaf_hash) != HASH_SIZE:
        return False
    if any(len(step) != HASH_SIZE for step in proof):
        return False
    fn, sn = index, tree_size - 1
    acc = leaf_hash
    for step in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            acc = node_hash(step, acc)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            acc = node_hash(acc, step)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(acc, root)


@dataclass(frozen=True)
class InclusionProof:
    """One record's proof of membership in a dataset root, as stored in audit packages."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: tuple[bytes, ...]
    root: bytes

    def verify(self) -> bool:
        return verify_inclusion(
            self.leaf_hash, self.leaf_index, self.tree_size, self.audit_path, self.root
        )

    def to_json(self) -> dict[str, object]:
        return {
            "version": PROOF_VERSION,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "audit_path": [step.hex() for step in self.audit_path],
            "root": format_digest(self.root),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, object]) -> InclusionProof:
        """Parse a version-1 proof document; raises ValueError when it is malformed."""
        if document.get("version") != PROOF_VERSION:
            raise ValueError(f"unsupported inclusion proof version {document.get('version')!r}")
        index, size = document.get("leaf_index"), document.get("tree_size")
        path = document.get("audit_path")
        if type(index) is not int or type(size) is not int or not isinstance(path, list):
            raise ValueError("leaf_index and tree_size must be integers, audit_path a list")
        return cls(
            leaf_index=index,
            tree_size=size,
            leaf_hash=parse_hex_hash(document.get("leaf_hash")),
            audit_path=tuple(parse_hex_hash(step) for step in path),
            root=parse_digest(str(document.get("root"))),
        )


def prove_inclusion(leaf_hashes: Sequence[bytes], index: int) -> InclusionProof:
    """A complete proof document for leaf `index` of the tree over `leaf_hashes`."""
    return InclusionProof(
        leaf_index=index,
        tree_size=len(leaf_hashes),
        leaf_hash=leaf_hashes[index],
        audit_path=tuple(inclusion_proof(leaf_hashes, index)),
        root=root_from_leaf_hashes(leaf_hashes),
    )
