"""Parameters no store can answer for are refused with 400 and the reason, never a 500: the
requests issue 12 found answered with tracebacks, against the real services, PostgreSQL
and Kafka (lineage's read API and ingest's commands)."""

from __future__ import annotations

from cognify_kafka import KafkaSettings

from tests.unit.lineage.script import Script, training

from .harness import eventually, http, make_workspace, signed, stack


async def test_parameters_no_store_can_hold_are_a_400_with_the_reason(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        workspace = f"ws-{unique}"
        keys = await make_workspace(s.dsn, workspace)
        script = Script(workspace, f"run-{unique}")
        await s.send_raw([signed(e, keys.writer) for e in training(script)])
        await eventually(lambda: s.run_status(script.run_id), "the run")
        runs = f"{s.lineage_url}/v1/runs"
        run = f"{runs}/{script.run_id}"

        refused = {
            f"{runs}?tag=%00": "invalid query parameter tag.0",
            f"{runs}?tag=team:%00": "invalid query parameter tag.0",
            f"{runs}?offset={2**63}": "invalid query parameter offset",
            f"{runs}?offset={2**64 + 5}": "invalid query parameter offset",
            f"{runs}?offset=-1": "invalid query parameter offset",
            f"{runs}?limit=0": "invalid query parameter limit",
            f"{runs}?limit=1001": "invalid query parameter limit",
            f"{runs}?project=%00": "invalid query parameter project",
            f"{runs}?status=" + "x" * 33: "invalid query parameter status",
            f"{runs}?limit=5&limit=6": "query parameter 'limit' is given more than once",
            f"{runs}?stauts=failed": "unknown query parameter 'stauts'",
            f"{runs}?tag=a:1&tag=a:2": "tag 'a' is given twice with different values",
            f"{runs}/a%00b": "invalid path parameter run_id",
            f"{runs}/%FF%FE": "the path is not UTF-8 once percent-decoded",
            f"{runs}/" + "r" * 129: "invalid path parameter run_id",
            f"{run}/metrics?name=%00": "invalid query parameter name",
            f"{run}/metrics?name=%C3": "query parameter 'name' is not UTF-8",
            f"{run}/events?offset={2**63}": "invalid query parameter offset",
        }
        for url, reason in refused.items():
            status, body = await http("GET", url, keys.reviewer)
            assert status == 400, (url, status, body)
            assert body["error"].startswith(reason), (url, body)

        # The same reads, well formed, still answer.
        for url in (f"{runs}?tag=team:ml&offset={2**53 - 1}", f"{run}/metrics?name=loss", run):
            status, body = await http("GET", url, keys.reviewer)
            assert status == 200, (url, status, body)

        # Ingest's commands bound their path ids before any lookup too.
        decision = {"comment": "ok"}
        for url in (
            f"{s.ingest_url}/v1/runs/a%00b/approve",
            f"{s.ingest_url}/v1/runs/%FF/approve",
            f"{s.ingest_url}/v1/runs/{script.run_id}/datasets/a%00b/diff",
        ):
            status, body = await http("POST", url, keys.reviewer, decision)
            assert status == 400, (url, status, body)
        status, body = await http("GET", f"{s.ingest_url}/v2/workspaces/a%00/retention", keys.admin)
        assert status == 400, body
        deep = b"[" * 50_000
        status, body = await http(
            "POST", f"{s.ingest_url}/v1/runs/{script.run_id}/approve", keys.reviewer, raw=deep
        )
        assert (status, body) == (
            422,
            {"error": "the body nests arrays and objects too deeply to be read"},
        )
        # An event body is read as bytes by the strict codec, which names its own bound.
        status, body = await http("POST", f"{s.ingest_url}/v1/events", keys.writer, raw=deep)
        assert status == 422 and "nested deeper than" in body["error"], body
