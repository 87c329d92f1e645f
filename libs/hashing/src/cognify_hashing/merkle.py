"""RFC 6962 Merkle trees over dataset records (docs/spec/hashing.md, "Merkle tree").

leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right); a tree of n > 1 leaves
splits after the largest power of two strictly below n, and odd leaves are never duplicated.
Hashing runs level by level over blocks of leaves (fewer interpreter steps per hash than a
leaf-at-a-time stack), from SHA-256 contexts copied off pre-fed 0x00 / 0x01 prefixes.
With the Rust accelerator enabled (`cognify_hashing._native`), `MerkleBuilder` and
`root_from_leaf_hashes` run there instead, over the same tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice

from cognify_hashing import _native
from cognify_hashing.canonical import canonical_record, pure_canonical_json, pure_canonical_record

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleBuilder",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = hashlib.sha256(b"\x00")
_NODE_PREFIX = hashlib.sha256(b"\x01")

# Leaves hashed and reduced together; a power of two, so every full block is a perfect subtree.
_BLOCK_LEAVES = 1 << 14


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf (for records, data = canonical bytes)."""
    h = _LEAF_PREFIX.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    if len(left) != HASH_SIZE or len(right) != HASH_SIZE:
        raise ValueError("node children must be 32-byte SHA-256 hashes")
    h = _NODE_PREFIX.copy()
    h.update(left + right)
    return h.digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle Tree Hash of a list of leaf hashes (SHA-256(b"") when empty)."""
    for index, value in enumerate(leaf_hashes):
        if len(value) != HASH_SIZE:
            raise ValueError(f"leaf hash {index} is {len(value)} bytes, expected {HASH_SIZE}")
    if _native.enabled:
        return _native.accel.root_of_leaf_hashes(b"".join(leaf_hashes))
    return _root_of(list(leaf_hashes))


def _root_of(level: list[bytes]) -> bytes:
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def _parent_level(level: list[bytes]) -> list[bytes]:
    # Pairing left to right and promoting a last odd node unchanged reproduces RFC 6962's
    # "split at the largest power of two" shape exactly.
    copy = _NODE_PREFIX.copy
    parents: list[bytes] = []
    append = parents.append
    pairs = iter(level)
    for left, right in zip(pairs, pairs):
        h = copy()
        h.update(left + right)
        append(h.digest())
    if len(level) & 1:
        append(level[-1])
    return parents


def _fold_right(subtree_roots: list[bytes]) -> bytes:
    """Join perfect subtrees, largest first, as RFC 6962 does: r0 + (r1 + (r2 + ...))."""
    acc = subtree_roots[-1]
    for left in reversed(subtree_roots[:-1]):
        acc = node_hash(left, acc)
    return acc


class MerkleBuilder:
    """Streaming RFC 6962 root: memory is one block of leaf hashes plus one hash per level.

    Leaves arrive in order (`add_record`, `add_leaf`, `add_leaf_hash` or their batch forms);
    every full block of 2**14 leaves collapses to one perfect-subtree root, and those roots
    sit on a stack merged like a binary counter (one slot per bit of the block count: 10**9
    records need at most 16). `root()` may be called at any time and changes nothing.
    A failing `add_records` (a record with no canonical form) leaves the records before it
    added: callers that retry should start a new builder.

    With the accelerator enabled the same tree is kept in Rust (`_accel`), the GIL released
    while it hashes; the pure fields below then stay empty.
    """

    def __init__(self) -> None:
        self._accel = _native.accel.Merkle() if _native.enabled else None
        self._stack: list[bytes] = []  # roots of 2**k full blocks, bit k of _full_blocks
        self._full_blocks = 0
        self._pending: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves added so far."""
        if self._accel is not None:
            return self._accel.size
        return self._full_blocks * _BLOCK_LEAVES + len(self._pending)

    def add_leaf_hash(self, value: bytes) -> None:
        if len(value) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(value)} bytes, expected {HASH_SIZE}")
        if self._accel is not None:
            self._accel.add_leaf_hashes(value)
            return
        self._pending.append(value)
        if len(self._pending) == _BLOCK_LEAVES:
            self._seal_block()

    def add_leaf_hashes(self, hashes: bytes) -> None:
        """Add leaves by their hashes, given as consecutive 32-byte values."""
        if len(hashes) % HASH_SIZE:
            raise ValueError(f"leaf hashes are {HASH_SIZE} bytes each, got {len(hashes)} bytes")
        if self._accel is not None:
            self._accel.add_leaf_hashes(hashes)
            return
        for start in range(0, len(hashes), HASH_SIZE):
            self.add_leaf_hash(hashes[start : start + HASH_SIZE])

    def add_leaf(self, data: bytes) -> None:
        """Add one leaf by its data (SHA-256(0x00 || data) is computed here)."""
        if self._accel is not None:
            self._accel.add_leaf(data)
            return
        h = _LEAF_PREFIX.copy()
        h.update(data)
        self._pending.append(h.digest())
        if len(self._pending) == _BLOCK_LEAVES:
            self._seal_block()

    def add_leaves(self, datas: Iterable[bytes]) -> None:
        """Add many leaves by their data: the fast path for large inputs."""
        if self._accel is not None:
            self._accel.add_leaves(datas)
            return
        copy = _LEAF_PREFIX.copy
        pending = self._pending
        append = pending.append
        items = iter(datas)
        while True:
            room = _BLOCK_LEAVES - len(pending)
            for data in islice(items, room):
                h = copy()
                h.update(data)
                append(h.digest())
            if len(pending) < _BLOCK_LEAVES:
                return
            self._seal_block()

    def add_record(self, record: Mapping[str, object]) -> None:
        self.add_leaf(canonical_record(record))

    def add_records(self, records: Iterable[Mapping[str, object]]) -> None:
        if self._accel is not None:
            self._accel.add_records(records, pure_canonical_json, pure_canonical_record)
            return
        self.add_leaves(map(canonical_record, records))

    def root(self) -> bytes:
        """The Merkle Tree Hash of all leaves added so far."""
        if self._accel is not None:
            return self._accel.root()
        if self.size == 0:
            return EMPTY_ROOT
        parts = list(self._stack)
        if self._pending:
            parts.append(_root_of(self._pending))
        return _fold_right(parts)

    def _seal_block(self) -> None:
        subtree = _root_of(self._pending)
        self._pending.clear()  # cleared in place: add_leaves holds a bound append to it
        count = self._full_blocks
        while count & 1:
            subtree = node_hash(self._stack.pop(), subtree)
            count >>= 1
        self._stack.append(subtree)
        self._full_blocks += 1
