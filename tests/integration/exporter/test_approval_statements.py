"""Approvals as signed statements (issue 13), for real: a reviewer annotates and approves,
a late event makes that approval stale, she approves again, the run is sealed and
exported; every decision (and note) in the package is an in-toto statement signed by the
workspace key, naming the person, the key she acted with, the time, the meaning and the
chain she decided on, and `cognify verify-package --key` (with the key published by the
authenticated API) checks each one."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cognify import cli
from cognify_access.keys import key_id_of
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, signed

from .conftest import Cluster, cluster, trained


async def _decide(c: Cluster, run_id: str, count: int) -> None:
    status, body = await http(
        "POST", f"{c.s.ingest_url}/v1/runs/{run_id}/approve", c.keys.reviewer, {}
    )
    assert status == 201, body

    async def recorded() -> bool:
        run = (await c.s.runs(run_id)).get(run_id)
        return run is not None and len(run.approvals) == count

    await eventually(recorded, f"decision {count} folded")


async def test_each_decision_in_a_package_is_signed_and_checked_offline(
    kafka: KafkaSettings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        script = await trained(c, run_id)
        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/annotations",
            c.keys.reviewer,
            {"node_id": "ckpt_step_200", "text": "Checkpoint hashes match the manifest."},
        )
        assert status == 201, body

        async def noted() -> bool:
            run = (await c.s.runs(run_id)).get(run_id)
            return run is not None and len(run.annotations) == 1

        await eventually(noted, "the annotation folded")
        await _decide(c, run_id, 1)
        # A late metric changes the run: the first approval is about an earlier state.
        await c.s.send_raw([signed(script.metrics(160, 0.8), c.keys.writer)])

        async def late_folded() -> bool:
            run = (await c.s.runs(run_id)).get(run_id)
            return run is not None and any(step == 160 for (_, step) in run.metrics)

        await eventually(late_folded, "the late metric folded")
        # Lineage's read API shows the approval stale, with the reason, as the exporter judges.
        [first] = await _listed(c, run_id)
        assert first["stale"] is True and "metrics.logged" in first["stale_reason"]
        assert first["reviewer"]["key_id"] == key_id_of(c.keys.reviewer)
        await _decide(c, run_id, 2)
        listed = await _listed(c, run_id)
        assert [a["stale"] for a in listed] == [True, False]

        status, row = await http(
            "POST",
            f"{c.exporter_url}/v1/runs/{run_id}/exports",
            c.keys.reviewer,
            {"format": "json", "template": "default"},
        )
        assert status == 201, row

        # The auditor's key: from the authenticated API, not from beside the package.
        status, published = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/{c.workspace}/seal-key", c.keys.reviewer
        )
        assert status == 200, published
        key = tmp_path / "workspace.pub.pem"
        key.write_text(published["public_key_pem"])

        monkeypatch.setenv("COGNIFY_EXPORTER_URL", c.exporter_url)
        monkeypatch.setenv("COGNIFY_API_KEY", c.keys.reviewer)
        out = tmp_path / "audit.json"
        argv = ["export", "--run-id", run_id, "--format", "json", "--output", str(out)]
        assert await asyncio.to_thread(cli.main, argv) == 0
        capsys_out = tmp_path / "verify.txt"
        code = await asyncio.to_thread(_verify, out, key, capsys_out)
        text = capsys_out.read_text()
        assert code == 0, text
        assert "approvals: 2 decision(s), each a statement signed by" in text
        assert "(stale at the seal: not counted)" in text
        assert "annotations: 1 note(s), each a statement signed by" in text
        assert "Dana Reyes (compliance-officer, key " in text and "reviewed ckpt_step_200" in text

        doc = json.loads(out.read_bytes())
        [note] = doc["annotations"]
        assert note["author_key_id"] == key_id_of(c.keys.reviewer)
        review = json.loads(base64.b64decode(note["statement"]["payload"]))["predicate"]
        assert (review["meaning"], review["node_id"]) == ("reviewed", "ckpt_step_200")
        first, second = doc["approvals"]
        me = key_id_of(c.keys.reviewer)
        for a in (first, second):
            assert a["reviewer"] == {"name": "Dana Reyes", "role": "compliance-officer"}
            assert a["reviewer_key_id"] == me
        assert first["stale"] is True and "metrics.logged" in first["stale_reason"]
        assert second["stale"] is False and second["stale_reason"] is None
        assert first["reviewed_chain"]["length"] < second["reviewed_chain"]["length"]

        # The sealed run's approvals are judged against the sealed chain: the exports
        # appended after the seal change nothing.
        after = await _listed(c, run_id)
        assert [(a["stale"], a["stale_reason"]) for a in after] == [
            (True, first["stale_reason"]),
            (False, None),
        ]
        assert [a["reviewed_chain"] for a in after] == [
            first["reviewed_chain"],
            second["reviewed_chain"],
        ]

        statement = json.loads(base64.b64decode(second["statement"]["payload"]))
        assert statement["predicateType"] == "https://cognify.dev/approval/v1"
        p = statement["predicate"]
        assert p["signer"] == {"name": "Dana Reyes", "title": "compliance-officer", "key_id": me}
        assert (p["meaning"], p["time"], p["counted_at_seal"]) == ("approved", second["time"], True)
        assert p["reviewed_chain"] == second["reviewed_chain"]
        assert p["sealed_chain"] == {"head": doc["chain"]["head"], "length": doc["chain"]["length"]}
        assert p["signed_by"] == published["key_id"]
        assert second["statement"]["signatures"][0]["keyid"] == published["key_id"]

        # The package names someone else in an approval and keeps the old statements: the
        # package's own signature fails first; the statement check is what an extracted
        # approval record is held to (tests/unit/exporter/test_approval_statements.py).
        forged = out.read_bytes().replace(b'"name": "Dana Reyes"', b'"name": "Evil Reviewer"')
        out.write_bytes(forged)
        assert await asyncio.to_thread(_verify, out, key, capsys_out) == 1


async def _listed(c: Cluster, run_id: str) -> list[dict[str, Any]]:
    status, body = await http(
        "GET", f"{c.s.lineage_url}/v1/runs/{run_id}/approvals", c.keys.reviewer
    )
    assert status == 200, body
    approvals: list[dict[str, Any]] = body["approvals"]
    return approvals


def _verify(package: Path, key: Path, log: Path) -> int:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cli.main(["verify-package", str(package), "--key", str(key)])
    log.write_text(buffer.getvalue())
    return code
