"""The workspace's compliance tier governs dataset provenance (issue 16), end to end through
ingest, lineage and the exporter on real Kafka, PostgreSQL and MinIO: in a healthcare
workspace, a dataset registered without `deidentification_method` is a
`provenance-incomplete` finding naming it; the seal is refused with that reason until a
reviewer annotates the finding, and then goes."""

from __future__ import annotations

from typing import Any

import cognify_events as ev
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, make_workspace, signed
from tests.unit.lineage.script import Script, hash_results, training

from .conftest import Cluster, approve, cluster

FULL = {"deidentification_method": "safe_harbor", "authorized_use": "IRB-2025-114"}


def _with_provenance(events: list[ev.Event], lacking: str) -> list[ev.Event]:
    """The scripted run with complete healthcare provenance on every dataset but `lacking`,
    which has no deidentification_method."""
    out: list[ev.Event] = []
    for e in events:
        if isinstance(e, ev.DatasetRegistered):
            given = {"authorized_use": "IRB-2025-114"} if e.payload.dataset_id == lacking else FULL
            e = e.model_copy(update={"payload": e.payload.model_copy(update={"provenance": given})})
        out.append(e)
    return out


async def _run(c: Cluster, run_id: str) -> dict[str, Any]:
    status, body = await http("GET", f"{c.s.lineage_url}/v1/runs/{run_id}", c.keys.reviewer)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def test_a_healthcare_dataset_without_deidentification_blocks_the_seal_until_annotated(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as standard:
        workspace = f"ws-hc-{unique}"
        keys = await make_workspace(standard.s.dsn, workspace, "healthcare")
        c = Cluster(standard.s, standard.exporter_url, keys, workspace)
        run_id = f"run-{unique}"
        script = Script(workspace, run_id)
        events = _with_provenance(training(script), lacking="ds_extra_v1")
        await c.s.send_raw([signed(e, keys.writer) for e in events])
        await c.s.send_events(hash_results(script))

        async def folded() -> dict[str, Any] | None:
            run = (await c.s.runs(run_id, full=False)).get(run_id)
            if run is None or run.status != "completed":
                return None
            if sum(n.hash_status == "computed" for n in run.nodes.values()) != 9:
                return None
            found = [f for f in (await _run(c, run_id))["findings"] if f["kind"] != "seal-refused"]
            return {"findings": found} if found else None

        shown = (await eventually(folded, "the run folded with its finding"))["findings"]
        finding_id = "provenance-incomplete:ds_extra_v1"
        assert [f["id"] for f in shown] == [finding_id]  # the datasets with full provenance: none
        (finding,) = shown
        assert finding["kind"] == "provenance-incomplete" and finding["resolved_at"] is None
        assert finding["detail"]["missing"] == ["deidentification_method"]
        assert finding["detail"]["tier"] == "healthcare"

        await approve(c, run_id)
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", keys.reviewer, {}
        )
        assert status == 409, body
        assert body["reasons"] == [
            "incomplete provenance: dataset ds_extra_v1 lacks deidentification_method, required "
            "for the workspace's healthcare compliance tier; a reviewer must annotate finding "
            f"{finding_id} before the seal"
        ]

        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/annotations",
            keys.reviewer,
            {
                "node_id": finding_id,
                "text": "Expert determination on file; the field was left out.",
            },
        )
        assert status == 201, body

        async def seen() -> dict[str, Any] | None:
            for f in (await _run(c, run_id))["findings"]:
                if f["id"] == finding_id and f["resolved_at"] is not None:
                    return dict(f)
            return None

        resolved = await eventually(seen, "the finding seen by a reviewer")
        assert resolved["resolution"]["annotation_id"] == body["annotation_id"]
        assert resolved["resolution"]["seen_by"] == "Dana Reyes"
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", keys.reviewer, {}
        )
        assert status == 200, body
        assert await c.s.run_status(run_id) == "AUDIT_SEALED"
