"""Retention settings acting on packages, against the real stack and MinIO: auto-export on
seal with its own template, the template's retention floor in the Object Lock period and
in ingest's rule, and the archive lifecycle rule (what MinIO here allows: see
docs/spec/retention.md)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from cognify_exporter import archive
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, StoreSettings

from tests.integration.lineage.harness import eventually, http

from .conftest import approve, cluster, trained


async def test_auto_export_takes_its_template_and_keeps_its_floor(
    kafka: KafkaSettings, unique: str, store: ObjectStore
) -> None:
    async with cluster(kafka, unique) as c:
        url = f"{c.s.ingest_url}/v2/workspaces/{c.workspace}/retention"
        below = {"auto_export_on_seal": True, "auto_export_template": "eu_ai_act"}
        status, body = await http("PATCH", url, c.keys.admin, below)
        assert status == 409 and "10 years a eu_ai_act package" in str(body), body
        settings = {
            **below,
            "retention_years": 10,
            "auto_export_format": "json",
            "archive_after_days": 30,
        }
        status, body = await http("PATCH", url, c.keys.admin, settings)
        assert status == 200 and body["template_floor_years"] == 10, body
        status, body = await http("PATCH", url, c.keys.admin, {"retention_years": 9})
        assert status == 409, body

        run_id = f"run-{unique}"
        await trained(c, run_id)
        await approve(c, run_id)
        status, body = await http(
            "POST", f"{c.s.ingest_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {}
        )
        assert status == 202, body

        async def auto_exported() -> bool:
            n = await c.s.pool.fetchval(
                "SELECT count(*) FROM exports WHERE run_id = $1 AND template = 'eu_ai_act'",
                run_id,
            )
            return int(n) == 1

        await eventually(auto_exported, "the eu_ai_act auto-export")
        key = await c.s.pool.fetchval("SELECT object_key FROM exports WHERE run_id = $1", run_id)
        assert key.endswith(".eu_ai_act.audit.json")
        mode, until = store.retention(key)  # type: ignore[misc]
        assert mode == "COMPLIANCE"
        assert until > datetime.now(UTC) + timedelta(days=365 * 10 - 2)


async def test_the_archive_rule_is_asked_for_and_a_refusal_is_reported(store: ObjectStore) -> None:
    """MinIO here has no remote tier, so it refuses any transition (InvalidStorageClass):
    the refusal is returned with its code, nothing is stored in silence, and nothing is
    asked for when archive_after_days is 0. With a tier named COGNIFY_ARCHIVE configured
    (mc admin tier add), the same call stores the rule; that is not proven here."""
    bucket = f"scratch-archive-{uuid.uuid4().hex[:10]}"
    scratch = ObjectStore(dataclasses.replace(StoreSettings(), bucket=bucket))
    scratch.ensure_bucket()
    try:
        assert await archive.apply(scratch, "ws-a", 0) is None
        why = await archive.apply(scratch, "ws-a", 90)
        assert why is not None and "InvalidStorageClass" in why, why
        assert scratch.transitions() == {}
    finally:
        scratch._client.remove_bucket(bucket)  # empty: nothing was written to it
