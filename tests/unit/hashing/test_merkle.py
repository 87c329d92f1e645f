"""RFC 6962 Merkle roots: the streaming builder, the list form and the RFC's recursion agree."""

import hashlib

import pytest
from cognify_hashing import (
    EMPTY_ROOT,
    MerkleBuilder,
    canonical_record,
    hash_records,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
)
from cognify_hashing import merkle as merkle_module
from hypothesis import given, settings
from hypothesis import strategies as st


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 6962 §2.1 writes it: recursive, split below a power of two."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    left, right = rfc6962_root(leaves[:split]), rfc6962_root(leaves[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def records(count: int) -> list[dict[str, object]]:
    return [{"id": i, "text": f"example {i}", "score": i / 7} for i in range(count)]


def test_an_empty_dataset_has_the_hash_of_no_bytes_as_root() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert MerkleBuilder().root() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_leaf_and_node_hashes_use_the_rfc_6962_domain_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    with pytest.raises(ValueError):
        node_hash(b"short", right)


def test_roots_match_the_rfc_recursion_for_every_size_up_to_70() -> None:
    datas = [f"leaf {i}".encode() for i in range(70)]
    for size in range(71):
        expected = rfc6962_root(datas[:size])
        assert root_from_leaf_hashes([leaf_hash(d) for d in datas[:size]]) == expected
        builder = MerkleBuilder()
        builder.add_leaves(datas[:size])
        assert builder.root() == expected
        assert builder.size == size


def test_the_builder_agrees_across_block_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle_module, "_BLOCK_LEAVES", 4)
    datas = [bytes([i]) for i in range(40)]
    for size in range(41):
        expected = rfc6962_root(datas[:size])
        batched, one_by_one, by_hash = MerkleBuilder(), MerkleBuilder(), MerkleBuilder()
        batched.add_leaves(iter(datas[:size]))
        for data in datas[:size]:
            one_by_one.add_leaf(data)
            by_hash.add_leaf_hash(leaf_hash(data))
        assert batched.root() == one_by_one.root() == by_hash.root() == expected


def test_a_real_block_boundary_with_the_default_block_size() -> None:
    size = 2 * 16384 + 3
    datas = [i.to_bytes(4, "big") for i in range(size)]
    builder = MerkleBuilder()
    builder.add_leaves(datas)
    assert builder.root() == root_from_leaf_hashes([leaf_hash(d) for d in datas])


def test_asking_for_the_root_does_not_disturb_the_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle_module, "_BLOCK_LEAVES", 4)
    builder = MerkleBuilder()
    seen = []
    for data in (bytes([i]) for i in range(11)):
        builder.add_leaf(data)
        seen.append(data)
        assert builder.root() == rfc6962_root(seen)


def test_records_hash_as_leaves_over_their_canonical_bytes() -> None:
    rows = records(9)
    count, root = hash_records(rows)
    assert count == 9
    assert root == rfc6962_root([canonical_record(row) for row in rows])
    builder = MerkleBuilder()
    for row in rows:
        builder.add_record(row)
    assert builder.root() == root


def test_changing_one_byte_of_one_record_changes_the_root() -> None:
    rows = records(100)
    _, original = hash_records(rows)
    rows[57] = {**rows[57], "text": "example 58"}
    assert hash_records(rows)[1] != original


def test_reordering_or_dropping_records_changes_the_root() -> None:
    rows = records(10)
    _, original = hash_records(rows)
    assert hash_records(rows[::-1])[1] != original
    assert hash_records(rows[:-1])[1] != original


def test_a_leaf_hash_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        MerkleBuilder().add_leaf_hash(b"\x00" * 31)
    with pytest.raises(ValueError):
        root_from_leaf_hashes([b"\x00" * 32, b"\x00" * 33])


@settings(max_examples=60)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=40), st.data())
def test_any_change_to_any_leaf_changes_the_root(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    replacement = data.draw(st.binary(max_size=40).filter(lambda b: b != leaves[index]))
    changed = [*leaves[:index], replacement, *leaves[index + 1 :]]
    before, after = MerkleBuilder(), MerkleBuilder()
    before.add_leaves(leaves)
    after.add_leaves(changed)
    assert before.root() != after.root()
    assert before.root() == rfc6962_root(leaves)
