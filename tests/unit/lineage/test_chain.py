"""The per-run hash chain: the documented test vector, and tampering named precisely."""

from __future__ import annotations

import hashlib

from cognify_lineage import chain

B0 = '{"a":"é","b":1,"signature":null}'.encode()  # stored bytes, as received
B1 = b'{"n":2}'
H0 = "sha256:0e3c81fbefe853ff62ffda1d3aa531be6dfb48f676968fdf318c59ccaee7b2df"
H1 = "sha256:0d62feeba093a83dd049bc9e6ce44e8743410656e1eed4ffa70e8366e332b3ec"


def test_the_documented_test_vector() -> None:
    assert '{"a":"é","b":1,"signature":null}'.encode() == B0
    assert B0.hex() == "7b2261223a22c3a9222c2262223a312c227369676e6174757265223a6e756c6c7d"
    assert chain.link(chain.GENESIS, B0) == H0
    assert "sha256:" + hashlib.sha256(bytes(32) + B0).hexdigest() == H0
    assert chain.link(H0, B1) == H1


def _links(bodies: list[bytes]) -> list[chain.StoredLink]:
    out, prev = [], chain.GENESIS
    for i, body in enumerate(bodies):
        digest = chain.link(prev, body)
        out.append(chain.StoredLink(i, f"e{i}", body, prev, digest))
        prev = digest
    return out


def test_an_intact_chain_verifies_up_to_its_recorded_head() -> None:
    links = _links([B0, B1, b'{"n":3}'])
    result = chain.verify("run-1", links, links[-1].hash)
    assert result.valid and result.length == 3 and result.head == links[-1].hash


def test_an_altered_event_is_named_with_its_run() -> None:
    links = _links([B0, B1, b'{"n":3}'])
    links[1] = chain.StoredLink(1, "e1", b'{"n":20}', links[1].prev_hash, links[1].hash)
    result = chain.verify("run-1", links, links[-1].hash)
    assert not result.valid
    assert (result.broken_event_id, result.broken_index) == ("e1", 1)
    assert "run-1" in result.describe() and "e1" in result.describe()
    assert "altered" in (result.reason or "")


def test_a_rehashed_alteration_still_breaks_the_next_link() -> None:
    links = _links([B0, B1, b'{"n":3}'])
    forged = b'{"n":20}'
    links[1] = chain.StoredLink(
        1, "e1", forged, links[1].prev_hash, chain.link(links[1].prev_hash, forged)
    )
    result = chain.verify("run-1", links, links[-1].hash)
    assert result.broken_event_id == "e2"


def test_a_removed_event_is_a_break() -> None:
    links = _links([B0, B1, b'{"n":3}'])
    assert chain.verify("r", [links[0], links[2]]).broken_event_id == "e2"
    tail_removed = chain.verify("r", links[:2], links[-1].hash)
    assert not tail_removed.valid and "head" in (tail_removed.reason or "")
