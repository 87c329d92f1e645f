"""What the seal certificate and the training metrics say beyond the points: training
metrics logged as NaN or an infinity (lineage keeps them in the run's `nonfinite_metrics`)
are in the report, the JSON package, the PDF's training metrics section and the XLSX; the
PDF's seal certificate names the sealed model's OMS signature and how to verify it. Read
back as a reviewer reads them (pdftotext, the workbook's sheets)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import cognify_events as ev
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import report, seal
from cognify_exporter.oms import ModelSignature
from cognify_exporter.package import build
from cognify_lineage_model.model import iso

from tests.unit.exporter.fixtures import REVIEWER, folded
from tests.unit.exporter.test_compliance import KEY
from tests.unit.exporter.test_source_version import _sheets
from tests.unit.lineage.script import Script, hash_results, training


def _nan(s: Script, step: int, values: dict[str, str]) -> ev.MetricsLogged:
    return ev.MetricsLogged(
        **s.env(),
        payload=ev.MetricsLoggedPayload(
            step=step, epoch=step / 100, metrics={"lr": 1e-5}, nonfinite_metrics=values
        ),
    )


def diverged() -> report.Report:
    """The fixture's run, whose loss went NaN at step 160 and 170 (and grad_norm infinite
    at 170) before the run ended."""
    s = Script("ws-1", "run-1")
    sdk = training(s)
    end = sdk.pop()  # run.ended stays last
    sdk += [_nan(s, 160, {"loss": "nan"}), _nan(s, 170, {"loss": "nan", "grad_norm": "inf"})]
    evs = [*sdk, end, *hash_results(s)]
    run = folded(evs)
    chain = seal.Chain("sha256:" + "ab" * 32, len(evs))
    when = s.t0 + timedelta(hours=2)
    sealed = seal.seal_event(run, chain, "exporter", when, REVIEWER)
    the_seal = report.Seal(
        str(sealed.event_id), iso(when), "exporter", chain.head, chain.length, "ed25519:00"
    )
    return report.build(folded([*evs, sealed]), evs, the_seal, {})


EXPECTED = {
    "grad_norm": {
        "first_step": 170,
        "first_value": "inf",
        "last_step": 170,
        "last_value": "inf",
        "count": 1,
    },
    "loss": {
        "first_step": 160,
        "first_value": "nan",
        "last_step": 170,
        "last_value": "nan",
        "count": 2,
    },
}


def _pdf_text(rep: report.Report, tmp_path: Path, template: ExportTemplate) -> str:
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(build(rep, ExportFormat.PDF, template, KEY).data)
    out = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return " ".join(out.split())


def test_nonfinite_training_metrics_are_in_the_report_and_the_json_package() -> None:
    rep = diverged()
    assert rep.nonfinite_metrics == EXPECTED
    assert set(rep.metrics) == {"loss", "lr"}  # the finite points stay points
    doc = json.loads(build(rep, ExportFormat.JSON, ExportTemplate.DEFAULT, KEY).data)
    assert doc["nonfinite_metrics"] == EXPECTED
    assert doc["metrics"]["loss"]["points"] == 3  # steps 10, 20, 150: NaN is no point
    clean = replace(rep, nonfinite_metrics={})
    assert (
        json.loads(build(clean, ExportFormat.JSON, ExportTemplate.DEFAULT, KEY).data)[
            "nonfinite_metrics"
        ]
        == {}
    )


def test_the_pdf_training_metrics_section_lists_them(tmp_path: Path) -> None:
    text = _pdf_text(diverged(), tmp_path, ExportTemplate.DEFAULT)
    metrics = text[text.index("Training metrics", text.index("Training metrics") + 1) :]
    assert "Not finite: 2 training metric(s) were logged as not a number or infinite" in metrics
    assert "grad_norm inf at step 170 inf at step 170 1" in metrics
    assert "loss nan at step 160 nan at step 170 2" in metrics


def test_the_xlsx_has_a_sheet_of_them() -> None:
    sheets = _sheets(build(diverged(), ExportFormat.XLSX, ExportTemplate.DEFAULT, KEY).data)
    assert sheets["nonfinite metrics"] == [
        {
            "metric": "grad_norm",
            "first_step": "170",
            "first_value": "inf",
            "last_step": "170",
            "last_value": "inf",
            "count": "1",
        },
        {
            "metric": "loss",
            "first_step": "160",
            "first_value": "nan",
            "last_step": "170",
            "last_value": "nan",
            "count": "2",
        },
    ]


SIG = ModelSignature(
    model_id="model_final",
    object_key="packages/ws-1/run-1/run-1.model.sig",
    sha256="sha256:" + "5e" * 32,
    key_hint="a1b2c3d4",
    files=3,
)


def test_the_seal_certificate_names_the_model_signature_and_how_to_verify_it(
    tmp_path: Path,
) -> None:
    text = _pdf_text(replace(diverged(), model_signature=SIG), tmp_path, ExportTemplate.HIPAA)
    cert = text[text.rindex("Seal certificate") :]
    assert "OpenSSF Model Signing v1.0" in cert
    assert "signature object packages/ws-1/run-1/run-1.model.sig" in cert
    assert "signature SHA-256 sha256:" + "5e" * 32 in cert
    assert "OMS key hint a1b2c3d4" in cert and "files signed 3" in cert
    assert (
        "model_signing verify key MODEL_DIR --signature run-1.model.sig "
        "--public_key ws-1.oms.pub.pem" in cert
    )
    assert "cognify model-signature --run-id run-1 --workspace ws-1" in cert


def test_the_seal_certificate_says_when_the_model_has_no_signature(tmp_path: Path) -> None:
    cert = _pdf_text(diverged(), tmp_path, ExportTemplate.DEFAULT)
    cert = cert[cert.rindex("Seal certificate") :]
    assert "Model signature: none." in cert
