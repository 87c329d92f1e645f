"""An admin changes a workspace's compliance tier after it was created: through ingest's API
and `cognify-admin set-tier`, recorded as a `workspace.tier_changed` event naming the key's
holder; datasets registered afterwards are governed by the new tier, those registered before
keep the judgement of the tier they were registered under (docs/decisions/tier-change.md).
Real ingest, lineage, Kafka and PostgreSQL; the datasets come from the SDK."""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path
from typing import Any

import cognify
import cognify_events as ev
import pytest
from cognify.run import Run
from cognify_ingest import admin
from cognify_kafka import KafkaSettings
from datasets import Dataset

from tests.integration.lineage.harness import eventually, http, make_workspace, stack

HEALTHCARE_FIELDS = ["deidentification_method", "authorized_use"]


async def test_an_admin_changes_the_tier_and_new_datasets_follow_it(
    kafka: KafkaSettings,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with stack(kafka) as s:
        workspace = f"ws-tier-{unique}"
        keys = await make_workspace(s.dsn, workspace, "standard")
        monkeypatch.delenv("COGNIFY_COMPLIANCE_TIER", raising=False)
        monkeypatch.delenv("RANK", raising=False)
        monkeypatch.setenv("COGNIFY_TOPIC_PREFIX", s.prefix)
        monkeypatch.setenv("COGNIFY_INGEST_URL", s.ingest_url)

        def register(name: str) -> str:
            # in a thread: this loop serves ingest's HTTP API, which the SDK asks
            with (
                warnings.catch_warnings(),
                cognify.start_run(
                    workspace,
                    keys.writer,
                    "notes",
                    kafka_bootstrap=kafka.bootstrap_servers,
                    spool_dir=tmp_path / "spool",
                ) as run,
            ):
                warnings.simplefilter("ignore")
                assert isinstance(run, Run) and run.tier.finished.wait(10)
                cognify.dataset(
                    Dataset.from_list([{"text": "note"}]),
                    name,
                    "1",
                    provenance={"authorized_use": "IRB-2025-114"},
                )
                run.log_metrics(1, {"loss": 1.0})
            assert run.run_id is not None
            return run.run_id

        async def findings(run_id: str) -> list[dict[str, Any]] | None:
            status, body = await http(
                "GET", f"{s.lineage_url}/v1/runs/{run_id}/findings", keys.reviewer
            )
            if status != 200:
                return None
            return [f for f in body["findings"] if f["kind"] == "provenance-incomplete"]

        async def ended(run_id: str) -> str | None:
            return await s.run_status(run_id) if await s.run_status(run_id) != "running" else None

        # standard: nothing required, no finding
        before = await asyncio.to_thread(register, "notes-before")
        assert await eventually(lambda: ended(before), "the first run folded") == "completed"
        assert await findings(before) == []

        tier_url = f"{s.ingest_url}/v2/workspaces/{workspace}/tier"
        status, _ = await http("PUT", tier_url, keys.reviewer, {"tier": "healthcare"})
        assert status == 403  # admins only
        status, _ = await http("PUT", tier_url, keys.admin, {"tier": "platinum"})
        assert status == 422
        status, _ = await http("PUT", tier_url, keys.admin, {"tier": "healthcare", "by": "x"})
        assert status == 422  # nothing but the tier in the body: who comes from the key

        # the CLI goes through the same API with the admin's key
        await asyncio.to_thread(
            admin.main,
            ["set-tier", "healthcare", "--workspace", workspace, "--url", s.ingest_url, "--key",
             keys.admin],
        )  # fmt: skip
        said = capsys.readouterr().out
        assert "compliance tier standard -> healthcare by Sam Okafor" in said, said
        status, again = await http("PUT", tier_url, keys.admin, {"tier": "healthcare"})
        assert status == 200 and again["event_id"] is None  # unchanged: no second event

        status, me = await http("GET", f"{s.ingest_url}/v1/whoami", keys.writer)
        assert status == 200 and me["compliance_tier"] == "healthcare"
        assert me["required_provenance"] == HEALTHCARE_FIELDS

        # the change is a fact in the workspace's chain, with who made it
        async def tier_events() -> list[ev.EventBase] | None:
            rows = await s.pool.fetch(
                """SELECT body FROM lineage_read.events WHERE chain_id = $1
                     AND type = 'workspace.tier_changed' ORDER BY chain_index""",
                f"workspace:{workspace}",
            )
            return [ev.decode(r["body"]) for r in rows] or None

        (changed,) = await eventually(tier_events, "the workspace.tier_changed event")
        assert isinstance(changed, ev.WorkspaceTierChanged)
        assert changed.run_id is None
        assert (changed.payload.previous_tier, changed.payload.tier) == ("standard", "healthcare")
        assert changed.payload.changed_by == "Sam Okafor"
        assert changed.payload.key_id is not None

        # a dataset registered now is judged by the new tier ...
        after = await asyncio.to_thread(register, "notes-after")

        async def finding_after() -> list[dict[str, Any]] | None:
            found = await findings(after)
            return found or None

        (finding,) = await eventually(finding_after, "the provenance-incomplete finding")
        assert finding["detail"]["missing"] == ["deidentification_method"]
        assert finding["detail"]["tier"] == "healthcare"
        # ... and the run registered under the standard tier keeps its judgement
        assert await findings(before) == []
        print(json.dumps({"before": before, "after": after}))
