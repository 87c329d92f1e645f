"""Chunked dataset hashing: split a job, hash chunks apart, combine into the one true root.

A chunk of 2**k leaves that starts at a multiple of 2**k is a complete subtree of the RFC 6962
tree, so its root can be computed anywhere (another hasher, another day) and the roots
combined afterwards (docs/spec/hashing.md, "Chunked hashing"). Only the final chunk may have
any size, and then it must start at a multiple of the smallest power of two >= its size.
"""

from __future__ import annotations

from collections.abc import Sequence

from cognify_hashing.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = ["combine_chunks", "plan_chunks"]


def plan_chunks(total_leaves: int, chunk_leaves: int) -> list[tuple[int, int]]:
    """(offset, size) of each chunk when `total_leaves` are cut every `chunk_leaves` leaves."""
    if total_leaves < 0:
        raise ValueError("total_leaves must be >= 0")
    if not _is_power_of_two(chunk_leaves):
        raise ValueError(f"chunk size {chunk_leaves} is not a power of two")
    return [
        (offset, min(chunk_leaves, total_leaves - offset))
        for offset in range(0, total_leaves, chunk_leaves)
    ]


def combine_chunks(chunks: Sequence[tuple[int, bytes]]) -> bytes:
    """Root of the whole tree from (size, subtree root) of consecutive chunks, in order.

    Raises ValueError when the chunks are not subtrees of the RFC 6962 tree (a size that is
    not a power of two anywhere but last, or a chunk starting at a misaligned offset).
    """
    stack: list[tuple[int, bytes]] = []  # complete subtrees, strictly decreasing sizes
    offset = 0
    for position, (size, root) in enumerate(chunks):
        _check_chunk(position, size, root, offset)
        is_last = position == len(chunks) - 1
        if not _is_power_of_two(size) and not is_last:
            raise ValueError(
                f"chunk {position} has {size} leaves: only the last chunk may have a size "
                "that is not a power of two"
            )
        if _is_power_of_two(size):
            while stack and stack[-1][0] == size:
                left_size, left = stack.pop()
                root = node_hash(left, root)
                size += left_size
        stack.append((size, root))
        offset += chunks[position][0]
    if not stack:
        return EMPTY_ROOT
    acc = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        acc = node_hash(left, acc)
    return acc


def _check_chunk(position: int, size: int, root: bytes, offset: int) -> None:
    if size <= 0:
        raise ValueError(f"chunk {position} is empty; chunks must hold at least one leaf")
    if len(root) != HASH_SIZE:
        raise ValueError(f"chunk {position} root is {len(root)} bytes, expected {HASH_SIZE}")
    span = 1 << (size - 1).bit_length()  # smallest power of two >= size
    if offset % span:
        raise ValueError(
            f"chunk {position} ({size} leaves at offset {offset}) is not a subtree of the "
            f"RFC 6962 tree: it must start at a multiple of {span}"
        )


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0
