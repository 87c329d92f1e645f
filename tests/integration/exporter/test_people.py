"""Keys are people, for real (issue 13): an approval policy counts distinct people, a
person's latest decision is the one that counts, one person's rejection is not undone by
another's approval, and a rotated or revoked key keeps who made its approvals."""

from __future__ import annotations

import asyncpg
from cognify_exporter import postgres
from cognify_ingest import workspaces
from cognify_ingest.credentials import Role
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, signed

from .conftest import Cluster, cluster, trained


async def _decide(c: Cluster, run_id: str, key: str, verb: str, count: int) -> None:
    status, body = await http("POST", f"{c.s.ingest_url}/v1/runs/{run_id}/{verb}", key, {})
    assert status == 201, body

    async def folded() -> bool:
        run = (await c.s.runs(run_id)).get(run_id)
        return run is not None and len(run.approvals) == count

    await eventually(folded, f"{count} decisions folded")


async def _approval_reasons(c: Cluster, run_id: str) -> list[str]:
    status, body = await http("POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.admin, {})
    assert status == 409, body
    return [r for r in body["reasons"] if r.startswith(("approval", "rejected"))]


async def test_a_two_approval_policy_needs_two_people(kafka: KafkaSettings, unique: str) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await trained(c, run_id)
        await postgres.set_documentation(c.s.pool, c.workspace, required_approvals=2)
        conn = await asyncpg.connect(c.s.dsn)
        try:  # Dana Reyes's second key: the same person
            dana = await workspaces.person(conn, c.workspace, "Dana Reyes", "compliance-officer")
            second = (await workspaces.issue_key(conn, c.workspace, Role.REVIEWER, "", dana)).key
        finally:
            await conn.close()

        await _decide(c, run_id, c.keys.reviewer, "approve", 1)
        await _decide(c, run_id, second, "approve", 2)
        assert await _approval_reasons(c, run_id) == [
            "approval missing: the workspace policy requires 2 approval(s), the run has 1"
        ]
        # A second person rejects: the two approvals by one person do not outweigh it.
        await _decide(c, run_id, c.keys.admin, "reject", 3)
        assert await _approval_reasons(c, run_id) == [
            "rejected: Sam Okafor (admin) rejected the run",
            "approval missing: the workspace policy requires 2 approval(s), the run has 1",
        ]
        # Dana approving again changes nothing; Sam's own later approval replaces his rejection.
        await _decide(c, run_id, second, "approve", 4)
        assert "rejected: Sam Okafor (admin) rejected the run" in await _approval_reasons(c, run_id)
        await _decide(c, run_id, c.keys.admin, "approve", 5)
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.admin, {}
        )
        assert status == 200 and body["status"] == "AUDIT_SEALED", body
        assert body["seal"]["sealed_by"] == "Sam Okafor"  # the key's holder seals


async def test_a_rotated_key_keeps_who_approved(kafka: KafkaSettings, unique: str) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await trained(c, run_id)
        await _decide(c, run_id, c.keys.reviewer, "approve", 1)
        old_id = c.keys.reviewer.split("_")[1]
        conn = await asyncpg.connect(c.s.dsn)
        try:
            async with conn.transaction():
                rotated = await workspaces.rotate_key(conn, old_id)
            assert rotated is not None
            holders = await workspaces.key_holders(conn, c.workspace)
        finally:
            await conn.close()
        url = f"{c.s.ingest_url}/v1/runs/{run_id}/approve"
        assert (await http("POST", url, c.keys.reviewer, {}))[0] == 401  # revoked
        await _decide(c, run_id, rotated.key, "approve", 2)
        run = (await c.s.runs(run_id))[run_id]
        assert [(a.reviewer_name, a.reviewer_role) for a in run.approvals] == [
            ("Dana Reyes", "compliance-officer"),
            ("Dana Reyes", "compliance-officer"),
        ]
        dana = [h for h in holders if h["name"] == "Dana Reyes"]
        assert [(h["key_id"], h["revoked_at"] is not None) for h in dana] == [
            (old_id, True),
            (rotated.key_id, False),
        ]
        assert len({h["person_id"] for h in dana}) == 1


async def test_an_approval_made_before_a_late_event_is_stale(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        script = await trained(c, run_id)
        await _decide(c, run_id, c.keys.reviewer, "approve", 1)
        reviewed = await c.s.pool.fetchval(
            "SELECT length FROM chain_heads WHERE chain_id = $1", run_id
        )
        late = script.metrics(300, 0.1)  # the run changes after the approval
        await c.s.send_raw([signed(late, c.keys.writer)])

        async def stored() -> bool:
            found = await c.s.pool.fetchval(
                "SELECT 1 FROM events WHERE event_id = $1", late.event_id
            )
            return found is not None

        await eventually(stored, "the late event stored")
        assert await _approval_reasons(c, run_id) == [
            f"approval stale: Dana Reyes approved the run at chain length {reviewed - 1}; "
            f"1 event(s) changed it since (first: metrics.logged at {reviewed}); "
            "a new decision is needed",
            "approval missing: the workspace policy requires 1 approval(s), the run has 0",
        ]
        await _decide(c, run_id, c.keys.reviewer, "approve", 2)
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.admin, {}
        )
        assert status == 200 and body["status"] == "AUDIT_SEALED", body
