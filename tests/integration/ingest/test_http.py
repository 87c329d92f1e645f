"""The HTTP front door for real: every write endpoint refuses the wrong role and the wrong
workspace, commands become events, and every call is recorded as an access event."""

from __future__ import annotations

import json

import cognify_events as ev
from cognify_access.keys import key_id_of
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import Stack, eventually, http, make_workspace, signed, stack
from tests.unit.lineage.script import Script, root


async def _finding(s: Stack, run_id: str, resolved: bool) -> bool:
    row = await s.pool.fetchrow(
        "SELECT resolved_at FROM findings WHERE run_id = $1 AND kind = 'dataset-changed'", run_id
    )
    return row is not None and (row["resolved_at"] is not None) == resolved


async def test_write_endpoints_check_role_workspace_and_record_every_call(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        a, b = f"ws-a{unique}", f"ws-b{unique}"
        ka, kb = await make_workspace(s.dsn, a), await make_workspace(s.dsn, b, tier="healthcare")
        script = Script(a, f"run-{unique}")
        run = script.run_id
        await s.send_raw(
            [
                signed(e, ka.writer)
                for e in [
                    script.started(),
                    script.dataset("ds_notes_v3", merkle_root=root(1)),
                    script.checkpoint(100),
                    script.dataset("ds_notes_v4", merkle_root=root(2)),  # same name, new root
                ]
            ]
        )
        await eventually(lambda: _finding(s, run, resolved=False), "the dataset-changed finding")
        url = f"{s.ingest_url}/v1/runs/{run}"

        async def expect(
            status: int, method: str, path: str, token: str | None, body: object = None
        ) -> object:
            got, answer = await http(method, path, token, body)
            assert got == status, (method, path, got, answer)
            return answer

        # Events over HTTP: writers only, own workspace only, signature still checked.
        hb = script.heartbeat(5)
        await expect(
            202,
            "POST",
            f"{s.ingest_url}/v1/events",
            ka.writer,
            json.loads(signed(hb, ka.writer)[1]),
        )
        other = json.loads(signed(script.heartbeat(6), ka.writer)[1])
        await expect(403, "POST", f"{s.ingest_url}/v1/events", ka.reviewer, other)
        await expect(422, "POST", f"{s.ingest_url}/v1/events", kb.writer, other)
        await expect(401, "POST", f"{s.ingest_url}/v1/events", None, other)
        forged = {**other, "signature": "hmac-sha256:" + "0" * 64}
        answer = await expect(422, "POST", f"{s.ingest_url}/v1/events", ka.writer, forged)
        assert "signature" in str(answer)

        note = {"node_id": "ds_notes_v3", "text": "de-identified per policy"}
        await expect(201, "POST", f"{url}/annotations", ka.reviewer, note)
        await expect(201, "POST", f"{url}/annotations", ka.admin, note)
        await expect(403, "POST", f"{url}/annotations", ka.writer, note)
        await expect(404, "POST", f"{url}/annotations", kb.reviewer, note)
        await expect(404, "POST", f"{url}/annotations", ka.reviewer, {**note, "node_id": "nope"})
        await expect(401, "POST", f"{url}/annotations", "cgk_000000000000_" + "x" * 43, note)
        await expect(
            404, "POST", f"{s.ingest_url}/v1/runs/no-such-run/annotations", ka.reviewer, note
        )

        # Who acts comes from the key (Dana Reyes holds ka.reviewer): a body naming anyone
        # else is refused, one naming the holder is accepted, none is the usual case.
        spoofed = {"reviewer": {"name": "Dr. Ana Ortiz", "role": "compliance officer"}}
        for verb in ("approve", "reject"):
            answer = await expect(422, "POST", f"{url}/{verb}", ka.reviewer, spoofed)
            assert "never from the request" in str(answer)
        admin_as_reviewer = {"reviewer": {"name": "Dana Reyes", "role": "compliance-officer"}}
        await expect(422, "POST", f"{url}/approve", ka.admin, admin_as_reviewer)
        await expect(
            422, "POST", f"{url}/annotations", ka.reviewer, {**note, "author": spoofed["reviewer"]}
        )
        decision = {"comment": "ok"}
        await expect(201, "POST", f"{url}/approve", ka.reviewer, admin_as_reviewer)
        for verb in ("approve", "reject"):
            if verb == "reject":
                await expect(201, "POST", f"{url}/{verb}", ka.reviewer, decision)
            await expect(403, "POST", f"{url}/{verb}", ka.writer, decision)
            await expect(404, "POST", f"{url}/{verb}", kb.reviewer, decision)
            await expect(404, "POST", f"{url}/{verb}", kb.admin, decision)

        seal = {"formats": ["pdf", "json"], "template": "hipaa"}
        refused = await expect(409, "POST", f"{url}/seal", ka.reviewer, seal)
        assert "ds_notes_v4" in str(refused)  # a changed dataset needs a documented diff first
        await expect(403, "POST", f"{url}/seal", ka.writer, seal)
        await expect(404, "POST", f"{url}/seal", kb.reviewer, seal)

        diff = {"description": "v4 drops 120 duplicate notes"}
        await expect(403, "POST", f"{url}/datasets/ds_notes_v4/diff", ka.writer, diff)
        await expect(404, "POST", f"{url}/datasets/ds_notes_v4/diff", kb.reviewer, diff)
        await expect(404, "POST", f"{url}/datasets/ds_notes_v3/diff", ka.reviewer, diff)
        await expect(201, "POST", f"{url}/datasets/ds_notes_v4/diff", ka.reviewer, diff)
        await eventually(lambda: _finding(s, run, resolved=True), "the documented diff")
        await expect(202, "POST", f"{url}/seal", ka.reviewer, seal)

        retention = f"{s.ingest_url}/v2/workspaces/{a}/retention"
        current = await expect(200, "GET", retention, ka.writer)
        assert current == {**current, "retention_years": 1, "floor_years": 1}  # type: ignore[dict-item]
        await expect(404, "GET", retention, kb.admin)
        patch = {
            "retention_years": 7,
            "archive_after_days": 90,
            "auto_export_on_seal": True,
            "auto_export_format": "json",
        }
        await expect(403, "PATCH", retention, ka.reviewer, patch)
        await expect(404, "PATCH", retention, kb.admin, patch)
        updated = await expect(200, "PATCH", retention, ka.admin, patch)
        assert updated == {
            **patch,
            "floor_years": 1,
            "auto_export_template": "default",
            "template_floor_years": 1,
        }
        shorter = await expect(409, "PATCH", retention, ka.admin, {"retention_years": 3})
        assert "shortened" in str(shorter)
        await expect(422, "PATCH", retention, ka.admin, {"retention_years": 9, "delete_all": True})
        floor = await expect(
            409,
            "PATCH",
            f"{s.ingest_url}/v2/workspaces/{b}/retention",
            kb.admin,
            {"retention_years": 2},
        )
        assert "floor" in str(floor)  # healthcare: six years at least

        # Everything above reached the lineage store as facts, the refusals included.
        async def recorded() -> list[dict[str, object]] | None:
            rows = await s.pool.fetch(
                "SELECT * FROM access_log WHERE workspace_id = ANY($1)", [a, b]
            )
            return [dict(r) for r in rows] if len(rows) >= 33 else None

        access = await eventually(recorded, "the access records")
        # who started the run, as ingest saw it: the key, and no address (through Kafka)
        (start,) = [r for r in access if r["action"] == "run.start"]
        assert (start["actor"], start["address"]) == (f"key:{key_id_of(ka.writer)}", None)
        assert {r["address"] for r in access if r["action"] != "run.start"} == {"127.0.0.1"}
        denied = {(r["workspace_id"], r["action"], r["role"]) for r in access if not r["allowed"]}
        assert (b, "approve", "reviewer") in denied and (a, "seal", "reviewer") in denied
        assert (a, "retention.update", "admin") in {
            (r["workspace_id"], r["action"], r["role"]) for r in access if r["allowed"]
        }
        approvals = await s.pool.fetch(
            "SELECT * FROM approvals WHERE run_id = $1 ORDER BY decided_at", run
        )
        assert [(r["decision"], r["reviewer_name"], r["reviewer_role"]) for r in approvals] == [
            ("approved", "Dana Reyes", "compliance-officer"),
            ("rejected", "Dana Reyes", "compliance-officer"),
        ]
        assert (a, "approve", "admin") in denied  # the admin key approving as Dana Reyes

        async def sealed_request() -> bool:
            run_row = (await s.runs(run, full=False)).get(run)
            return run_row is not None and "seal_requested" in run_row.info

        await eventually(sealed_request, "the seal request in the projection")
        kinds = await s.pool.fetch(
            "SELECT type FROM events WHERE chain_id = $1 ORDER BY chain_index", f"workspace:{a}"
        )
        assert "retention.updated" in {r["type"] for r in kinds}
        stored = await s.pool.fetch("SELECT type FROM events WHERE run_id = $1", run)
        assert {
            "annotation.added",
            "run.approved",
            "run.rejected",
            "dataset.diff_documented",
            "run.seal_requested",
        } <= {r["type"] for r in stored}
        # The exporter (issue 6) seals; the door only records the request.
        assert ev.RunSealed is not None
