"""The exporter audits itself: every seal, export and package read through its API, allowed
or refused, is published as an `access.recorded` event on the canonical topic and lands in
lineage's store, in the workspace's chain, reads of the seal key included; unkeyed calls
record nothing."""

from __future__ import annotations

import asyncpg
import cognify_events as ev
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, make_workspace

from .conftest import approve, cluster, trained


async def test_every_exporter_use_is_recorded_allowed_or_refused(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as c:
        a, ka = c.workspace, c.keys
        b = f"ws-b{unique}"
        kb = await make_workspace(c.s.dsn, b)
        run_id = f"run-{unique}"
        await trained(c, run_id)
        runs = f"{c.exporter_url}/v1/runs"
        pkg = f"{runs}/{run_id}/exports/default/json"
        run_obj, pkg_obj = f"run:{run_id}", f"run:{run_id}/package:default.json"

        # Not approved yet: the seal and an export that would seal are refused (409).
        status, body = await http("POST", f"{runs}/{run_id}/seal", ka.reviewer, {})
        assert status == 409 and body["reasons"], body
        status, body = await http("POST", f"{runs}/{run_id}/exports", ka.writer, {"format": "json"})
        assert status == 409, body
        await approve(c, run_id)

        async def refusals_folded() -> bool:
            n = await c.s.pool.fetchval(
                "SELECT count(*) FROM access_log WHERE workspace_id = $1 AND NOT allowed", a
            )
            return bool(n == 2)

        # The package's access log is fixed at the seal: what came before is in it.
        await eventually(refusals_folded, "the refused attempts in the access log")

        # Another workspace's run looks like a missing one (404), for every route.
        assert (await http("POST", f"{runs}/{run_id}/seal", kb.reviewer, {}))[0] == 404
        assert (await http("POST", f"{runs}/run-nobody/seal", ka.admin, {}))[0] == 404
        assert (await http("POST", f"{runs}/{run_id}/exports", kb.admin, {"format": "json"}))[
            0
        ] == 404

        status, body = await http("POST", f"{runs}/{run_id}/seal", ka.reviewer, {})
        assert status == 200 and body["status"] == "AUDIT_SEALED", body
        status, row = await http("POST", f"{runs}/{run_id}/exports", ka.writer, {"format": "json"})
        assert status == 201, row

        status, doc = await http("GET", pkg, ka.admin)
        assert status == 200 and doc["run_id"] == run_id
        assert (await http("GET", pkg, kb.reviewer))[0] == 404
        assert (await http("GET", f"{runs}/{run_id}/exports/hipaa/xlsx", ka.reviewer))[0] == 404
        status, envelope = await http("GET", f"{pkg}/envelope", ka.reviewer)
        assert status == 200 and envelope["payloadType"], envelope
        assert (await http("GET", f"{pkg}/envelope", kb.writer))[0] == 404

        # The seal key and its history, for a key of the workspace only; any other: 404, as
        # for a workspace that does not exist (the answer tells no one who exists).
        seal_key = f"{c.exporter_url}/v1/workspaces/{a}/seal-key"
        status, published = await http("GET", seal_key, ka.reviewer)
        assert status == 200 and published["key_id"].startswith("ed25519:"), published
        assert [k["key_id"] for k in published["keys"]] == [published["key_id"]]
        assert published["keys"][0]["status"] == "current"
        assert (await http("GET", seal_key, kb.reviewer))[0] == 404
        nobody = f"{c.exporter_url}/v1/workspaces/ws-nobody{unique}/seal-key"
        assert (await http("GET", nobody, ka.reviewer))[0] == 404

        # Nobody to record: calls without a valid key (401).
        assert (await http("GET", seal_key))[0] == 401
        assert (await http("GET", pkg, None))[0] == 401
        assert (await http("POST", f"{runs}/{run_id}/seal", "not-a-key", {}))[0] == 401

        mine = [
            ("seal", run_obj, f"Dana Reyes (reviewer@{a})", "reviewer", False),
            ("export", pkg_obj, f"writer@{a}", "writer", False),
            ("seal", "run:run-nobody", f"Sam Okafor (admin@{a})", "admin", False),
            ("seal", run_obj, f"Dana Reyes (reviewer@{a})", "reviewer", True),
            ("export", pkg_obj, f"writer@{a}", "writer", True),
            ("package.read", pkg_obj, f"Sam Okafor (admin@{a})", "admin", True),
            (
                "package.read",
                f"run:{run_id}/package:hipaa.xlsx",
                f"Dana Reyes (reviewer@{a})",
                "reviewer",
                False,
            ),
            ("envelope.read", pkg_obj, f"Dana Reyes (reviewer@{a})", "reviewer", True),
            ("seal-key.read", f"workspace:{a}", f"Dana Reyes (reviewer@{a})", "reviewer", True),
            (
                "seal-key.read",
                f"workspace:ws-nobody{unique}",
                f"Dana Reyes (reviewer@{a})",
                "reviewer",
                False,
            ),
        ]
        theirs = [
            ("seal", run_obj, f"Dana Reyes (reviewer@{b})", "reviewer", False),
            ("export", pkg_obj, f"Sam Okafor (admin@{b})", "admin", False),
            ("package.read", pkg_obj, f"Dana Reyes (reviewer@{b})", "reviewer", False),
            ("envelope.read", pkg_obj, f"writer@{b}", "writer", False),
            ("seal-key.read", f"workspace:{a}", f"Dana Reyes (reviewer@{b})", "reviewer", False),
        ]

        # On the canonical topic, published by the exporter, in order per workspace.
        published = [
            e
            for e in (ev.decode(v) for _, v in await c.s.read_topic(c.s.topics.events))
            if isinstance(e, ev.AccessRecorded) and e.producer.kind == ev.ProducerKind.EXPORTER
        ]

        def seen(ws: str) -> list[tuple[str, str, str, str, bool]]:
            return [
                (
                    r.payload.action,
                    r.payload.object_id,
                    r.payload.actor,
                    r.payload.role,
                    r.payload.allowed,
                )
                for r in published
                if r.workspace_id == ws
            ]

        assert seen(a) == mine
        assert seen(b) == theirs
        assert {r.payload.address for r in published} == {"127.0.0.1"}
        assert all(r.run_id is None and r.project == "workspace" for r in published)
        assert {ev.partition_key(r) for r in published} == {
            f"workspace:{a}".encode(),
            f"workspace:{b}".encode(),
        }

        # Folded by lineage into the access log, each in its workspace's own chain.
        ids = [str(r.event_id) for r in published]

        async def stored() -> list[asyncpg.Record] | None:
            rows = await c.s.pool.fetch(
                """SELECT l.*, e.chain_id FROM access_log l JOIN events e USING (event_id)
                   WHERE l.event_id = ANY($1::uuid[])""",
                ids,
            )
            return rows if len(rows) == len(ids) else None

        rows = await eventually(stored, "the exporter's access records in lineage's store")
        assert {(r["workspace_id"], r["chain_id"]) for r in rows} == {
            (a, f"workspace:{a}"),
            (b, f"workspace:{b}"),
        }
        assert {r["address"] for r in rows} == {"127.0.0.1"}
        assert sorted(
            (r["action"], r["object_id"], r["actor"], r["role"], r["allowed"]) for r in rows
        ) == sorted(mine + theirs)

        # The package's access log, fixed at the seal, holds the refused attempts before
        # it and not the seal's own record (which comes after the seal).
        log = [(x["action"], x["actor"], x["allowed"]) for x in doc["access_log"]]
        assert ("seal", f"Dana Reyes (reviewer@{a})", False) in log
        assert ("export", f"writer@{a}", False) in log
        assert ("seal", f"Dana Reyes (reviewer@{a})", True) not in log
        # (ingest's record of the key that started the run has no address: via Kafka)
        assert all(
            x["address"] == "127.0.0.1" for x in doc["access_log"] if x["action"] != "run.start"
        )
        assert [x["address"] for x in doc["access_log"] if x["action"] == "run.start"] == [None]
