"""The compliance templates filled from evidence: each field from lineage or the
organisation documentation (with its version and who set it), or "not supplied" with the
command that supplies it; read back from the PDF with pdftotext, as a reviewer reads it."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import cognify_events as ev
import pytest
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import compliance, orgdocs, report, seal, templates
from cognify_exporter.package import build
from cognify_lineage import dag
from cognify_lineage_model.model import iso
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.lineage.script import Script, hash_results, training

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
API = ev.Producer(kind=ev.ProducerKind.API, id="ingest-1:1", version="0.1.0")


def doc_change(s: Script, by: str, set_: dict[str, str], cleared: tuple[str, ...] = ()) -> ev.Event:
    return ev.DocumentationUpdated(
        **{**s.env(API, numbered=False), "run_id": None, "project": "workspace"},
        payload=ev.DocumentationUpdatedPayload(
            set={ev.DocField(k): v for k, v in set_.items()},
            cleared=[ev.DocField(c) for c in cleared],
            updated_by=by,
            key_id="0123456789ab",
        ),
    )


def with_payload(e: ev.Event, **changes: object) -> ev.Event:
    return e.model_copy(update={"payload": e.payload.model_copy(update=changes)})


def the_report() -> report.Report:
    s = Script("ws-1", "run-1")
    evs = training(s)
    evs[0] = with_payload(evs[0], started_by="Priya Raman (key 0a1b2c3d4e5f)", host="gpu-node-7")
    for i, e in enumerate(evs):
        if isinstance(e, ev.DatasetRegistered) and e.payload.role == "train":
            evs[i] = with_payload(
                e, provenance={"deidentification_method": "safe_harbor", "authorized_use": "QI"}
            )
    evs += hash_results(s)
    changes = [
        doc_change(s, "Dr. Ana Ortiz", {"intended_use": "Drafting discharge summaries."}),
        doc_change(
            s,
            "Dr. Ana Ortiz",
            {
                "incident_policy_url": "https://example.org/security/incidents",
                "human_oversight": "A clinician signs every summary.",
            },
        ),
    ]
    access = [
        {  # ingest's record of the key that wrote run.started (routing.run_start)
            "actor": "key:0a1b2c3d4e5f",
            "role": "writer",
            "action": "run.start",
            "address": "10.0.4.17",
            "allowed": True,
            "time": iso(s.t0),
        },
        {  # a later write by another key: not who started the run
            "actor": "key:99aa88bb77cc",
            "role": "writer",
            "action": "events.write",
            "address": "10.9.9.9",
            "allowed": True,
            "time": iso(s.t0 + timedelta(minutes=5)),
        },
    ]
    run = dag.fold_all(evs).runs["run-1"]
    chain = seal.Chain("sha256:" + "ab" * 32, len(evs))
    when = s.t0 + timedelta(hours=2)
    sealed = seal.seal_event(run, chain, "exporter", when, API)
    run = dag.fold_all([*evs, sealed]).runs["run-1"]
    the_seal = report.Seal(
        str(sealed.event_id), iso(when), "exporter", chain.head, chain.length, "ed25519:00"
    )
    legacy = {"encryption_at_rest": "SSE-S3 (AES-256) on the checkpoint bucket"}
    docs = orgdocs.fold(changes, legacy)
    return report.build(run, evs, the_seal, legacy, access, docs)


def pdf_text(tmp_path: Path, template: ExportTemplate) -> str:
    pdf = tmp_path / f"{template.value}.pdf"
    pdf.write_bytes(build(the_report(), ExportFormat.PDF, template, KEY).data)
    out = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return " ".join(out.split())  # cells wrap over lines: compare words, not layout


def test_the_templates_sections_are_the_ones_compliance_fills() -> None:
    r = the_report()
    for template, titles in [
        (ExportTemplate.EU_AI_ACT, templates.EU_AI_ACT),
        (ExportTemplate.HIPAA, templates.HIPAA),
        (ExportTemplate.HEALTHCARE, templates.HEALTHCARE),
    ]:
        assert [p.title for p in compliance.points(r, template)] == titles


def test_the_documentation_version_names_each_change_and_its_author() -> None:
    docs = the_report().orgdocs
    assert docs.version == 2 and docs.updated_by == "Dr. Ana Ortiz"
    assert docs.fields["intended_use"].version == 1
    assert docs.fields["human_oversight"].version == 2
    assert docs.fields["encryption_at_rest"].set_by == orgdocs.LEGACY


def test_a_cleared_field_is_not_supplied_again() -> None:
    s = Script("ws-1", "run-1")
    docs = orgdocs.fold(
        [
            doc_change(s, "a", {"intended_use": "x", "risk_management": "RMS-7"}),
            doc_change(s, "b", {}, ("intended_use",)),
        ]
    )
    assert set(docs.fields) == {"risk_management"} and docs.version == 2


def test_the_eu_ai_act_package_covers_annex_iv_with_sources(tmp_path: Path) -> None:
    text = pdf_text(tmp_path, ExportTemplate.EU_AI_ACT)
    for title in templates.EU_AI_ACT:
        assert title in text, title
    assert "Drafting discharge summaries." in text
    assert "organisation documentation v1, set by Dr. Ana Ortiz" in text
    assert "A clinician signs every summary." in text
    assert "organisation documentation v2" in text
    # nothing invented: what was not supplied says where to supply it
    assert "not supplied — set it with `cognify-admin docs set risk_management" in text
    assert "not supplied — set it with `cognify-admin docs set post_market_monitoring" in text
    # lineage facts, cited: evaluations as dated test reports on their checkpoints
    assert "test report eval_step_200" in text and "ckpt_step_200" in text
    assert "lineage: eval node, evaluation.recorded" in text
    # (the key id wraps inside its cell: pdftotext puts a space where it breaks)
    assert re.search(r"signed by seal key ed25519:[0-9a-f ]+ at 2025-09-12T16:30:22Z \(seal ", text)


def test_the_hipaa_package_attests_phi_handling_and_who_started_the_run(tmp_path: Path) -> None:
    text = pdf_text(tmp_path, ExportTemplate.HIPAA)
    for title in templates.HIPAA:
        assert title in text, title
    assert "de-identified: safe_harbor" in text
    assert "lineage: dataset.registered provenance" in text
    assert "Priya Raman (key 0a1b2c3d4e5f)" in text
    assert "gpu-node-7" in text and "10.0.4.17" in text
    assert "Run started by Priya Raman (key 0a1b2c3d4e5f) on host gpu-node-7." in text
    # the run summary names the same host (run.started's; this run has no system info)
    summary = pdf_text(tmp_path, ExportTemplate.DEFAULT)
    assert "SDK version 0.1.0 host gpu-node-7 GPU" in summary
    started = {f.label: f for f in compliance.starter(the_report())}
    assert started["with key"].value == "key:0a1b2c3d4e5f (writer)"
    assert started["from address"].value == "10.0.4.17"  # run.started's writer, no other
    assert started["from address"].source.startswith("lineage: access.recorded run.start")
    assert "https://example.org/security/incidents" in text
    assert "SSE-S3 (AES-256) on the checkpoint bucket" in text
    assert "organisation documentation (workspace_documentation table)" in text


def test_the_healthcare_package_fills_intended_use_and_provenance(tmp_path: Path) -> None:
    text = pdf_text(tmp_path, ExportTemplate.HEALTHCARE)
    for title in templates.HEALTHCARE:
        assert title in text, title
    assert "Drafting discharge summaries." in text and "de-identified: safe_harbor" in text
    assert "not supplied — set it with `cognify-admin docs set known_limitations" in text


@pytest.mark.parametrize("template", list(ExportTemplate))
def test_the_json_package_holds_the_version_used_and_the_cited_fields(
    template: ExportTemplate,
) -> None:
    doc = json.loads(build(the_report(), ExportFormat.JSON, template, KEY).data)
    assert doc["documentation_version"]["version"] == 2
    assert doc["documentation"]["intended_use"] == "Drafting discharge summaries."
    assert doc["documentation"]["risk_management"] == "not supplied"
    titles = [p["title"] for p in doc["compliance"]]
    assert titles == [p.title for p in compliance.points(the_report(), template)]
    for point in doc["compliance"]:
        assert all(f["source"] for f in point["fields"])


def test_the_workbook_has_the_cited_fields_and_the_documentation_version() -> None:
    from cognify_exporter.xlsx import render as render_xlsx

    from .test_source_version import _sheets

    sheets = _sheets(render_xlsx(the_report(), ExportTemplate.HIPAA))
    cited = sheets["compliance"]
    phi = [row for row in cited if row.get("section") == "PHI data handling attestation"]
    assert any(row.get("value") == "de-identified: safe_harbor; authorised use: QI" for row in phi)
    assert all(row.get("source") for row in cited)
    docs = {row["field"]: row for row in sheets["documentation"]}
    assert docs["human_oversight"]["version"] == "2"
    assert docs["(document)"]["set_by"] == "Dr. Ana Ortiz"
