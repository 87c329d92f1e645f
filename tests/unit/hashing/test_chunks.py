"""A job split into power-of-two chunks combines into exactly the unchunked root."""

import pytest
from cognify_hashing import combine_chunks, leaf_hash, plan_chunks, root_from_leaf_hashes
from cognify_hashing.merkle import EMPTY_ROOT
from hypothesis import given
from hypothesis import strategies as st


def leaves(count: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(count)]


def chunked_root(hashes: list[bytes], plan: list[tuple[int, int]]) -> bytes:
    return combine_chunks(
        [(size, root_from_leaf_hashes(hashes[offset : offset + size])) for offset, size in plan]
    )


def test_chunked_roots_equal_the_unchunked_root_for_many_sizes() -> None:
    all_leaves = leaves(140)
    for total in range(1, 141):
        hashes = all_leaves[:total]
        expected = root_from_leaf_hashes(hashes)
        for chunk in (1, 2, 4, 8, 16, 64, 256):
            assert chunked_root(hashes, plan_chunks(total, chunk)) == expected, (total, chunk)


def test_shrinking_aligned_chunks_also_combine() -> None:
    hashes = leaves(15)
    plan = [(0, 8), (8, 4), (12, 2), (14, 1)]
    assert chunked_root(hashes, plan) == root_from_leaf_hashes(hashes)
    growing = [(0, 1), (1, 1), (2, 2), (4, 4), (8, 7)]
    assert chunked_root(hashes, growing) == root_from_leaf_hashes(hashes)


def test_no_chunks_is_the_empty_tree() -> None:
    assert combine_chunks([]) == EMPTY_ROOT
    assert plan_chunks(0, 4) == []


def test_chunks_that_are_not_subtrees_are_refused() -> None:
    hashes = leaves(12)
    with pytest.raises(ValueError, match="power of two"):
        chunked_root(hashes, [(0, 3), (3, 9)])
    with pytest.raises(ValueError, match="multiple of 8"):
        chunked_root(hashes, [(0, 4), (4, 8)])
    with pytest.raises(ValueError, match="multiple of 8"):
        chunked_root(hashes, [(0, 4), (4, 5)])
    with pytest.raises(ValueError, match="empty"):
        combine_chunks([(0, hashes[0])])
    with pytest.raises(ValueError, match="power of two"):
        plan_chunks(10, 3)


@given(st.integers(1, 600), st.integers(0, 7))
def test_any_job_cut_every_power_of_two_combines_exactly(total: int, log_chunk: int) -> None:
    hashes = leaves(total)
    plan = plan_chunks(total, 1 << log_chunk)
    assert sum(size for _, size in plan) == total
    assert chunked_root(hashes, plan) == root_from_leaf_hashes(hashes)
