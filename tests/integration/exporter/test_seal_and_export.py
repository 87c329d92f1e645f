"""A run through ingest and lineage, approved, sealed and exported to WORM storage for real;
the packages downloaded with the CLI and verified offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cognify_events as ev
import pytest
from cognify import cli
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, RetentionRefused

from tests.integration.lineage.harness import eventually, http, signed
from tests.unit.lineage.script import root

from .conftest import Cluster, approve, cluster, trained


async def test_an_approved_run_is_sealed_exported_verified_and_read_only(
    kafka: KafkaSettings,
    unique: str,
    store: ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        script = await trained(c, run_id)
        await approve(c, run_id)
        # The seal is requested through ingest's front door: the exporter acts on the event.
        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/seal",
            c.keys.reviewer,
            {"formats": ["json"], "template": "healthcare"},
        )
        assert status == 202, body
        await eventually(lambda: _sealed(c, run_id), "the run AUDIT_SEALED")

        for fmt in ("json", "xlsx"):
            status, row = await http(
                "POST",
                f"{c.exporter_url}/v1/runs/{run_id}/exports",
                c.keys.reviewer,
                {"format": fmt, "template": "healthcare"},
            )
            assert status == 201, row
            assert row["object_key"].endswith(f".healthcare.audit.{fmt}")
            assert store.retention(row["object_key"])[0] == "COMPLIANCE"  # type: ignore[index]

        # The CLI, as in the walkthrough, downloads, checks the hash and writes the file.
        monkeypatch.setenv("COGNIFY_EXPORTER_URL", c.exporter_url)
        monkeypatch.setenv("COGNIFY_API_KEY", c.keys.reviewer)
        out = tmp_path / "audit.json"
        argv = ["export", "--run-id", run_id, "--format", "json", "--template", "healthcare"]
        assert await _cli([*argv, "--output", str(out)]) == 0
        assert await _cli(["verify-package", str(out), "--key", f"{out}.pub.pem"]) == 0

        doc = json.loads(out.read_bytes())
        assert doc["status"] == "AUDIT_SEALED" and doc["template"] == "healthcare"
        assert "Intended use statement" in doc["sections"]
        assert doc["documentation"]["intended_use"] == "not supplied"
        assert len(doc["nodes"]) == 9 and len(doc["edges"]) == 9
        assert doc["hashes"]["model_final"] == root(6)
        assert doc["approvals"][0]["reviewer"] == {
            "name": "Dana Reyes",
            "role": "compliance-officer",
        }
        stored = await c.s.pool.fetchval(
            "SELECT head_hash FROM chain_heads WHERE chain_id = $1", run_id
        )
        assert doc["seal"]["chain_head"] != stored  # the seal (and more) came after the head
        assert doc["chain"]["length"] == 15 + 4 + 4 + 1 + 1  # sdk, jobs, hashes, approval, request

        # The healthcare PDF, as in the walkthrough; its pages rendered and not blank.
        pdf = tmp_path / "audit.pdf"
        pdf_argv = ["export", "--run-id", run_id, "--format", "pdf", "--template", "healthcare"]
        assert await _cli([*pdf_argv, "--output", str(pdf)]) == 0
        assert await _cli(["verify", "package", str(pdf), "--key", f"{pdf}.pub.pem"]) == 0
        pages = _png_pages(pdf, tmp_path)
        assert len(pages) >= 3
        for page in pages:
            assert _ink(page) > 0.01, f"{page.name} looks blank"

        # Exporting again finds the same package: byte-identical, never overwritten.
        again = tmp_path / "again.json"
        assert await _cli([*argv, "--output", str(again)]) == 0
        assert again.read_bytes() == out.read_bytes()

        # One flipped byte: the offline verifier says what fails.
        data = bytearray(out.read_bytes())
        data[100] ^= 1
        out.write_bytes(bytes(data))
        assert await _cli(["verify-package", str(out), "--key", f"{out}.pub.pem"]) == 1

        # Sealed means read-only: a late SDK event and an annotation are refused.
        late = script.metrics(300, 0.1)
        await c.s.send_raw([signed(late, c.keys.writer)])
        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/annotations",
            c.keys.reviewer,
            {"node_id": "ckpt_step_200", "text": "one more thing"},
        )
        assert status == 409 and "sealed" in body["error"]

        async def dead_lettered() -> bool:
            letters = [json.loads(v) for _, v in await c.s.read_topic(c.s.topics.dlq)]
            return any("sealed" in d["reason"] for d in letters)

        await eventually(dead_lettered, "the late event refused into the dead-letter topic")
        run = (await c.s.runs(run_id))[run_id]
        assert (300 not in {step for (_, step) in run.metrics}) and len(run.annotations) == 0

        # WORM: the store refuses to overwrite or delete the package.
        key = row["object_key"]
        with pytest.raises(RetentionRefused):
            store.put(key, b"forged", retain_until=datetime.now(UTC) + timedelta(days=1))
        versions = list(store._client.list_objects(store.bucket, prefix=key, include_version=True))
        version = next(v.version_id for v in versions if v.object_name == key)
        assert version is not None
        with pytest.raises(RetentionRefused):
            store.delete_version(key, version)
        assert store.exists(key)


async def test_seal_is_refused_with_the_precise_reason(kafka: KafkaSettings, unique: str) -> None:
    async with cluster(kafka, unique) as c:
        running = await trained(c, f"run-{unique}-a", ended=False)
        await approve(c, running.run_id)
        pending = await trained(c, f"run-{unique}-b", hashed=False)
        await approve(c, pending.run_id)
        unapproved = await trained(c, f"run-{unique}-c")
        changed = await trained(c, f"run-{unique}-d")
        await approve(c, changed.run_id)
        await c.s.send_events(
            [
                ev.DatasetChanged(
                    **changed.env(numbered=False),
                    payload=ev.DatasetChangedPayload(
                        dataset_id="ds_notes_v3",
                        name="notes",
                        previous_root=root(9),
                        new_root=root(1),
                    ),
                )
            ]
        )

        async def finding() -> bool:
            run = (await c.s.runs(changed.run_id)).get(changed.run_id)
            return run is not None and "dataset-changed:ds_notes_v3" in run.findings

        await eventually(finding, "the dataset-changed finding")
        expected = {
            running.run_id: ["run not ended: status is running (no run.ended event yet)"],
            pending.run_id: [
                "hash job pending: checkpoint ckpt_step_200 has no hash result and no recorded gap",
                "hash job pending: model model_final has no hash result and no recorded gap",
            ],
            unapproved.run_id: [
                "approval missing: the workspace policy requires 1 approval(s), the run has 0"
            ],
            changed.run_id: [
                f"undocumented dataset change: ds_notes_v3 changed from {root(9)} to {root(1)} "
                "without a documented diff",
                # the approval came before the change: it no longer counts (trust.md)
                "approval stale: Dana Reyes approved the run at chain length 23; 1 event(s) "
                "changed it since (first: dataset.changed at 24); a new decision is needed",
                "approval missing: the workspace policy requires 1 approval(s), the run has 0",
            ],
        }
        for run_id, reasons in expected.items():
            status, body = await http(
                "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {}
            )
            assert status == 409, body
            assert body["reasons"] == reasons
            assert await c.s.run_status(run_id) != "AUDIT_SEALED"


def _png_pages(pdf: Path, into: Path) -> list[Path]:
    import subprocess

    subprocess.run(["pdftoppm", "-r", "40", "-gray", pdf, into / "page"], check=True)
    return sorted(into.glob("page-*.pgm"))


def _ink(page: Path) -> float:
    """The share of pixels that are not white, from pdftoppm's binary PGM."""
    data = page.read_bytes()
    parts = data.split(maxsplit=4)  # P5, width, height, maxval, pixels
    pixels = parts[4]
    return sum(1 for b in pixels if b < 200) / len(pixels)


async def _sealed(c: Cluster, run_id: str) -> bool:
    return await c.s.run_status(run_id) == "AUDIT_SEALED"


async def _cli(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(cli.main, argv)
