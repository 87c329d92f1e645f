"""Re-exports `cognify_lineage_model.graph`, where the graph's JSON views now live (issue 13,
docs/decisions/lineage-contract.md step 2), for one release; import it from there."""

from cognify_lineage_model.graph import digest, finding_json, lineage, node_json, summary

__all__ = ["digest", "finding_json", "lineage", "node_json", "summary"]
