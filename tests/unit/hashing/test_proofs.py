"""Inclusion proofs: RFC 6962 audit paths, verified with RFC 9162's algorithm."""

import json

import pytest
from cognify_hashing import (
    InclusionProof,
    inclusion_proof,
    leaf_hash,
    prove_inclusion,
    root_from_leaf_hashes,
    verify_inclusion,
)


def rfc6962_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) as RFC 6962 §2.1.1 writes it, over leaf hashes."""
    if len(leaves) == 1:
        return []
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    if index < split:
        return [*rfc6962_path(index, leaves[:split]), root_from_leaf_hashes(leaves[split:])]
    return [*rfc6962_path(index - split, leaves[split:]), root_from_leaf_hashes(leaves[:split])]


def tree(size: int) -> list[bytes]:
    return [leaf_hash(f'{{"row":{i}}}'.encode()) for i in range(size)]


def test_every_leaf_of_trees_of_1_to_33_leaves_proves_its_inclusion() -> None:
    for size in range(1, 34):
        leaves = tree(size)
        root = root_from_leaf_hashes(leaves)
        for index in range(size):
            proof = inclusion_proof(leaves, index)
            assert proof == rfc6962_path(index, leaves)
            assert verify_inclusion(leaves[index], index, size, proof, root)


def test_a_tampered_proof_leaf_index_size_or_root_fails() -> None:
    for size in range(2, 34):
        leaves = tree(size)
        root = root_from_leaf_hashes(leaves)
        for index in range(size):
            proof = inclusion_proof(leaves, index)
            leaf = leaves[index]
            other_leaf = leaves[(index + 1) % size]
            assert not verify_inclusion(other_leaf, index, size, proof, root)
            assert not verify_inclusion(leaf, (index + 1) % size, size, proof, root)
            if len(inclusion_proof(tree(size + 1), index)) != len(proof):
                assert not verify_inclusion(leaf, index, size + 1, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, leaf_hash(b"other root"))
            for step in range(len(proof)):
                flipped = bytes([proof[step][0] ^ 1]) + proof[step][1:]
                tampered = [*proof[:step], flipped, *proof[step + 1 :]]
                assert not verify_inclusion(leaf, index, size, tampered, root)
            assert not verify_inclusion(leaf, index, size, proof[:-1], root)
            assert not verify_inclusion(leaf, index, size, [*proof, root], root)


def test_the_tree_size_is_bound_by_the_root_not_by_the_path() -> None:
    # Leaf 0 of 3 leaves and of 4 leaves hashes the same way, so a verifier must take the
    # tree size from the sealed dataset record along with the root (spec section 4).
    leaves = tree(3)
    proof = inclusion_proof(leaves, 0)
    root = root_from_leaf_hashes(leaves)
    assert verify_inclusion(leaves[0], 0, 3, proof, root)
    assert verify_inclusion(leaves[0], 0, 4, proof, root)
    assert not verify_inclusion(leaves[0], 0, 5, proof, root)


def test_out_of_range_indexes_never_verify() -> None:
    leaves = tree(5)
    root = root_from_leaf_hashes(leaves)
    assert not verify_inclusion(leaves[0], 5, 5, [], root)
    assert not verify_inclusion(leaves[0], -1, 5, [], root)
    with pytest.raises(IndexError):
        inclusion_proof(leaves, 5)


def test_a_single_record_dataset_proves_itself_with_an_empty_path() -> None:
    leaves = tree(1)
    assert inclusion_proof(leaves, 0) == []
    assert verify_inclusion(leaves[0], 0, 1, [], leaves[0])


def test_the_proof_document_round_trips_through_json() -> None:
    proof = prove_inclusion(tree(11), 6)
    document = json.loads(json.dumps(proof.to_json()))
    assert set(document) == {
        "version",
        "leaf_index",
        "tree_size",
        "leaf_hash",
        "audit_path",
        "root",
    }
    assert document["root"].startswith("sha256:")
    parsed = InclusionProof.from_json(document)
    assert parsed == proof
    assert parsed.verify()


def test_malformed_proof_documents_are_rejected() -> None:
    good = prove_inclusion(tree(4), 1).to_json()
    for broken in (
        {**good, "version": 2},
        {**good, "leaf_index": "1"},
        {**good, "root": str(good["root"]).removeprefix("sha256:")},
        {**good, "leaf_hash": str(good["leaf_hash"]).upper()},
        {**good, "audit_path": ["00" * 31]},
    ):
        with pytest.raises(ValueError):
            InclusionProof.from_json(broken)
