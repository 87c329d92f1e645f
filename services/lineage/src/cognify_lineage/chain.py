"""The per-run hash chain: now part of the event contract (`cognify_events.chain`,
docs/decisions/lineage-contract.md); re-exported here for lineage's modules and tests."""

from cognify_events.chain import GENESIS, StoredLink, Verification, link, verify

__all__ = ["GENESIS", "StoredLink", "Verification", "link", "verify"]
