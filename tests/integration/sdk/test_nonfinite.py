"""A NaN benchmark result and a diverged loss, sent by the SDK through the real ingest into
lineage: accepted (nothing dead-lettered), and shown by name on the run and its evaluation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import cognify
import pytest
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, make_workspace, stack


async def test_nonfinite_results_pass_ingest_and_show_in_lineage(
    kafka: KafkaSettings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stack(kafka) as s:
        workspace = f"ws-{unique}"
        keys = await make_workspace(s.dsn, workspace)
        monkeypatch.delenv("RANK", raising=False)
        monkeypatch.setenv("COGNIFY_TOPIC_PREFIX", s.prefix)
        monkeypatch.setenv("COGNIFY_INGEST_URL", "off")

        def train() -> tuple[str, str]:
            with cognify.start_run(
                workspace,
                keys.writer,
                "evals",
                kafka_bootstrap=kafka.bootstrap_servers,
                spool_dir=tmp_path / "spool",
            ) as run:
                run.log_metrics(1, {"loss": 2.0})
                run.log_metrics(2, {"loss": float("nan")})
                eval_id = cognify.eval("medqa", "2024.1", {"accuracy": 0.81, "auroc": float("nan")})
            assert run.run_id is not None
            return run.run_id, eval_id

        run_id, eval_id = await asyncio.to_thread(train)

        async def shown() -> dict[str, Any] | None:
            status, body = await http("GET", f"{s.lineage_url}/v1/runs/{run_id}", keys.reviewer)
            done = status == 200 and body.get("status") == "completed"
            return body if done else None

        run = await eventually(shown, "the run folded and ended")
        assert run["nonfinite_metrics"]["loss"] == {
            "first_step": 2,
            "first_value": "nan",
            "last_step": 2,
            "last_value": "nan",
            "count": 1,
        }
        status, graph = await http(
            "GET", f"{s.lineage_url}/v1/runs/{run_id}/lineage", keys.reviewer
        )
        assert status == 200
        (node,) = [n for n in graph["nodes"] if n["id"] == eval_id]
        assert node["metrics"] == {"accuracy": 0.81}
        assert node["nonfinite_metrics"] == {"auroc": "nan"}
        letters = [json.loads(v) for _, v in await s.read_topic(s.topics.dlq)]
        assert [x for x in letters if run_id in json.dumps(x)] == []
