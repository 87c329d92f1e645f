"""`--format cyclonedx`: a CycloneDX 1.6 ML-BOM that cyclonedx-python-lib's strict JSON
validator (a tool we did not write) accepts, carrying the sealed run's hashes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cognify.package_verify import verify
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import cyclonedx, package
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.unit.exporter.fixtures import sealed_report
from tests.unit.exporter.test_package import KEY

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def _bom(template: ExportTemplate = ExportTemplate.EU_AI_ACT) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(cyclonedx.render(sealed_report(), template))
    return doc


def _errors(doc: dict[str, Any]) -> str | None:
    found = VALIDATOR.validate_str(json.dumps(doc))
    return None if found is None else str(found.data.message)


@pytest.mark.parametrize("template", list(ExportTemplate))
def test_every_template_validates_against_the_strict_1_6_schema(template: ExportTemplate) -> None:
    doc = _bom(template)
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"
    assert _errors(doc) is None


def test_the_strict_validator_refuses_what_the_schema_does_not_allow() -> None:
    """The validator is not a yes-machine: an unknown field and a wrong hash are refused."""
    doc = _bom()
    extra = copy.deepcopy(doc)
    extra["metadata"]["component"]["weights"] = "x"
    assert _errors(extra) is not None
    bad = copy.deepcopy(doc)
    bad["components"][0]["hashes"] = [{"alg": "SHA-256", "content": "not-hex"}]
    assert _errors(bad) is not None


def test_model_datasets_and_run_carry_the_sealed_hashes() -> None:
    report = sealed_report()
    doc = _bom()
    model = doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert report.model is not None
    assert model["hashes"] == [{"alg": "SHA-256", "content": report.model["hash"][7:]}]
    card = model["modelCard"]
    assert card["considerations"]["useCases"] == [report.documentation["intended_use"]]
    assert {m["type"] for m in card["quantitativeAnalysis"]["performanceMetrics"]} >= {"eval_loss"}
    data = {c["bom-ref"]: c for c in doc["components"] if c["type"] == "data"}
    assert len(data) == len(report.datasets)
    for d in report.datasets:
        c = data[f"dataset:{d['id']}"]
        props = {p["name"]: p["value"] for p in c["properties"]}
        assert props["cognify:merkle_root"] == d["hash"]
        assert c["hashes"][0]["content"] == d["hash"][7:]
        assert {"ref": c["bom-ref"]} in card["modelParameters"]["datasets"]
    ckpts = [c for c in doc["components"] if c["bom-ref"].startswith("checkpoint:")]
    assert [c["name"] for c in ckpts] == [c["id"] for c in report.checkpoints]
    (workflow,) = doc["formulation"][0]["workflows"]
    assert workflow["uid"] == report.run["run_id"]
    assert {i["resource"]["ref"] for i in workflow["inputs"]} == set(data)
    assert {"resource": {"ref": model["bom-ref"]}} in workflow["outputs"]
    meta = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert meta["cognify:chain_head"] == report.seal.chain_head
    assert doc["metadata"]["timestamp"] == report.seal.sealed_at


def test_declarations_map_all_nine_annex_iv_points_to_evidence_hashes() -> None:
    report = sealed_report()
    doc = _bom()
    reqs = doc["definitions"]["standards"][0]["requirements"]
    assert [r["identifier"] for r in reqs] == [f"Annex IV({i})" for i in range(1, 10)]
    decl = doc["declarations"]
    (att,) = decl["attestations"]
    assert [m["requirement"] for m in att["map"]] == [r["bom-ref"] for r in reqs]
    claims = {c["bom-ref"]: c for c in decl["claims"]}
    evidence = {e["bom-ref"]: e for e in decl["evidence"]}

    def hashes(point: int) -> set[str]:
        claim = claims[f"claim:annex-iv-{point}"]
        return {
            evidence[ref]["data"][0]["contents"]["attachment"]["content"]
            for ref in claim.get("evidence", [])
        }

    # Point 2 (development process): every dataset root, evaluation and checkpoint hash.
    assert {d["hash"] for d in report.datasets} <= hashes(2)
    assert {e["hash"] for e in report.evaluations} <= hashes(2)
    assert {c["hash"] for c in report.checkpoints} <= hashes(2)
    assert report.seal.chain_head in hashes(6)
    # Point 1 includes the organisation's intended use, by its hash.
    import hashlib

    intended = "sha256:" + hashlib.sha256(report.documentation["intended_use"].encode()).hexdigest()
    assert intended in hashes(1)
    # Nothing supplied for point 8: no evidence, conformance 0, and where to supply it.
    eight = claims["claim:annex-iv-8"]
    assert "evidence" not in eight and "not supplied" in eight["reasoning"]
    assert att["map"][7]["conformance"]["score"] == 0


def test_supplied_documentation_becomes_evidence_of_its_point() -> None:
    import dataclasses
    import hashlib

    text = "EU declaration of conformity DoC-2026-001, signed by the provider."
    report = sealed_report()
    report = dataclasses.replace(
        report, documentation={**report.documentation, "declaration_of_conformity": text}
    )
    doc = json.loads(cyclonedx.render(report, ExportTemplate.EU_AI_ACT))
    (claim,) = [c for c in doc["declarations"]["claims"] if c["bom-ref"] == "claim:annex-iv-8"]
    evidence = {e["bom-ref"]: e for e in doc["declarations"]["evidence"]}
    (ref,) = claim["evidence"]
    content = evidence[ref]["data"][0]["contents"]["attachment"]["content"]
    assert content == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert doc["declarations"]["attestations"][0]["map"][7]["conformance"]["score"] == 1
    assert _errors(doc) is None


def test_stored_and_signed_like_the_other_formats() -> None:
    first = package.build(sealed_report(), ExportFormat.CYCLONEDX, ExportTemplate.DEFAULT, KEY)
    again = package.build(sealed_report(), ExportFormat.CYCLONEDX, ExportTemplate.DEFAULT, KEY)
    assert first.data == again.data  # deterministic, serial number included
    assert first.name == "run-1.default.audit.cdx.json"
    assert package.CONTENT_TYPES[ExportFormat.CYCLONEDX] == "application/vnd.cyclonedx+json"
    verdict = verify(first.data, first.envelope, KEY.public_key())
    assert verdict.ok, verdict.lines()
