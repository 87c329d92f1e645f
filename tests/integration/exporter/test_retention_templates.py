"""Retention settings acting on packages, against the real stack and MinIO: auto-export on
seal with its own template, the template's retention floor in the Object Lock period and
in ingest's rule, and the archive lifecycle rule: stored by the export as the workspace
asks, and moving Object-Locked package objects to the remote tier COGNIFY_ARCHIVE (the
second MinIO `deploy/stack up minio` starts), still locked (docs/spec/retention.md)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cognify_exporter import archive
from cognify_exporter.objectstore import PackageStore
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, StoreSettings
from minio import Minio
from minio.error import S3Error

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
        # the export set the workspace's archive rule, and MinIO (its remote tier
        # configured) stored it; archive_after_days back to 0 removes it
        rule = archive.rule_id(c.workspace)
        prefix = archive.prefix(c.workspace)
        assert store.transitions()[rule] == (prefix, 30, archive.STORAGE_CLASS)
        assert await archive.apply(store, c.workspace, 0) is None
        assert rule not in store.transitions()


ARCHIVE = f"127.0.0.1:{os.environ.get('COGNIFY_MINIO_ARCHIVE_PORT', '9002')}"  # deploy/stack


def _tier_objects() -> int:
    """Objects in the remote tier's bucket (the second MinIO): where transitioned data goes."""
    s = StoreSettings()
    tier = Minio(ARCHIVE, access_key=s.access_key, secret_key=s.secret_key, secure=False)
    return sum(1 for _ in tier.list_objects("cognify-archive", prefix="tier/", recursive=True))


async def test_the_archive_rule_moves_locked_packages_to_the_tier(store: ObjectStore) -> None:
    """The workspace's rule as the exporter sets it is accepted; the same rule due at once
    (Days 0: MinIO evaluates an object against the bucket's rules as it is written; a rule
    of N days waits N days for its scanner) moves a package written and locked as the
    exporter writes it to the tier: its data leaves for the second MinIO, it still reads
    back byte for byte, keeps its COMPLIANCE retention, and its version cannot be deleted."""
    ws = f"ws-archive-{uuid.uuid4().hex[:10]}"
    rule, prefix = archive.rule_id(ws), archive.prefix(ws)
    try:
        assert await archive.apply(store, ws, 0) is None  # 0: nothing asked for
        assert rule not in store.transitions()
        assert await archive.apply(store, ws, 90) is None
        assert store.transitions()[rule] == (prefix, 90, archive.STORAGE_CLASS)
        assert await archive.apply(store, ws, 90) is None  # in place: unchanged

        store.set_transition(rule, prefix, 0, archive.STORAGE_CLASS)
        before = _tier_objects()
        key = f"{prefix}run-a/run-a.default.audit.json"
        data = json.dumps({"run_id": "run-a", "pad": "x" * 4096}).encode()
        until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        await PackageStore(store).put(key, data, "application/json", until)

        async def transitioned() -> bool:
            stat = store._client.stat_object(store.bucket, key)
            return (stat.metadata or {}).get("x-amz-storage-class") == archive.STORAGE_CLASS

        await eventually(transitioned, f"{key} in storage class {archive.STORAGE_CLASS}")
        assert _tier_objects() == before + 1  # its data is in the second MinIO now
        assert store.get(key) == data  # read through the tier, byte for byte
        assert store.retention(key) == ("COMPLIANCE", until)
        version = store._client.stat_object(store.bucket, key).version_id
        with pytest.raises(S3Error) as refused:
            store._client.remove_object(store.bucket, key, version_id=version)
        assert "WORM protected" in str(refused.value.message), refused.value
        assert store.get(key) == data
    finally:
        assert await archive.apply(store, ws, 0) is None  # the rule goes, the objects stay
        assert rule not in store.transitions()


async def test_a_store_without_the_tier_refuses_the_rule_and_it_is_reported() -> None:
    """A MinIO without a remote tier of that name (an AWS-style class here) refuses the rule
    (InvalidStorageClass): the refusal is returned with its code, nothing is stored in
    silence."""
    store = ObjectStore(StoreSettings())
    ws = f"ws-archive-{uuid.uuid4().hex[:10]}"
    why = await archive.apply(store, ws, 90, "NO_SUCH_TIER")
    assert why is not None and "InvalidStorageClass" in why, why
    assert archive.rule_id(ws) not in store.transitions()
