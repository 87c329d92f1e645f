"""The audit PDF's PDF/A-3b parts, read back with pikepdf (veraPDF's verdict is in
tests/integration/exporter/test_pdfa_verapdf.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from cognify_events import ExportTemplate
from cognify_exporter import jsonpkg, pdf, pdfa

from tests.unit.exporter.fixtures import sealed_report


def _open(template: ExportTemplate) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(pdf.render(sealed_report(), template)))


@pytest.mark.parametrize("template", list(ExportTemplate))
def test_the_json_package_is_embedded_as_an_associated_file(template: ExportTemplate) -> None:
    report = sealed_report()
    with _open(template) as doc:
        (spec,) = list(doc.Root.AF)
        assert spec.AFRelationship == pikepdf.Name.Data
        name = f"run-1.{template.value}.audit.json"
        assert str(spec.F) == str(spec.UF) == name
        stream = spec.EF.F
        assert stream.Subtype == pikepdf.Name("/application/json")
        assert stream.read_bytes() == jsonpkg.render(report, template)
        assert int(stream.Params.Size) == len(stream.read_bytes())
        names = doc.Root.Names.EmbeddedFiles.Names
        assert str(names[0]) == name and names[1].objgen == spec.objgen


def test_xmp_identifies_pdfa_3b_and_agrees_with_the_info_dictionary() -> None:
    report = sealed_report()
    with _open(ExportTemplate.EU_AI_ACT) as doc:
        meta = doc.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert meta["dc:title"] == str(doc.docinfo.Title) == "Cognify audit package run-1"
        sealed = pdfa.parse_time(report.seal.sealed_at)
        assert meta["xmp:CreateDate"] == pdfa.xmp_date(sealed)
        assert str(doc.docinfo.CreationDate) == pdfa.pdf_date(sealed)
        assert str(doc.docinfo.ModDate) == pdfa.pdf_date(sealed)


def test_the_output_intent_embeds_the_srgb_profile() -> None:
    with _open(ExportTemplate.DEFAULT) as doc:
        (intent,) = list(doc.Root.OutputIntents)
        assert intent.S == pikepdf.Name.GTS_PDFA1
        profile = intent.DestOutputProfile
        assert int(profile.N) == 3 and profile.read_bytes() == pdfa.icc_profile()
        icc = pdfa.icc_profile()
        assert (
            icc[36:40] == b"acsp"
            and icc[16:20] == b"RGB "
            and len(icc) == int.from_bytes(icc[:4], "big")
        )


def test_every_font_is_embedded_and_every_annotation_printable() -> None:
    with _open(ExportTemplate.HIPAA) as doc:
        fonts = {}
        for page in doc.pages:
            for _key, font in page.obj.Resources.get("/Font", {}).items():
                fonts[str(font.BaseFont)] = font
            for annot in page.obj.get("/Annots", []):
                assert int(annot.F) & 4
        assert fonts, "no font found"
        for base, font in fonts.items():
            assert "/FontFile2" in font.FontDescriptor, f"{base} is not embedded"
            assert "DejaVu" in base


def test_a_standard_font_loaded_before_embedding_is_replaced() -> None:
    """A `stringWidth("Helvetica")` before `embed_fonts()` loads reportlab's Type 1
    Helvetica, which `registerFont` would then keep: the PDF must still embed DejaVu."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfa.font_registry().pop("Helvetica")
    pdfmetrics.stringWidth("x", "Helvetica", 7)
    assert not isinstance(pdfmetrics.getFont("Helvetica"), TTFont)
    data = pdf.render(sealed_report(), ExportTemplate.DEFAULT)
    assert isinstance(pdfmetrics.getFont("Helvetica"), TTFont)
    with pikepdf.open(io.BytesIO(data)) as doc:
        for page in doc.pages:
            for _key, font in page.obj.Resources.get("/Font", {}).items():
                assert "/FontDescriptor" in font, f"{font.BaseFont} is not embedded"


def test_the_same_run_gives_the_same_pdf_bytes() -> None:
    first = pdf.render(sealed_report(), ExportTemplate.HEALTHCARE)
    assert first == pdf.render(sealed_report(), ExportTemplate.HEALTHCARE)
    assert b"D:2000" not in first  # dates come from the seal, not reportlab's invariant date


def test_monospace_advances_are_in_font_units() -> None:
    """reportlab stores DejaVuSansMono's trailing advances scaled to 1/1000 em (602 instead of
    1233 units); the subset would disagree with /Widths. The fix restores font units."""
    pdfa.embed_fonts()
    from reportlab.pdfbase import pdfmetrics

    face = pdfmetrics.getFont("Courier").face
    # 0 for the combining marks, 1233 (of 2048) for every other glyph; never the scaled 602
    assert {aw for aw, _lsb in face.hmetrics[1:]} == {0, 1233}


def test_missing_fonts_are_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdfa, "FONT_DIRS", (str(tmp_path),))
    monkeypatch.setenv("COGNIFY_FONT_DIR", str(tmp_path / "absent"))
    with pytest.raises(pdfa.FontsMissing, match="fonts-dejavu-core"):
        pdfa._font_dir()
