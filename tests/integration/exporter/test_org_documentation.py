"""Organisation documentation set through ingest's API (and `cognify-admin docs`) with an
admin key reaches the sealed run's packages with its version and who set it; a change
after the seal does not change what the sealed run's packages say."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from cognify import cli
from cognify_ingest import admin_docs
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http

from .conftest import Cluster, approve, cluster, trained


def _docs(c: Cluster, key: str, action: str, field: str, value: str | None = None) -> str:
    args = argparse.Namespace(
        action=action,
        field=field,
        value=value,
        workspace=c.workspace,
        url=c.s.ingest_url,
        key=key,
    )
    return admin_docs.run(args)


async def _stored(c: Cluster, n: int) -> bool:
    found = await c.s.pool.fetchval(
        "SELECT count(*) FROM events WHERE chain_id = $1 AND type = 'documentation.updated'",
        f"workspace:{c.workspace}",
    )
    return int(found) == n


async def _export(c: Cluster, run_id: str, fmt: str, out: Path, mp: pytest.MonkeyPatch) -> None:
    mp.setenv("COGNIFY_EXPORTER_URL", c.exporter_url)
    mp.setenv("COGNIFY_API_KEY", c.keys.reviewer)
    argv = ["export", "--run-id", run_id, "--format", fmt, "--template", "eu_ai_act"]
    assert await asyncio.to_thread(cli.main, [*argv, "--output", str(out)]) == 0


async def test_documentation_set_through_the_api_is_cited_with_its_version(
    kafka: KafkaSettings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with cluster(kafka, unique) as c:
        said = await asyncio.to_thread(
            _docs, c, c.keys.admin, "set", "intended_use", "Drafting discharge summaries."
        )
        assert said.startswith("intended_use set by ")
        status, body = await http(
            "PATCH",
            f"{c.s.ingest_url}/v2/workspaces/{c.workspace}/documentation",
            c.keys.admin,
            {"risk_management": "RMS-2026-04, section 3", "phi_handling": None},
        )
        assert status == 200 and body["set"] == ["risk_management"], body
        assert body["cleared"] == ["phi_handling"]
        # a reviewer may not; an empty change and an unknown field are refused
        refused = await http(
            "PATCH",
            f"{c.s.ingest_url}/v2/workspaces/{c.workspace}/documentation",
            c.keys.reviewer,
            {"intended_use": "anything"},
        )
        assert refused[0] == 403
        for bad in ({}, {"who": "me"}, {"incident_policy_url": "javascript:alert(1)"}):
            answer = await http(
                "PATCH",
                f"{c.s.ingest_url}/v2/workspaces/{c.workspace}/documentation",
                c.keys.admin,
                bad,
            )
            assert answer[0] == 422, (bad, answer)
        await eventually(lambda: _stored(c, 2), "both documentation changes stored")

        run_id = f"run-{unique}"
        await trained(c, run_id)
        await approve(c, run_id)
        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/seal",
            c.keys.reviewer,
            {"formats": ["json"], "template": "eu_ai_act"},
        )
        assert status == 202, body

        async def sealed() -> bool:
            return await c.s.run_status(run_id) == "AUDIT_SEALED"

        await eventually(sealed, "the run AUDIT_SEALED")
        # changed after the seal: the sealed run's packages keep citing version 2
        await asyncio.to_thread(_docs, c, c.keys.admin, "set", "intended_use", "Changed later.")
        await eventually(lambda: _stored(c, 3), "the later change stored")

        out = tmp_path / "audit.json"
        await _export(c, run_id, "json", out, monkeypatch)
        doc = json.loads(out.read_bytes())
        version = doc["documentation_version"]
        assert version["version"] == 2
        assert doc["documentation"]["intended_use"] == "Drafting discharge summaries."
        assert doc["documentation"]["risk_management"] == "RMS-2026-04, section 3"
        holder = version["fields"]["intended_use"]["set_by"]
        assert holder and holder != "anything"  # the admin key's holder, from the key
        point5 = next(p for p in doc["compliance"] if p["title"].startswith("5."))
        assert point5["fields"][0]["value"] == "RMS-2026-04, section 3"
        assert point5["fields"][0]["source"].startswith(
            f"organisation documentation v2, set by {holder}"
        )

        pdf = tmp_path / "audit.pdf"
        await _export(c, run_id, "pdf", pdf, monkeypatch)
        text = " ".join(
            subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
            ).stdout.split()
        )
        assert "Drafting discharge summaries." in text and "Changed later." not in text
        assert f"organisation documentation v1, set by {holder}" in text
        assert "not supplied — set it with `cognify-admin docs set post_market_monitoring" in text
