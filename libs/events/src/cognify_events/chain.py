"""The per-run hash chain over the event store (pure: no I/O). Spec: docs/spec/lineage.md.

Part of the event contract: lineage appends by it, the exporter verifies by it before a
seal, the anchors continue it (docs/spec/anchors.md), so it lives with the events rather
than in one service (docs/decisions/lineage-contract.md, step 1).

Each stored event is kept as the exact bytes `c` it had on the canonical topic (for SDK
events, the bytes the SDK signed and ingest forwarded unchanged), so nothing is hashed
that was not received, and verifying needs no JSON serialiser. Its chain hash is

    h_0 = SHA-256(32 zero bytes || c_0)
    h_n = SHA-256(h_(n-1) || c_n)            (h as 32 raw bytes)

written `sha256:<64 hex>`. A chain is one run's events (or a workspace's own events) in
store order. Changing, removing or reordering any stored event changes every later hash,
so `verify` names the first event whose stored hash or link no longer holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "sha256:" + "0" * 64


def link(prev_hash: str, body: bytes) -> str:
    prev = bytes.fromhex(prev_hash.removeprefix("sha256:"))
    return "sha256:" + hashlib.sha256(prev + body).hexdigest()


@dataclass(frozen=True)
class StoredLink:
    index: int
    event_id: str
    body: bytes
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    chain_id: str
    valid: bool
    length: int
    head: str
    broken_event_id: str | None = None
    broken_index: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.valid:
            return f"chain {self.chain_id}: {self.length} events, intact, head {self.head}"
        return (
            f"chain {self.chain_id}: broken at event {self.broken_event_id} "
            f"(#{self.broken_index}): {self.reason}"
        )


def verify(chain_id: str, rows: Iterable[StoredLink], head: str | None = None) -> Verification:
    """Recompute the chain from the stored bytes. `head` is the recorded head (chain_heads,
    or a seal's chain_head), checked against the recomputed end of the chain."""
    expected_prev, count = GENESIS, 0
    for row in rows:
        problem = None
        if row.index != count:
            problem = f"expected position {count}, found {row.index} (an event is missing)"
        elif row.prev_hash != expected_prev:
            problem = "its prev_hash is not the hash of the event before it"
        elif link(row.prev_hash, row.body) != row.hash:
            problem = "its content does not match its stored hash (altered after it was stored)"
        if problem is not None:
            return Verification(
                chain_id, False, count, expected_prev, row.event_id, row.index, problem
            )
        expected_prev, count = row.hash, count + 1
    if head is not None and head != expected_prev:
        return Verification(
            chain_id,
            False,
            count,
            expected_prev,
            None,
            count,
            "the recorded head does not match the end of the chain (events removed)",
        )
    return Verification(chain_id, True, count, expected_prev)
