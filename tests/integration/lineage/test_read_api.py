"""The read API refuses other workspaces (404, as if the run did not exist) and bad keys,
and records every read."""

from __future__ import annotations

import asyncpg
from cognify_ingest import workspaces
from cognify_ingest.credentials import Role, key_id_of
from cognify_kafka import KafkaSettings

from tests.unit.lineage.script import Script, training

from .harness import eventually, http, make_workspace, signed, stack

PATHS = ["", "/lineage", "/findings", "/metrics", "/events", "/annotations", "/approvals"]


async def test_every_read_endpoint_refuses_other_workspaces_and_bad_keys(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        a, b = f"ws-a{unique}", f"ws-b{unique}"
        ka, kb = await make_workspace(s.dsn, a), await make_workspace(s.dsn, b)
        script = Script(a, f"run-{unique}")
        await s.send_raw([signed(e, ka.writer) for e in training(script)])
        await eventually(lambda: s.run_status(script.run_id), "the run")
        base = f"{s.lineage_url}/v1/runs/{script.run_id}"
        token: str | None

        conn = await asyncpg.connect(s.dsn)
        try:
            revoked = (await workspaces.issue_key(conn, a, Role.REVIEWER)).key
            assert await workspaces.revoke_key(conn, key_id_of(revoked) or "")
        finally:
            await conn.close()

        for path in PATHS:
            for token in (ka.writer, ka.reviewer, ka.admin):
                status, _ = await http("GET", base + path, token)
                assert status == 200, (path, status)
            for token in (kb.writer, kb.reviewer, kb.admin):
                status, body = await http("GET", base + path, token)
                assert (status, body) == (404, {"error": "no such run"}), path
            for token in (None, "not-a-key", revoked, "cgk_000000000000_" + "A" * 43):
                status, _ = await http("GET", base + path, token)
                assert status == 401, (path, token)
            status, _ = await http("GET", f"{s.lineage_url}/v1/runs/run-nobody{path}", ka.admin)
            assert status == 404

        status, mine = await http("GET", f"{s.lineage_url}/v1/runs", ka.reviewer)
        assert status == 200 and [r["run_id"] for r in mine["runs"]] == [script.run_id]
        status, theirs = await http("GET", f"{s.lineage_url}/v1/runs", kb.reviewer)
        assert status == 200 and theirs["runs"] == []
        status, _ = await http("GET", f"{s.lineage_url}/v1/runs", None)
        assert status == 401

        # 7 paths x (3 allowed + 3 refused + 1 missing run) + 2 listings, all recorded.
        async def reads() -> list[asyncpg.Record] | None:
            rows = await s.pool.fetch(
                "SELECT * FROM access_log WHERE workspace_id = ANY($1)", [a, b]
            )
            return rows if len(rows) >= 7 * 7 + 2 else None

        rows = await eventually(reads, "the access records of every read")
        refused = [r for r in rows if not r["allowed"]]
        assert len(refused) == 7 * 4
        assert {r["workspace_id"] for r in refused if r["object_id"] == f"run:{script.run_id}"} == {
            b
        }
        assert {r["actor"] for r in rows if r["workspace_id"] == a} >= {
            f"Dana Reyes (reviewer@{a})",
            f"writer@{a}",
        }

        status, text = await http("GET", f"{s.lineage_url}/healthz")
        assert (status, text) == (200, {"status": "ok"})
