"""What the dashboard reads from the services it has no other way to: who a key is
(ingest's `GET /v1/whoami`), the runs list's filters, search, order and total (lineage's
`GET /v1/runs`), and the workspace's access log (lineage's `GET /v2/workspaces/{ws}/access-log`,
admin keys only)."""

from __future__ import annotations

from typing import Any

import asyncpg
from cognify_kafka import KafkaSettings

from tests.unit.lineage.script import Script, training

from .harness import eventually, http, make_workspace, signed, stack


async def test_whoami_names_the_keys_workspace_role_and_holder(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        ws = f"ws-{unique}"
        keys = await make_workspace(s.dsn, ws)
        status, me = await http("GET", f"{s.ingest_url}/v1/whoami", keys.reviewer)
        assert status == 200
        assert (me["workspace_id"], me["role"], me["label"]) == (ws, "reviewer", f"reviewer@{ws}")
        assert keys.reviewer.startswith(f"cgk_{me['key_id']}_")
        assert me["person"]["name"] == "Dana Reyes"
        assert me["person"]["title"] == "compliance-officer" and me["person"]["email"] is None
        status, machine = await http("GET", f"{s.ingest_url}/v1/whoami", keys.writer)
        assert status == 200 and machine["role"] == "writer" and machine["person"] is None
        for bad in (None, "not-a-key", "cgk_000000000000_" + "A" * 43):
            assert (await http("GET", f"{s.ingest_url}/v1/whoami", bad))[0] == 401

        async def recorded() -> list[asyncpg.Record] | None:
            rows = await s.pool.fetch(
                "SELECT * FROM access_log WHERE workspace_id = $1 AND action = 'whoami'", ws
            )
            return rows if len(rows) == 2 else None

        rows = await eventually(recorded, "the whoami access records")
        assert {r["object_id"] for r in rows} == {f"workspace:{ws}"}


async def test_the_runs_list_filters_searches_sorts_and_counts(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        ws = f"ws-{unique}"
        keys = await make_workspace(s.dsn, ws)
        scripts = [Script(ws, f"run-{unique}-{n}") for n in range(3)]
        await s.send_raw([signed(e, keys.writer) for sc in scripts for e in training(sc)])
        for run_id in (sc.run_id for sc in scripts):

            async def folded(run_id: str = run_id) -> str | None:
                return await s.run_status(run_id)

            await eventually(folded, f"run {run_id}")
        first, second, third = (sc.run_id for sc in scripts)
        for run_id, verb in ((first, "approve"), (second, "reject")):
            status, _ = await http(
                "POST", f"{s.ingest_url}/v1/runs/{run_id}/{verb}", keys.reviewer, {"comment": "x"}
            )
            assert status == 201

        async def listed(query: str) -> Any:
            status, body = await http("GET", f"{s.lineage_url}/v1/runs?{query}", keys.reviewer)
            assert status == 200, body
            return body

        async def decided() -> bool:
            runs = (await listed("approval=pending"))["runs"]
            return [r["run_id"] for r in runs] == [third]

        await eventually(decided, "lineage to fold both decisions")
        approved = await listed("approval=approved")
        assert [r["run_id"] for r in approved["runs"]] == [first]
        assert approved["total"] == 1
        row = approved["runs"][0]
        assert row["approval"] == "approved" and row["ended_at"] is not None
        assert isinstance(row["open_findings"], int)

        page = await listed("limit=2&sort=run_id")
        assert [r["run_id"] for r in page["runs"]] == [first, second]
        assert page["total"] == 3
        back = await listed("limit=2&offset=2&sort=run_id")
        assert [r["run_id"] for r in back["runs"]] == [third]
        down = await listed("sort=-run_id")
        assert [r["run_id"] for r in down["runs"]] == [third, second, first]

        found = await listed(f"q={third.upper()}")  # case-insensitive, in the run id
        assert [r["run_id"] for r in found["runs"]] == [third]
        assert (await listed("q=TEAM"))["total"] == 3  # in the tags ({"team": "ml"})
        assert (await listed("q=nothing-like-this"))["total"] == 0

        for bad in ("approval=maybe", "sort=doc", "sort=run_id;drop", "q="):
            status, _ = await http("GET", f"{s.lineage_url}/v1/runs?{bad}", keys.reviewer)
            assert status == 400, bad


async def test_the_access_log_is_the_admins_newest_first(kafka: KafkaSettings, unique: str) -> None:
    async with stack(kafka) as s:
        ws, other = f"ws-{unique}", f"ws-o{unique}"
        keys, theirs = await make_workspace(s.dsn, ws), await make_workspace(s.dsn, other)
        for _ in range(3):
            assert (await http("GET", f"{s.lineage_url}/v1/runs", keys.reviewer))[0] == 200
        url = f"{s.lineage_url}/v2/workspaces/{ws}/access-log"

        async def three() -> Any:
            status, body = await http("GET", f"{url}?limit=1000", keys.admin)
            assert status == 200, body
            reads = [e for e in body["entries"] if e["action"] == "runs.list"]
            return body if len(reads) == 3 else None

        await eventually(three, "the three reads in the access log")
        status, page = await http("GET", f"{url}?limit=2", keys.admin)
        assert status == 200 and page["total"] >= 3
        entries = page["entries"]
        assert len(entries) == 2 and page["limit"] == 2
        assert entries[0]["time"] >= entries[1]["time"]
        status, everything = await http("GET", f"{url}?limit=1000", keys.admin)
        assert status == 200
        times = [e["time"] for e in everything["entries"]]
        assert times == sorted(times, reverse=True)  # newest first
        reads = [e for e in everything["entries"] if e["action"] == "runs.list"]
        assert len(reads) == 3
        assert {(e["actor"], e["allowed"], e["address"]) for e in reads} == {
            (f"Dana Reyes (reviewer@{ws})", True, "127.0.0.1")
        }
        # and the admin's own reads of the log, as they are folded: nobody else's
        assert {e["actor"] for e in everything["entries"]} <= {
            f"Dana Reyes (reviewer@{ws})",
            f"Sam Okafor (admin@{ws})",
        }

        assert (await http("GET", url, keys.reviewer))[0] == 403
        assert (await http("GET", url, keys.writer))[0] == 403
        assert (await http("GET", url, theirs.admin))[0] == 404
        assert (await http("GET", url, None))[0] == 401
