"""The lineage graph in the audit PDF: drawn as boxes and arrows (lineage_view.py, the
drawing in pdf.py), bounded for a large run with what was folded said on the page and every
edge in an appendix; results that were not finite listed in the PDF and the XLSX."""

from __future__ import annotations

import functools
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
from cognify_events import ExportTemplate
from cognify_exporter import figures, lineage_view, pdf, xlsx
from cognify_exporter.report import Report
from cognify_exporter.templates import sections

from tests.unit.exporter.fixtures import sealed_report
from tests.unit.exporter.large_run import CHECKPOINTS, EVALS, large_report
from tests.unit.exporter.test_source_version import _sheets


@functools.cache
def _large() -> Report:
    return large_report()


@functools.cache
def _large_pdf() -> bytes:
    return pdf.render(_large(), ExportTemplate.DEFAULT)


def _text(data: bytes, tmp_path: Path, first: int | None = None, last: int | None = None) -> str:
    f = tmp_path / "out.pdf"
    f.write_bytes(data)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    out = subprocess.run(
        ["pdftotext", *pages, str(f), "-"], capture_output=True, check=True, text=True
    ).stdout
    return " ".join(out.split())


def test_a_small_run_is_drawn_whole_with_type_id_hash_and_state() -> None:
    view = lineage_view.build(sealed_report().graph)
    assert not view.elided and view.total_nodes == len(view.nodes) == 9
    assert len(view.edges) == view.total_edges == 9
    by_id = {n.id: n for n in view.nodes}
    ckpt = by_id["ckpt_step_100"]
    assert (ckpt.type, ckpt.label, ckpt.detail) == ("checkpoint", "ckpt_step_100", "step 100")
    assert ckpt.hash_short == "sha256:000000000000…" and ckpt.state_text == "hash computed"
    assert by_id["eval_step_200"].detail == "trainer evaluation · step 200"
    assert by_id["model_final"].detail == "from ckpt_step_200"
    assert by_id["ds_notes_v3"].detail.startswith("notes · v3 · train")


def test_states_in_words() -> None:
    assert lineage_view.state_of({"hash_status": "pending"}) == ("pending", "hash pending")
    gap = {"hash_status": "failed", "hash_error": "permission denied"}
    assert lineage_view.state_of(gap) == ("gap", "GAP: permission denied")


def test_a_large_run_is_an_overview_bounded_per_column() -> None:
    report = _large()
    view = lineage_view.build(report.graph)
    assert view.elided and view.total_nodes == len(report.graph["nodes"])
    per_type: dict[str, int] = {}
    for n in view.nodes:
        per_type[n.type] = per_type.get(n.type, 0) + 1
    assert per_type["checkpoint"] <= 2 * lineage_view.KEPT + 1
    assert per_type["eval"] <= 2 * lineage_view.KEPT + 1
    ids = {n.id for n in view.nodes}
    # first, last (the model's), and the one never hashed are kept
    assert {"ckpt_step_10", "ckpt_step_2000", "ckpt_step_1000"} <= ids
    # the evaluations with a result that is not finite are kept and say so
    by_id = {n.id: n for n in view.nodes}
    assert by_id["eval_step_1300"].warning == "not finite: eval_loss nan"
    assert by_id["eval_medqa"].warning == "not finite: calibration_error inf"
    groups = [n for n in view.nodes if n.state == "group"]
    members = [m for g in groups for m in g.members]
    assert len(members) == len(set(members)) == sum(view.folded.values())
    assert len(members) + len(view.nodes) - len(groups) == view.total_nodes
    assert view.folded["checkpoint"] == CHECKPOINTS - per_type["checkpoint"] + sum(
        1 for g in groups if g.type == "checkpoint"
    )
    assert all(a in ids and b in ids for a, b in view.edges)
    assert "checkpoints" in lineage_view.folded_text(view)
    first = next(g for g in groups if g.type == "checkpoint")
    assert first.label.endswith("checkpoints folded") and first.detail.startswith("steps ")


def test_the_large_pdf_draws_the_overview_and_lists_every_edge(tmp_path: Path) -> None:
    data = _large_pdf()
    text = _text(data, tmp_path)
    assert "drawn as an overview" in text and "folded into the dashed group boxes" in text
    assert "Appendix: lineage edges" in text
    report = _large()
    appendix = text[text.rindex("Appendix: lineage edges") :]
    for c in report.checkpoints:  # every checkpoint in the appendix, though most are folded
        assert c["id"] in appendix
    assert f"All {len(report.graph['edges']):,} edges" in appendix
    assert len(report.checkpoints) == CHECKPOINTS and len(report.evaluations) == EVALS + 1


def test_a_small_pdf_draws_the_graph_and_has_no_edge_appendix(tmp_path: Path) -> None:
    text = _text(pdf.render(sealed_report(), ExportTemplate.DEFAULT), tmp_path)
    graph = text[text.rindex("Lineage graph") : text.rindex("Findings")]  # not the contents
    for word in ("DATASET", "CONFIGURATION", "CHECKPOINT", "EVALUATION", "MODEL"):
        assert word in graph
    for n in sealed_report().graph["nodes"]:
        assert n["id"] in graph
    assert "hash computed" in graph and "from to" not in graph
    assert "Appendix: lineage edges" not in text


def test_the_large_pdf_is_deterministic() -> None:
    assert pdf.render(_large(), ExportTemplate.DEFAULT) == _large_pdf()


def test_nonfinite_results_are_read_from_lineage() -> None:
    assert figures.nonfinite_results(_large()) == {
        "eval_medqa": {"calibration_error": "inf"},
        "eval_step_1300": {"eval_loss": "nan"},
    }
    assert figures.nonfinite_results(sealed_report()) == {}


def test_the_pdf_lists_results_that_were_not_finite(tmp_path: Path) -> None:
    text = _text(_large_pdf(), tmp_path)
    assert "Not finite: 2 evaluation(s)" in text
    assert "eval_medqa: calibration_error = inf; eval_step_1300: eval_loss = nan" in text
    # and in the results table, beside the finite ones
    assert "eval_loss nan" in text and "calibration_error inf" in text


def test_the_xlsx_lists_results_that_were_not_finite() -> None:
    rows = _sheets(xlsx.render(_large(), ExportTemplate.DEFAULT))["eval metrics"]
    bad = [(r["eval_id"], r["metric"], r["value"]) for r in rows if r["finite"] == "no"]
    assert bad == [
        ("eval_step_1300", "eval_loss", "nan"),
        ("eval_medqa", "calibration_error", "inf"),
    ]
    medqa = [r for r in rows if r["eval_id"] == "eval_medqa"]
    assert [(r["metric"], r["finite"]) for r in medqa] == [
        ("calibration_error", "no"),
        ("f1", "yes"),
    ]


def test_contents_page_numbers_links_and_outline(tmp_path: Path) -> None:
    data = pdf.render(sealed_report(), ExportTemplate.HIPAA)
    titles = ["Summary", *sections(ExportTemplate.HIPAA)]
    with pikepdf.open(io.BytesIO(data)) as doc:
        total = len(doc.pages)
        number: dict[tuple[int, int], int] = {
            page.obj.objgen: i + 1 for i, page in enumerate(doc.pages)
        }
        with doc.open_outline() as outline:
            items: list[Any] = list(outline.root)
            marks = [(item.title, number[item.destination[0].objgen]) for item in items]
        links = [number[a.Dest[0].objgen] for a in doc.pages[0].Annots if a.Subtype == "/Link"]
    assert [t for t, _ in marks] == titles
    assert links == [n for _, n in marks]  # each contents line links to its section's page
    assert links == sorted(links) and links[0] == 1 and links[-1] <= total
    first = _text(data, tmp_path, 1, 1)
    assert "Contents" in first and f"page 1 of {total}" in first
    for title, page in marks:  # "title . . . page", in the order of the document
        assert re.search(re.escape(title) + r"[ .]*" + str(page) + r"\b", first), title
    for page in range(1, total + 1):
        assert f"page {page} of {total}" in _text(data, tmp_path, page, page)
    # each section starts on the page the contents give it
    for title, page in marks[1:]:
        assert title in _text(data, tmp_path, page, page)
