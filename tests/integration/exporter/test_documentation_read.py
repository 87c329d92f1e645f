"""The organisation documentation as a seal now would cite it, readable by admins (the
dashboard's admin page): `GET /v2/workspaces/{ws}/documentation` on the exporter, which
folds the workspace's `documentation.updated` events over the legacy row."""

from __future__ import annotations

from typing import Any

from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, make_workspace

from .conftest import cluster


async def test_admins_read_the_documentation_with_who_set_each_field(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as c:
        url = f"{c.exporter_url}/v2/workspaces/{c.workspace}/documentation"
        status, empty = await http("GET", url, c.keys.admin)
        assert status == 200
        assert (empty["workspace_id"], empty["version"], empty["fields"]) == (c.workspace, 0, {})

        patch = f"{c.s.ingest_url}/v2/workspaces/{c.workspace}/documentation"
        body = {
            "intended_use": "Drafting discharge summaries.",
            "incident_policy_url": "https://example.org/incidents",
        }
        assert (await http("PATCH", patch, c.keys.admin, body))[0] == 200
        assert (await http("PATCH", patch, c.keys.admin, {"intended_use": None}))[0] == 200

        async def two_versions() -> Any:
            status, docs = await http("GET", url, c.keys.admin)
            assert status == 200, docs
            return docs if docs["version"] == 2 else None

        docs = await eventually(two_versions, "both changes in the documentation")
        assert set(docs["fields"]) == {"incident_policy_url"}  # intended_use cleared
        field = docs["fields"]["incident_policy_url"]
        assert field["text"] == "https://example.org/incidents" and field["version"] == 1
        assert field["set_by"] == "Sam Okafor" and docs["updated_by"] == "Sam Okafor"

        other = await make_workspace(c.s.dsn, f"ws-o{unique}")
        assert (await http("GET", url, c.keys.reviewer))[0] == 403
        assert (await http("GET", url, c.keys.writer))[0] == 403
        assert (await http("GET", url, other.admin))[0] == 404
        assert (await http("GET", url, None))[0] == 401
