"""The SDK learns the workspace's compliance tier from the real ingest (`GET /v1/whoami`) and
warns at `cognify.dataset` about provenance a healthcare workspace requires, with no tier
configured on the training node; ingest records the same gap as a finding on the run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import cognify
import pytest
from cognify.provenance import ProvenanceWarning
from cognify.run import Run
from cognify_kafka import KafkaSettings
from datasets import Dataset

from tests.integration.lineage.harness import eventually, http, make_workspace, stack


async def test_a_healthcare_workspace_warns_and_records_a_finding_without_any_local_tier(
    kafka: KafkaSettings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stack(kafka) as s:
        workspace = f"ws-hc-{unique}"
        keys = await make_workspace(s.dsn, workspace, "healthcare")
        status, me = await http("GET", f"{s.ingest_url}/v1/whoami", keys.writer)
        assert status == 200, me
        assert me["compliance_tier"] == "healthcare"
        assert me["required_provenance"] == ["deidentification_method", "authorized_use"]
        monkeypatch.delenv("COGNIFY_COMPLIANCE_TIER", raising=False)
        monkeypatch.delenv("RANK", raising=False)
        monkeypatch.setenv("COGNIFY_TOPIC_PREFIX", s.prefix)
        monkeypatch.setenv("COGNIFY_INGEST_URL", s.ingest_url)

        def train() -> tuple[str, list[str]]:
            # in a thread: this loop serves ingest's HTTP API, which the SDK asks
            with cognify.start_run(
                workspace,
                keys.writer,
                "notes",
                kafka_bootstrap=kafka.bootstrap_servers,
                spool_dir=tmp_path / "spool",
            ) as run:
                # the SDK never waits for ingest's answer (a dataset registered before it
                # is warned about when it comes: tests/unit/sdk/test_tier.py); here it is in
                assert isinstance(run, Run) and run.tier.finished.wait(10)
                with pytest.warns(ProvenanceWarning) as said:
                    ref = cognify.dataset(
                        Dataset.from_list([{"text": "note"}]),
                        "phi-notes",
                        "1",
                        provenance={"authorized_use": "IRB-2025-114"},
                    )
                run.log_metrics(1, {"loss": 1.0})
            assert list(ref.warnings) == [str(w.message) for w in said]
            assert run.run_id is not None
            return run.run_id, [str(w.message) for w in said]

        run_id, said = await asyncio.to_thread(train)
        (message,) = said
        assert "missing deidentification_method, required for the healthcare" in message
        assert "of the workspace" in message

        async def finding() -> dict[str, Any] | None:
            status, body = await http(
                "GET", f"{s.lineage_url}/v1/runs/{run_id}/findings", keys.reviewer
            )
            if status != 200:
                return None
            found = [f for f in body["findings"] if f["kind"] == "provenance-incomplete"]
            return found[0] if found else None

        shown = await eventually(finding, "the provenance-incomplete finding")
        assert shown["detail"]["missing"] == ["deidentification_method"]
        assert shown["id"] == "provenance-incomplete:ds_phi-notes_1"
