"""Every package says which object version a dataset's or checkpoint's hash was computed
over (`source_version`, docs/spec/package.md), and says nothing where there is none."""

from __future__ import annotations

import functools
import io
import json
import re
import uuid
import zipfile
from xml.etree import ElementTree

import cognify_events as ev
import pikepdf
import pytest
from cognify_events import ExportFormat, ExportTemplate, HashComputed, HashTarget
from cognify_exporter import jsonpkg, package, report
from cognify_exporter.pdf import render as render_pdf
from cognify_exporter.xlsx import render as render_xlsx
from cognify_lineage_model.model import iso

from tests.unit.lineage.script import Script, root

from .fixtures import events, folded

DATASET_VERSION = "version-id:3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
CHECKPOINT_VERSION = "objects-sha256:" + "cd" * 32  # 79 characters: wraps in the PDF


@functools.cache
def _scripted() -> tuple[Script, list[ev.Event]]:
    """The fixture run with ds_extra_v1 and ckpt_step_200 hashed from s3:// sources; the
    other dataset and checkpoint, and the model, from local paths."""
    s = Script("ws-1", "run-1")
    pinned: dict[str, ev.Event] = {
        "ds_extra_v1": s.hashed(HashTarget.DATASET, "ds_extra_v1", root(3), DATASET_VERSION),
        "ckpt_step_200": s.hashed(
            HashTarget.CHECKPOINT, "ckpt_step_200", root(5), CHECKPOINT_VERSION
        ),
    }
    evs = [
        pinned.get(e.payload.target_id, e) if isinstance(e, HashComputed) else e for e in events(s)
    ]
    return s, evs


def versioned_report() -> report.Report:
    s, evs = _scripted()
    run = folded(evs)
    sealed = report.Seal(
        str(uuid.UUID(int=1)), iso(s.t0), "exporter", "sha256:" + "ab" * 32, len(evs), "k"
    )
    return report.build(run, evs, sealed, {})


def test_the_report_and_json_sections_carry_the_full_version_only_where_there_is_one() -> None:
    doc = json.loads(jsonpkg.render(versioned_report(), ExportTemplate.DEFAULT))
    datasets = {d["id"]: d for d in doc["datasets"]}
    checkpoints = {c["id"]: c for c in doc["checkpoints"]}
    assert datasets["ds_extra_v1"]["source_version"] == DATASET_VERSION
    assert checkpoints["ckpt_step_200"]["source_version"] == CHECKPOINT_VERSION  # never cut
    for local in (datasets["ds_notes_v3"], datasets["ds_eval_v1"], checkpoints["ckpt_step_100"]):
        assert "source_version" not in local
    assert "source_version" not in doc["model"]
    # The sections agree with the lineage graph's nodes.
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert nodes["ds_extra_v1"]["source_version"] == DATASET_VERSION
    assert nodes["ckpt_step_200"]["source_version"] == CHECKPOINT_VERSION


def _pdf_text_blocks(data: bytes) -> list[str]:
    """The text of each BT…ET block in the page streams (decoded by pikepdf: the PDF/A
    file is rewritten by qpdf), its lines joined without a separator: one table cell's
    paragraph per block, so a value wrapped over several lines reads back whole. reportlab's
    embedded font subsets keep ASCII at its own codes, so ASCII text reads as written."""
    blocks = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        contents = [page.obj.Contents for page in pdf.pages]
        raws = [
            b"".join(s.read_bytes() for s in (c if isinstance(c, pikepdf.Array) else [c]))
            for c in contents
        ]
    for raw in raws:
        content = raw.decode("latin-1")
        for block in re.findall(r"\bBT\b(.*?)\bET\b", content, re.S):
            strings = re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", block)
            text = "".join(re.sub(r"\\(.)", r"\1", s) for s in strings)
            if text:
                blocks.append(text)
    return blocks


@pytest.mark.parametrize(
    ("template", "section"),
    [
        (ExportTemplate.HEALTHCARE, "Training data provenance attestation"),
        (ExportTemplate.DEFAULT, "Dataset provenance"),
        (ExportTemplate.EU_AI_ACT, "2. Development process, data and testing"),
    ],
)
def test_the_pdf_prints_each_version_in_full_in_its_row(
    template: ExportTemplate, section: str
) -> None:
    blocks = _pdf_text_blocks(render_pdf(versioned_report(), template))
    assert section in blocks
    assert "source version" in blocks  # the column header
    assert CHECKPOINT_VERSION in blocks  # the checkpoint inventory, wrapped yet whole
    # The dataset's row: its id, then its version before the next dataset's id.
    after = blocks[blocks.index(section) :]
    row = after[after.index("ds_extra_v1") : after.index("ds_eval_v1")]
    # (the EU AI Act's point 2 cites each dataset's facts in one cell, the version among them)
    assert any(DATASET_VERSION in cell for cell in row)


def test_the_pdf_prints_no_version_for_local_sources() -> None:
    from .fixtures import sealed_report

    blocks = _pdf_text_blocks(render_pdf(sealed_report(), ExportTemplate.HEALTHCARE))
    assert "source version" in blocks
    assert not [b for b in blocks if b.startswith(("version-id:", "etag:", "objects-sha256:"))]


def _sheets(data: bytes) -> dict[str, list[dict[str, object]]]:
    """Each sheet as a list of rows keyed by the header row's titles (empty cells absent)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        shared = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
            for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns)
        ]
        names = [
            s.attrib["name"]
            for s in ElementTree.fromstring(z.read("xl/workbook.xml")).iterfind(".//m:sheet", ns)
        ]
        out = {}
        for i, name in enumerate(names, start=1):
            sheet = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{i}.xml"))
            rows: list[dict[str, object]] = []
            for r in sheet.iterfind(".//m:sheetData/m:row", ns):
                cells: dict[str, object] = {}
                for c in r.findall("m:c", ns):
                    v = c.find("m:v", ns)
                    if v is None or v.text is None:
                        continue
                    col = re.sub(r"\d", "", c.attrib["r"])
                    cells[col] = shared[int(v.text)] if c.attrib.get("t") == "s" else v.text
                rows.append(cells)
            header = rows[0]
            out[name] = [{str(header[k]): v for k, v in row.items()} for row in rows[1:]]
    return out


def test_the_xlsx_datasets_and_checkpoints_sheets_have_a_source_version_column() -> None:
    sheets = _sheets(render_xlsx(versioned_report(), ExportTemplate.DEFAULT))
    datasets = {str(r["dataset_id"]): r for r in sheets["datasets"]}
    checkpoints = {str(r["checkpoint_id"]): r for r in sheets["checkpoints"]}
    assert datasets["ds_extra_v1"]["source_version"] == DATASET_VERSION
    assert checkpoints["ckpt_step_200"]["source_version"] == CHECKPOINT_VERSION
    for local in (datasets["ds_notes_v3"], datasets["ds_eval_v1"], checkpoints["ckpt_step_100"]):
        assert "source_version" not in local  # an empty cell
    assert datasets["ds_extra_v1"]["source_uri"] == "/data/extra"  # the columns line up


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_packages_with_versions_are_byte_identical(fmt: ExportFormat) -> None:
    template = ExportTemplate.HEALTHCARE
    assert package.render(versioned_report(), fmt, template) == package.render(
        versioned_report(), fmt, template
    )
