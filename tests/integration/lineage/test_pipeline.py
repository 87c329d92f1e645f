"""A scripted run through the real ingest and lineage: the expected DAG, chain and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import cognify_events as ev
import jsonschema
from cognify_kafka import KafkaSettings

from tests.unit.lineage.script import (
    EXPECTED_EDGES,
    EXPECTED_NODES,
    Script,
    hash_results,
    training,
)

from .harness import eventually, http, make_workspace, signed, stack

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "docs/spec/lineage-graph.schema.json").read_text()
)


async def test_a_scripted_run_becomes_the_expected_dag_with_an_intact_chain(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        keys = await make_workspace(s.dsn, f"ws-{unique}")
        script = Script(f"ws-{unique}", f"run-{unique}")
        events = training(script)
        await s.send_raw([signed(e, keys.writer) for e in events])

        # Ingest asks the hasher pool for four hashes: one dataset, two checkpoints, the model.
        async def jobs() -> list[ev.HashJobRequested] | None:
            found = [ev.decode(v) for _, v in await s.read_topic(s.topics.hash_jobs)]
            return found if len(found) >= 4 else None  # type: ignore[return-value]

        requested = await eventually(jobs, "four hash jobs")
        assert sorted(j.payload.target_id for j in requested) == [
            "ckpt_step_100",
            "ckpt_step_200",
            "ds_extra_v1",
            "model_final",
        ]
        # The hasher's answers arrive after the run has ended.
        await s.send_events(hash_results(script))

        async def folded() -> bool:
            run = (await s.runs(script.run_id)).get(script.run_id)
            return (
                run is not None
                and all(n.hash_status == "computed" for n in run.nodes.values())
                and len(run.nodes) == 9
            )

        await eventually(folded, "the run with every hash computed")
        run = (await s.runs(script.run_id))[script.run_id]
        assert run.status == "completed" and run.seq_high == len(events) - 1 and run.gaps == ()

        status, graph = await http(
            "GET", f"{s.lineage_url}/v1/runs/{script.run_id}/lineage", keys.reviewer
        )
        assert status == 200
        jsonschema.validate(graph, SCHEMA)
        assert [(n["type"], n["id"]) for n in graph["nodes"]] == EXPECTED_NODES
        assert {(e["from"], e["to"]) for e in graph["edges"]} == EXPECTED_EDGES
        assert graph["status"] == "completed" and graph["sealed_at"] is None

        status, stored = await http(
            "GET", f"{s.lineage_url}/v1/runs/{script.run_id}/events", keys.reviewer
        )
        assert status == 200 and stored["chain"]["valid"], stored["chain"]
        # 15 SDK events, 4 hash jobs from ingest, 4 hash results: each stored once, in order.
        assert stored["total"] == len(events) + 4 + 4
        sdk = [
            e["event"]["seq"] for e in stored["events"] if e["event"]["producer"]["kind"] == "sdk"
        ]
        assert sdk == list(range(len(events)))
        assert stored["events"][0]["prev_hash"] == "sha256:" + "0" * 64
        for before, after in zip(stored["events"], stored["events"][1:], strict=False):
            assert after["prev_hash"] == before["hash"]
        assert stored["events"][0]["event"]["signature"].startswith("hmac-sha256:")

        status, series = await http(
            "GET", f"{s.lineage_url}/v1/runs/{script.run_id}/metrics?name=loss", keys.writer
        )
        assert status == 200
        assert [(p["step"], p["value"]) for p in series["series"]["loss"]] == [
            (10, 1.5),
            (20, 1.2),
            (150, 0.9),
        ]

        status, listed = await http(
            "GET", f"{s.lineage_url}/v1/runs?status=completed&tag=team:ml", keys.admin
        )
        assert status == 200 and [r["run_id"] for r in listed["runs"]] == [script.run_id]
        status, listed = await http("GET", f"{s.lineage_url}/v1/runs?project=other", keys.admin)
        assert listed["runs"] == []
