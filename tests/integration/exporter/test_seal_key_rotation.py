"""A rotated seal key is retired, never deleted: the workspace publishes its history, and a
package signed before the rotation still verifies, against the retired key only."""

from __future__ import annotations

import asyncio
import urllib.request

from cognify import package_verify
from cognify_exporter import postgres
from cognify_exporter.settings import ExporterSettings
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import http

from .conftest import approve, cluster, trained


async def test_a_package_signed_before_a_rotation_verifies_against_the_history(
    kafka: KafkaSettings, unique: str
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await trained(c, run_id)
        await approve(c, run_id)
        runs = f"{c.exporter_url}/v1/runs/{run_id}"
        status, row = await http("POST", f"{runs}/exports", c.keys.reviewer, {"format": "json"})
        assert status == 201, row
        status, before = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/{c.workspace}/seal-key", c.keys.reviewer
        )
        assert status == 200
        old = before["key_id"]

        await postgres.rotate_seal_key(c.s.pool, c.workspace, ExporterSettings().master_key)
        status, after = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/{c.workspace}/seal-key", c.keys.reviewer
        )
        assert status == 200 and after["key_id"] != old
        assert [(k["key_id"], k["status"]) for k in after["keys"]] == [
            (old, "retired"),
            (after["key_id"], "current"),
        ]

        data = await asyncio.to_thread(_raw, f"{runs}/exports/default/json", c.keys.reviewer)
        status, envelope = await http(
            "GET", f"{runs}/exports/default/json/envelope", c.keys.reviewer
        )
        assert status == 200
        keys = {
            k["key_id"]: package_verify.load_public_key(k["public_key_pem"].encode())
            for k in after["keys"]
        }
        assert package_verify.verify(data, envelope, keys[old]).ok
        current = package_verify.verify(data, envelope, keys[after["key_id"]])
        assert not current.ok and current.failed[0].startswith("signature: keyid")


def _raw(url: str, key: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
    return body
