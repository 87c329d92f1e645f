"""A real run, sealed with every format through ingest's front door, whose packages tools we
did not write accept: the CycloneDX BOM by cyclonedx-python-lib's strict validator, the PDF
by veraPDF as PDF/A-3b, with the JSON package inside it byte for byte (issue 15)."""

from __future__ import annotations

import asyncio
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pikepdf
import pytest
from cognify import cli
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.integration.lineage.harness import eventually, http

from .conftest import Cluster, approve, cluster, trained
from .test_pdfa_verapdf import verapdf, verapdf_libs


async def _cli(argv: list[str]) -> int:
    return await asyncio.to_thread(cli.main, argv)


async def _sealed(c: Cluster, run_id: str) -> bool:
    return await c.s.run_status(run_id) == "AUDIT_SEALED"


async def test_cyclonedx_and_pdfa_packages_pass_outside_verifiers(
    kafka: KafkaSettings,
    unique: str,
    store: ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libs = verapdf_libs()
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await trained(c, run_id)
        await approve(c, run_id)
        formats = ["cyclonedx", "pdf", "json", "xlsx"]  # all four in one request
        status, body = await http(
            "POST",
            f"{c.s.ingest_url}/v1/runs/{run_id}/seal",
            c.keys.reviewer,
            {"formats": formats, "template": "eu_ai_act"},
        )
        assert status == 202, body
        await eventually(lambda: _sealed(c, run_id), "the run AUDIT_SEALED")

        status, row = await http(
            "POST",
            f"{c.exporter_url}/v1/runs/{run_id}/exports",
            c.keys.reviewer,
            {"format": "cyclonedx", "template": "eu_ai_act"},
        )
        assert status == 201, row
        assert row["object_key"].endswith(".eu_ai_act.audit.cdx.json")
        assert store.retention(row["object_key"])[0] == "COMPLIANCE"  # type: ignore[index]

        monkeypatch.setenv("COGNIFY_EXPORTER_URL", c.exporter_url)
        monkeypatch.setenv("COGNIFY_API_KEY", c.keys.reviewer)
        files = {}
        for fmt in ("cyclonedx", "pdf", "json"):
            out = files[fmt] = tmp_path / f"audit.{fmt}"
            argv = ["export", "--run-id", run_id, "--format", fmt, "--template", "eu_ai_act"]
            assert await _cli([*argv, "--output", str(out)]) == 0
            assert await _cli(["verify-package", str(out), "--key", f"{out}.pub.pem"]) == 0

        bom = files["cyclonedx"].read_text()
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom) is None
        assert '"machine-learning-model"' in bom and "Annex IV(9)" in bom

        done = verapdf(libs, files["pdf"])
        report = ET.fromstring(done.stdout).find(".//validationReport")
        assert report is not None and report.get("isCompliant") == "true", done.stdout[-3000:]
        with pikepdf.open(io.BytesIO(files["pdf"].read_bytes())) as doc:
            (spec,) = list(doc.Root.AF)
            assert spec.EF.F.read_bytes() == files["json"].read_bytes()
