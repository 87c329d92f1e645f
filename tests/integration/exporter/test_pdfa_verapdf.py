"""veraPDF (the PDF Association's validator, a tool we did not write) finds 0 failures in the
PDF/A-3b audit PDF of every template (docs/decisions/pdfa.md).

veraPDF is installed by `make install` (deploy/bootstrap-tools runs deploy/bootstrap-verapdf);
this test fails, never skips, when it is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from cognify_events import ExportTemplate
from cognify_exporter import pdf

from tests.unit.exporter.fixtures import sealed_report
from tests.unit.exporter.large_run import large_report
from tests.unit.exporter.test_training_nonfinite import SIG, diverged

ROOT = Path(__file__).resolve().parents[3]


def verapdf_libs() -> Path:
    pom = (ROOT / "deploy/verapdf/pom.xml").read_text()
    m = re.search(r"<verapdf.version>(.+)</verapdf.version>", pom)
    assert m, "deploy/verapdf/pom.xml names no veraPDF version"
    cache = Path(os.environ.get("COGNIFY_CACHE") or Path.home() / ".cache/cognify")
    libs = cache / f"verapdf-{m.group(1)}"
    assert (libs / ".complete").is_file(), (
        f"veraPDF is not installed in {libs}: run deploy/bootstrap-verapdf (make install does)"
    )
    assert shutil.which("java"), "java is missing: apt-get install openjdk-17-jre-headless"
    return libs


def verapdf(libs: Path, *files: Path) -> subprocess.CompletedProcess[bytes]:
    main = "org.verapdf.apps.GreenfieldCliWrapper"
    command = ["java", "-cp", f"{libs}/*", main, "--flavour", "3b", "--format", "xml"]
    return subprocess.run(
        [*command, *map(str, files)], capture_output=True, timeout=300, check=False
    )


def test_every_template_pdf_is_pdfa_3b_with_0_failures(tmp_path: Path) -> None:
    libs = verapdf_libs()
    files = []
    for template in ExportTemplate:
        f = tmp_path / f"{template.value}.pdf"
        f.write_bytes(pdf.render(sealed_report(), template))
        files.append(f)
    # a 200-checkpoint run: 19 pages, the drawn overview, contents links and outline
    large = tmp_path / "large.pdf"
    large.write_bytes(pdf.render(large_report(), ExportTemplate.HIPAA))
    files.append(large)
    # a diverged loss (the non-finite training metrics' table) and the model's OMS
    # signature in the seal certificate
    signed = tmp_path / "diverged-signed.pdf"
    signed.write_bytes(pdf.render(replace(diverged(), model_signature=SIG), ExportTemplate.HIPAA))
    files.append(signed)
    done = verapdf(libs, *files)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    tree = ET.fromstring(done.stdout)
    reports = tree.findall(".//validationReport")
    assert len(reports) == len(files), done.stdout.decode(errors="replace")[-2000:]
    for rep in reports:
        failed = [
            f"{r.get('clause')}-{r.get('testNumber')}: {r.findtext('description')}"
            for r in rep.iter("rule")
            if r.get("status") == "failed"
        ]
        assert rep.get("profileName", "").startswith("PDF/A-3B"), rep.attrib
        assert rep.get("isCompliant") == "true" and not failed, (rep.attrib, failed)
        details = rep.find("details")
        assert details is not None and int(details.get("passedChecks", "0")) > 0
        assert details.get("failedChecks") == "0"


def test_verapdf_finds_a_pdf_without_the_pdfa_parts_non_compliant(tmp_path: Path) -> None:
    """The validator run above can fail: a plain reportlab PDF (no XMP identification, no
    output intent) is refused."""
    libs = verapdf_libs()
    plain = tmp_path / "plain.pdf"
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(plain))
    c.setFont("Helvetica", 12)
    c.drawString(72, 720, "not an archival PDF")
    c.save()
    done = verapdf(libs, plain)
    rep = ET.fromstring(done.stdout).find(".//validationReport")
    assert rep is not None and rep.get("isCompliant") == "false"
