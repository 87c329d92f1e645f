"""Nothing about a seal is silent (issue 12), end to end through ingest, lineage and the
exporter on real Kafka, PostgreSQL and MinIO:

- a seal request the exporter refuses becomes `run.seal_refused`, shown on the run (its
  `seal_refused` state and a `seal-refused` finding) with every reason, the request it
  answers and who asked;
- an event claiming a sequence number the run already has is refused (dead-lettered with
  the reason, the first value stands) and is a `sequence-conflict` finding that blocks the
  seal until a reviewer has annotated it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import cognify_events as ev
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, metrics_text, signed
from tests.unit.lineage.script import training

from .conftest import Cluster, approve, cluster, trained

MISSING = "approval missing: the workspace policy requires 1 approval(s), the run has 0"


async def detail(c: Cluster, run_id: str) -> dict[str, Any]:
    status, body = await http("GET", f"{c.s.lineage_url}/v1/runs/{run_id}", c.keys.reviewer)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def test_a_refused_seal_request_is_shown_on_the_run(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await trained(c, run_id)  # hashed and ended, but nobody approved it
        status, body = await http(
            "POST", f"{c.s.ingest_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {}
        )
        assert status == 202, body
        request_id = body["event_id"]

        async def refusal() -> dict[str, Any] | None:
            found = (await detail(c, run_id)).get("seal_refused")
            return found if isinstance(found, dict) else None

        shown = await eventually(refusal, "the refusal on the run")
        assert shown["reasons"] == [MISSING]
        assert shown["request_id"] == request_id
        requests = [
            e for e in await c.s.read_topic(c.s.topics.events) if b"run.seal_requested" in e[1]
        ]
        asked_by = json.loads(requests[0][1])["payload"]["requested_by"]
        assert shown["requested_by"] == asked_by
        run = await detail(c, run_id)
        assert run["status"] == "completed" and run["sealed_at"] is None
        (finding,) = [f for f in run["findings"] if f["kind"] == "seal-refused"]
        assert finding["id"] == f"seal-refused:{shown['event_id']}"
        assert finding["subject"] == request_id and finding["resolved_at"] is None
        assert finding["detail"]["reasons"] == [MISSING]
        status, body = await http(
            "GET", f"{c.s.lineage_url}/v1/runs/{run_id}/findings", c.keys.reviewer
        )
        assert status == 200 and finding in body["findings"]

        await approve(c, run_id)  # the reason removed, the seal is made, the refusal answered
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {}
        )
        assert status == 200, body
        (answered,) = [f for f in (await detail(c, run_id))["findings"] if f["id"] == finding["id"]]
        assert answered["resolution"] == {"by": "run.sealed"}


async def test_a_sequence_conflict_is_refused_and_blocks_the_seal_until_seen(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        script = await trained(c, run_id)
        await approve(c, run_id)
        sent = training(script.__class__(script.workspace, run_id))  # numbered as sent
        first = next(e for e in sent if isinstance(e, ev.MetricsLogged))
        assert first.payload.metrics["loss"] == 1.5
        stored = (await c.s.runs(run_id))[run_id].metrics[("loss", first.payload.step)]
        assert stored.value == 1.5
        payload = first.payload.model_copy(update={"metrics": {"loss": 77.0, "lr": 1e-5}})
        rival = first.model_copy(update={"event_id": uuid.uuid4(), "payload": payload})
        await c.s.send_raw([signed(rival, c.keys.writer)])

        async def refused() -> str | None:
            why: str | None = await c.s.pool.fetchval(
                "SELECT reason FROM refused_events WHERE event_id = $1", rival.event_id
            )
            return why

        reason = await eventually(refused, "the conflicting event refused")
        assert reason.startswith(f"sequence-conflict: run '{run_id}' already has an event")

        async def dead_lettered() -> dict[str, Any] | None:
            for _, value in await c.s.read_topic(c.s.topics.dlq):
                letter = json.loads(value)
                if letter.get("rejected_by") == "lineage" and str(rival.event_id) in str(
                    letter.get("reason")
                ):
                    return dict(letter)
            return None

        letter = await eventually(dead_lettered, "the dead letter of the conflict")
        assert letter["reason"] == reason
        counted = await metrics_text(f"{c.s.lineage_url}/metrics")
        assert 'refused_after_seal_total{type="metrics.logged",why="sequence-conflict"}' in counted
        run = (await c.s.runs(run_id))[run_id]
        assert run.metrics[("loss", first.payload.step)].value == 1.5  # the first claim stands

        finding_id = f"sequence-conflict:{rival.event_id}"
        (finding,) = [f for f in (await detail(c, run_id))["findings"] if f["id"] == finding_id]
        assert finding["kind"] == "sequence-conflict" and finding["resolved_at"] is None
        assert finding["detail"]["seq"] == first.seq

        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {}
        )
        assert status == 409, body
        assert body["reasons"] == [
            f"unseen sequence conflict: a metrics.logged event {rival.event_id} claimed seq "
            f"{first.seq}, which the run already had, and was refused; a reviewer must "
            f"annotate finding {finding_id} before the seal"
        ]

        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/annotations",
            c.keys.reviewer,
            {"node_id": finding_id, "text": "a replay with another value; 1.5 is right"},
        )
        assert status == 201, body

        async def seen() -> dict[str, Any] | None:
            for f in (await detail(c, run_id))["findings"]:
                if f["id"] == finding_id and f["resolved_at"] is not None:
                    return dict(f)
            return None

        resolved = await eventually(seen, "the conflict seen by a reviewer")
        assert resolved["resolution"]["annotation_id"] == body["annotation_id"]
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {}
        )
        assert status == 200, body
        assert await c.s.run_status(run_id) == "AUDIT_SEALED"
