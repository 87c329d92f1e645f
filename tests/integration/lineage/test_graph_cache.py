"""The lineage graph is answered from a cache of encoded graphs, and never stale: a new
event of the run (a hash result) shows at once."""

from __future__ import annotations

from typing import Any

from cognify_kafka import KafkaSettings
from cognify_lineage import metrics

from tests.unit.lineage.script import Script, hash_results, training

from .harness import eventually, http, make_workspace, signed, stack


def _hits() -> float:
    return float(metrics.GRAPH_CACHE.labels("hit")._value.get())


async def test_a_cached_graph_changes_with_the_next_event_of_its_run(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        ws = f"ws-{unique}"
        keys = await make_workspace(s.dsn, ws)
        script = Script(ws, f"run-{unique}")
        await s.send_raw([signed(e, keys.writer) for e in training(script)])
        url = f"{s.lineage_url}/v1/runs/{script.run_id}/lineage"

        async def ended() -> Any:
            status, graph = await http("GET", url, keys.reviewer)
            return graph if status == 200 and graph["status"] == "completed" else None

        first = await eventually(ended, "the run folded")
        hits = _hits()
        status, again = await http("GET", url, keys.reviewer)
        assert status == 200 and again == first and _hits() == hits + 1
        pending = {n["id"] for n in first["nodes"] if n["hash_status"] == "pending"}
        assert "ckpt_step_100" in pending

        await s.send_events(hash_results(script)[1:2])  # ckpt_step_100 hashed

        async def hashed() -> Any:
            _, graph = await http("GET", url, keys.reviewer)
            node = next(n for n in graph["nodes"] if n["id"] == "ckpt_step_100")
            return graph if node["hash_status"] == "computed" else None

        graph = await eventually(hashed, "the hash result in the graph")
        node = next(n for n in graph["nodes"] if n["id"] == "ckpt_step_100")
        assert node["hash"] == hash_results(script)[1].payload.hash  # type: ignore[union-attr]
        status, _ = await http("GET", url, keys.admin)
        assert status == 200
        for other in (await make_workspace(s.dsn, f"ws-o{unique}")).reviewer, None:
            assert (await http("GET", url, other))[0] in (401, 404)
