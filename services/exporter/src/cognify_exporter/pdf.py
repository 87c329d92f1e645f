"""The `pdf` package (reportlab): the report as an auditor reads it (pure: bytes out).

Rendered with `rl_config.invariant`, so the same sealed run gives the same bytes (no
creation time, a fixed document id). Organisation-supplied text is quoted from the
workspace's documentation and the run notes; where none was supplied it says so.
"""

from __future__ import annotations

import io
import json
from typing import Any
from xml.sax.saxutils import escape

from cognify_events import ExportTemplate
from reportlab import rl_config
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from . import layered, lineage_view, pdfa
from .approvals import statement_sha256
from .compliance import points as compliance_points
from .figures import Family, families, key_hyperparameters, nonfinite_results
from .report import Report
from .templates import NOT_SUPPLIED, sections

rl_config.invariant = 1
STYLES = getSampleStyleSheet()
BODY = STYLES["BodyText"]
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9)
MONO = ParagraphStyle("mono", parent=SMALL, fontName="Courier", fontSize=7, leading=8.5)
H1, H2 = STYLES["Title"], STYLES["Heading2"]
MAX_CHART_POINTS = 400
WIDTH = A4[0] - 36 * mm
# Hashes and object versions are set in Courier, so an auditor can copy them character for
# character; a value longer than its column wraps (reportlab splits long words), never cut.
MONO_PREFIXES = ("sha256:", "version-id:", "etag:", "objects-sha256:")


def _p(text: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _table(header: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    data = [[_p(h, SMALL) for h in header]]
    data += [
        [_p(v, MONO if isinstance(v, str) and v.startswith(MONO_PREFIXES) else SMALL) for v in row]
        for row in rows
    ]
    if len(data) == 1:
        data.append([_p("none recorded", SMALL)] + [""] * (len(header) - 1))
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde3ea")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def _kv(pairs: list[tuple[str, Any]]) -> Table:
    return _table(["field", "value"], [[k, v] for k, v in pairs], [45 * mm, WIDTH - 45 * mm])


def _chart(name: str, points: list[tuple[int, float]]) -> Drawing:
    return _family_chart(Family(name, name, [(name, points)]))


SERIES_COLOURS = ["#1f5fa8", "#c8553d", "#2a9d8f", "#8d6a9f"]


def _family_chart(family: Family) -> Drawing:
    """One family of series on one step axis, with axis titles and a legend."""
    d = Drawing(WIDTH, 62 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 16 * mm, 12 * mm, WIDTH - 24 * mm, 40 * mm
    data = []
    for _, points in family.series:
        step = max(1, len(points) // MAX_CHART_POINTS)
        shown = points[::step]
        if shown[-1] != points[-1]:
            shown.append(points[-1])
        data.append([(float(s), float(v)) for s, v in shown])
    plot.data = data
    for i, (_name, points) in enumerate(family.series):
        plot.lines[i].strokeColor = colors.HexColor(SERIES_COLOURS[i % len(SERIES_COLOURS)])
        plot.lines[i].strokeWidth = 1
        if len(points) < 40:  # few points (evaluations): mark each one
            plot.lines[i].symbol = makeMarker("FilledCircle", size=3)
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 6
    # a little room above and below the data, so a series at its minimum (an eval loss
    # below every training loss) is not drawn on the axis itself
    plot.yValueAxis.avoidBoundFrac = 0.05
    d.add(plot)
    d.add(String(16 * mm, 57 * mm, family.title, fontSize=8))
    d.add(
        String(16 * mm + plot.width / 2, 2 * mm, "training step", fontSize=7, textAnchor="middle")
    )
    y_title = String(0, 0, family.y_label, fontSize=7, textAnchor="middle")
    d.add(Group(y_title, transform=(0, 1, -1, 0, 4 * mm, 12 * mm + plot.height / 2)))
    x = 70 * mm
    for i, (name, points) in enumerate(family.series):
        colour = colors.HexColor(SERIES_COLOURS[i % len(SERIES_COLOURS)])
        d.add(Line(x, 58 * mm, x + 6 * mm, 58 * mm, strokeColor=colour, strokeWidth=1.5))
        label = f"{name} ({len(points):,} points)"
        d.add(String(x + 7 * mm, 57 * mm, label, fontSize=7))
        # an estimate (0.55 em per character): asking reportlab for the width would load
        # the standard Type1 Helvetica before pdfa.embed_fonts replaces it (PDF/A)
        x += 9 * mm + len(label) * 7 * 0.55
    return d


def _org(report: Report, field: str, label: str) -> list[Any]:
    value = report.documentation.get(field)
    return [_p(f"{label}: " + (value or f"{NOT_SUPPLIED} (set in the workspace documentation)"))]


def _section(report: Report, template: ExportTemplate, title: str) -> list[Any]:
    """A common section's renderer, else the template's own (compliance.py): each field
    with its value and the source it was taken from."""
    point = next((p for p in compliance_points(report, template) if p.title == title), None)
    if point is None:
        return SECTION_RENDERERS[title](report, template)
    rows = [[f.label, f.value, f.source] for f in point.fields]
    widths = [38 * mm, WIDTH - 96 * mm, 58 * mm]
    return [_table(["item", "value", "source"], rows, widths)]


class _Heading(Paragraph):  # type: ignore[misc]
    """A section title: listed in the table of contents and the PDF outline."""

    def __init__(self, text: str, key: str) -> None:
        super().__init__(escape(text), H2)
        self.toc_text, self.key = text, key


PAGE_TOTAL_FORM, CONTENTS_FORM = "cognify-page-total", "cognify-contents"
TOC_LEADING, TOC_SIZE = 11.5, 9


class _Canvas(Canvas):  # type: ignore[misc]
    """One pass: the page total in every footer and the page numbers of the contents are
    form XObjects that every page references as it is drawn and that are defined once the
    last page is known (reportlab resolves a form by name at save time). The contents'
    links go to named destinations, also bound at save. So the document is laid out once,
    not once more per unresolved number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages_shown = 0
        self.section_pages: dict[str, int] = {}
        self.contents: list[tuple[str, str]] = []  # (key, title) in the order listed
        self.contents_width = 0.0

    def showPage(self) -> None:
        self.pages_shown += 1
        super().showPage()

    def save(self) -> None:
        self.beginForm(PAGE_TOTAL_FORM, 0, 0, 40 * mm, 10 * mm)
        self.setFont("Helvetica", 7)
        self.drawString(0, 0, f" of {self.pages_shown}")
        self.endForm()
        height = TOC_LEADING * len(self.contents)
        self.beginForm(CONTENTS_FORM, 0, 0, max(self.contents_width, 1), max(height, 1))
        self.setFont("Helvetica", TOC_SIZE)
        for i, (key, title) in enumerate(self.contents):
            y = height - (i + 1) * TOC_LEADING + 3
            number = str(self.section_pages.get(key, ""))
            self.drawString(0, y, title)
            self.drawRightString(self.contents_width, y, number)
            left = stringWidth(title, "Helvetica", TOC_SIZE) + 6
            right = self.contents_width - stringWidth(number, "Helvetica", TOC_SIZE) - 6
            dot = stringWidth(" .", "Helvetica", TOC_SIZE)
            dots = int((right - left) / dot)
            if dots > 0:
                self.drawRightString(right, y, " ." * dots)
        self.endForm()
        super().save()


class _Contents(Flowable):  # type: ignore[misc]
    """The table of contents: its entries are known before layout (the template's
    sections), its page numbers are drawn from a form filled in at save (_Canvas)."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        super().__init__()
        self.entries = entries
        self.width = self.height = 0.0

    def wrap(self, avail_width: float, _h: float) -> tuple[float, float]:
        self.width, self.height = avail_width, TOC_LEADING * len(self.entries)
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.contents, canvas.contents_width = self.entries, self.width
        canvas.doForm(CONTENTS_FORM)
        for i, (key, _title) in enumerate(self.entries):
            top = self.height - i * TOC_LEADING
            canvas.linkRect("", key, (0, top - TOC_LEADING, self.width, top), thickness=0)


class _Doc(SimpleDocTemplate):  # type: ignore[misc]
    def afterFlowable(self, flowable: Any) -> None:
        if isinstance(flowable, _Heading):
            self.canv.bookmarkPage(flowable.key)
            self.canv.addOutlineEntry(flowable.toc_text, flowable.key, level=0, closed=True)
            self.canv.section_pages[flowable.key] = self.page


def render(report: Report, template: ExportTemplate) -> bytes:
    pdfa.embed_fonts()  # PDF/A: every font embedded (docs/decisions/pdfa.md); before any width
    out = io.BytesIO()
    r, seal = report.run, report.seal
    doc = _Doc(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Cognify audit package {r['run_id']}",
        author="Cognify exporter",
        subject=f"template {template.value}",
        creator="Cognify",
    )
    # "page N" ends where the widest total (" of 9999") would start: the total is a form
    total_at = A4[0] - 18 * mm - stringWidth(" of 9999", "Helvetica", 7)

    def footer(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        # Two lines: the chain head is 71 characters and would run into the page number.
        canvas.drawString(18 * mm, 12 * mm, f"{r['run_id']} · sealed {seal.sealed_at}")
        canvas.drawString(18 * mm, 8.5 * mm, f"chain head {seal.chain_head}")
        canvas.drawRightString(total_at, 8.5 * mm, f"page {canvas.getPageNumber()}")
        canvas.translate(total_at, 8.5 * mm)
        canvas.doForm(PAGE_TOTAL_FORM)
        canvas.restoreState()

    titles = list(sections(template))
    edges = _edge_appendix(report)
    entries = [("summary", "Summary")] + [(f"s{i}", t) for i, t in enumerate(titles)]
    if edges:
        entries.append((f"s{len(titles)}", EDGE_APPENDIX))
    story: list[Any] = [
        _p(f"Audit package: {r['name'] or r['run_id']}", H1),
        _p(
            f"Template {template.value} · run {r['run_id']} · workspace "
            f"{r['workspace_id']} · project {r['project']}"
        ),
        Spacer(1, 3 * mm),
        *_verdict(report),
        Spacer(1, 4 * mm),
        _p("Contents", H2),
        _Contents(entries),
        PageBreak(),
    ]
    for i, title in enumerate(titles):
        block = _section(report, template, title)
        story.append(KeepTogether([_Heading(title, f"s{i}"), *block[:2]]))
        story.extend(block[2:])
        story.append(Spacer(1, 3 * mm))
    if edges:
        story.append(KeepTogether([_Heading(EDGE_APPENDIX, f"s{len(titles)}"), *edges[:2]]))
        story.extend(edges[2:])
    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=_Canvas)
    return pdfa.audit_package(out.getvalue(), report, template)


def _verdict(report: Report) -> list[Any]:
    """The first thing a reviewer reads: sealed, reviewed by whom, chain head, seal key."""
    s, decisions = report.seal, report.approvals
    last = decisions[-1] if decisions else None
    review = (
        f"{last['decision']} by {last['reviewer']['name']} ({last['reviewer']['role']}) "
        f"at {last['time']}"
        if last
        else "no review decision recorded"
    )
    open_ = [f for f in report.findings if f.get("resolved_at") is None]
    pairs = [
        ("verdict", f"AUDIT_SEALED at {s.sealed_at} by {s.sealed_by}"),
        ("review", review),
        ("open findings", len(open_) or "none"),
        ("chain head", s.chain_head),
        ("events sealed", s.event_count),
        ("seal key", s.key_id),
    ]
    return [_Heading("Summary", "summary"), _kv(pairs)]


def _summary(report: Report, _t: ExportTemplate) -> list[Any]:
    r = report.run
    ckpts, evals = report.checkpoints, report.evaluations
    trained_on = (
        ", ".join(f"{d['name']} v{d['version']}" for d in report.datasets if d["role"] != "eval")
        or "no registered training dataset"
    )
    model = report.model["id"] if report.model else "no registered model"
    narrative = (
        f"Run {r['run_id']} ({r['name'] or 'unnamed'}) of project {r['project']} started "
        f"{r['started_at'] or 'at an unrecorded time'} and ended "
        f"{r['ended_at'] or '(no end recorded)'} "
        f"with status {r['end_status'] or 'unknown'} at step {r['global_step']}. It trained on "
        f"{trained_on}, saved {len(ckpts)} checkpoint(s), recorded {len(evals)} evaluation(s) "
        f"and produced {model}. It was sealed at {report.seal.sealed_at} by "
        f"{report.seal.sealed_by} over {report.seal.event_count} stored events."
    )
    gaps = r["sequence_gaps"]
    pairs = [
        ("run id", r["run_id"]),
        ("tags", json.dumps(r["tags"], sort_keys=True)),
        ("started by", r["started_by"] or NOT_SUPPLIED),
        ("SDK version", r["sdk_version"]),
        # run.started's host (the SDK's, as the access control log prints it), else the
        # system information's
        ("host", r.get("host") or report.system.get("host") or NOT_SUPPLIED),
        (
            "GPU",
            f"{report.system.get('gpu_count')} x {report.system.get('gpu_model')}"
            if report.system.get("gpu_count")
            else "none (CPU)",
        ),
        ("git commit", report.system.get("git_commit")),
        ("sequence gaps", json.dumps(gaps) if gaps else "none"),
    ]
    return [_p(narrative), Spacer(1, 2 * mm), _kv(pairs)]


def _datasets(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [
            d["id"],
            f"{d['name']} v{d['version']}",
            d["role"],
            d["record_count"],
            d["source_uri"] or "(in memory)",
            d.get("source_version") or "",
            d["hash"] or f"{d['hash_status']}: {d.get('hash_error')}",
        ]
        for d in report.datasets
    ]
    out: list[Any] = [
        _p(
            "Every dataset that entered the run, with its Merkle root (RFC 6962) and, for an "
            "s3:// source, the object version the root was computed over.",
            SMALL,
        ),
        _table(
            ["dataset", "name", "role", "records", "source", "source version", "root"],
            rows,
            [26 * mm, 21 * mm, 12 * mm, 15 * mm, 28 * mm, 30 * mm, WIDTH - 132 * mm],
        ),
    ]
    for d in report.datasets:
        if d["provenance"]:
            prov = [
                (k, json.dumps(v) if not isinstance(v, str) else v)
                for k, v in sorted(d["provenance"].items())
            ]
            out += [Spacer(1, 2 * mm), _p(f"Provenance of {d['id']}", SMALL), _kv(prov)]
    return out


def _hyperparameters(report: Report, _t: ExportTemplate) -> list[Any]:
    out: list[Any] = []
    for c in report.configs:
        pairs = [("config", c["id"]), ("config hash", c["hash"]), *key_hyperparameters(c)]
        out += [_kv(pairs), _p("The full configuration is in the appendix.", SMALL)]
    return out or [_p("No configuration was captured.")]


def _full_configuration(report: Report, _t: ExportTemplate) -> list[Any]:
    out: list[Any] = []
    for c in report.configs:
        pairs = [("config hash", c["hash"])]
        pairs += [
            (k, c.get(k))
            for k in (
                "model_type",
                "parameter_count",
                "trainable_parameter_count",
                "optimizer",
                "lr_scheduler",
                "trainer_class",
            )
        ]
        if c.get("peft_config"):
            pairs.append(("peft", json.dumps(c["peft_config"], sort_keys=True)))
        pairs += [
            (f"args.{k}", json.dumps(v) if not isinstance(v, str) else v)
            for k, v in sorted((c.get("training_args") or {}).items())
        ]
        out += [_p(f"Configuration {c['id']}", SMALL), _kv(pairs)]
    return out or [_p("No configuration was captured.")]


def _metrics(report: Report, _t: ExportTemplate) -> list[Any]:
    if not report.metrics and not report.evaluations and not report.nonfinite_metrics:
        return [_p("No training metrics were logged.")]
    charts, runtime = families(report.metrics, report.evaluations)
    out: list[Any] = [_family_chart(f) for f in charts]
    if runtime:
        rows = [[n, c, f"{last:.6g}", f"{lo:.6g}", f"{hi:.6g}"] for n, c, last, lo, hi in runtime]
        out += [
            _p("Runtime and throughput figures (as logged):", SMALL),
            _table(["metric", "points", "last", "min", "max"], rows),
        ]
    return out + _nonfinite_training(report)


def _nonfinite_training(report: Report) -> list[Any]:
    """Training metrics logged as NaN or an infinity: no points in the charts above, so
    listed here, highlighted, as lineage kept them."""
    bad = report.nonfinite_metrics
    if not bad:
        return []
    rows = [
        [
            name,
            f"{m['first_value']} at step {m['first_step']}",
            f"{m['last_value']} at step {m['last_step']}",
            m["count"],
        ]
        for name, m in sorted(bad.items())
    ]
    table = _table(["metric", "first not finite", "last not finite", "logs"], rows)
    table.setStyle([("BACKGROUND", (0, 1), (-1, -1), colors.HexColor("#f9dedc"))])
    return [
        _p(
            f"Not finite: {len(bad)} training metric(s) were logged as not a number or "
            "infinite (a diverged loss, for instance). Such values are kept as recorded and "
            "never plotted: the charts above show only the finite points.",
            SMALL,
        ),
        table,
    ]


def _evals(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [
            e["id"],
            e["source"],
            f"{e['benchmark_name']} v{e['benchmark_version']}"
            if e["benchmark_name"]
            else "trainer",
            e["step"],
            e["checkpoint_id"],
            name,
            value if isinstance(value, str) else f"{value:.6g}",
        ]
        for e in sorted(
            report.evaluations,
            key=lambda e: (
                e["benchmark_name"] or "",
                e["benchmark_version"] or "",
                e["step"] or 0,
                e["id"],
            ),
        )
        for name, value in sorted(
            {**e["metrics"], **nonfinite_results(report).get(e["id"], {})}.items()
        )
    ]
    out: list[Any] = [
        _p(
            "Results per benchmark and benchmark version, linked to the checkpoint evaluated.",
            SMALL,
        ),
        _table(["eval", "source", "benchmark", "step", "checkpoint", "metric", "value"], rows),
    ]
    table = out[-1]
    for i, row in enumerate(rows, start=1):  # a result that is not finite stands out
        if row[-1] in ("nan", "inf", "-inf"):
            table.setStyle([("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f9dedc"))])
    bad = nonfinite_results(report)
    if bad:
        listed = "; ".join(
            f"{eid}: " + ", ".join(f"{k} = {v}" for k, v in sorted(m.items()))
            for eid, m in sorted(bad.items())
        )
        out.append(
            _p(
                f"Not finite: {len(bad)} evaluation(s) reported a result that is not a number "
                f"or is infinite (kept as recorded, never plotted): {listed}.",
                SMALL,
            )
        )
    return out


def _checkpoints(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [
            c["id"],
            c["step"],
            c["total_bytes"],
            c.get("source_version") or "",
            c["hash"] or f"{c['hash_status']}: {c.get('hash_error')}",
        ]
        for c in report.checkpoints
    ]
    if report.model:
        m = report.model
        rows.append(
            [
                f"model {m['id']}",
                "final",
                "",
                m.get("source_version") or "",
                m["hash"] or m["hash_status"],
            ]
        )
    return [
        _table(
            ["checkpoint", "step", "bytes", "source version", "SHA-256 (manifest)"],
            rows,
            [36 * mm, 13 * mm, 20 * mm, 45 * mm, WIDTH - 114 * mm],
        )
    ]


EDGE_APPENDIX = "Appendix: lineage edges"
# Box fill per node type (the dashboard's palette, paler for print) and border per state:
# colour is never the only signal, each box also says its type and state in words.
TYPE_FILL = {
    "dataset": "#e6eef8",
    "config": "#efe8f5",
    "checkpoint": "#e8f3ee",
    "eval": "#fbf1e3",
    "model": "#e9ecef",
}
STATE_STROKE = {
    "computed": "#2f6f4e",
    "pending": "#b7791f",
    "gap": "#b3261e",
    "group": "#6b7785",
}
GRAPH_MAX_HEIGHT = 215 * mm  # the drawing fits a page below its heading
LAYER_GAP = 7 * mm


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text` cut with an ellipsis to `width` (the full value is in the tables)."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, font: str, size: float, width: float, most: int) -> list[str]:
    """`text` in at most `most` lines of `width`, broken between its " · " parts, the
    last cut with an ellipsis where it is still too long."""
    lines: list[str] = []
    for part in text.split(" · "):
        if lines and stringWidth(lines[-1] + " · " + part, font, size) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    if len(lines) > most:
        lines = [*lines[: most - 1], " · ".join(lines[most - 1 :])]
    return [_fit(line, font, size, width) for line in lines]


def _box_lines(n: lineage_view.ViewNode, width: float) -> list[tuple[str, str, float, str]]:
    """(text, font, size, colour) per line of a node's box."""
    kind = lineage_view.TYPE_LABEL.get(n.type, n.type)
    lines = [(kind.upper(), "Helvetica-Bold", 5.5, "#44505c"), (n.label, "Helvetica", 6.5, "#111")]
    lines += [(t, "Helvetica", 5.5, "#333") for t in _wrap(n.detail, "Helvetica", 5.5, width, 2)]
    if n.hash_short:
        lines.append((n.hash_short, "Courier", 5.5, "#333"))
    if n.warning:
        lines += [
            (t, "Helvetica-Bold", 5.5, STATE_STROKE["gap"])
            for t in _wrap(n.warning, "Helvetica-Bold", 5.5, width, 2)
        ]
    lines.append((n.state_text, "Helvetica-Oblique", 5.5, STATE_STROKE[n.state]))
    return [line for line in lines if line[0]]


def lineage_drawing(view: lineage_view.View) -> Drawing:
    """The view laid out left to right (layered.py) and drawn: a box per node with its
    type, id, detail, short hash and state; an arrow per edge."""
    partition = {n.id: lineage_view.TYPE_ORDER.index(n.type) for n in view.nodes}
    probe = layered.layout(
        [n.id for n in view.nodes], view.edges, {n.id: (1, 1) for n in view.nodes}, partition
    )
    columns = max(1, len(probe.layers))
    box_w = min(46 * mm, (WIDTH - (columns - 1) * LAYER_GAP) / columns)
    lines = {n.id: _box_lines(n, box_w - 4) for n in view.nodes}
    size = {n.id: (box_w, 4 + 7.0 * len(lines[n.id])) for n in view.nodes}
    laid = layered.layout(
        [n.id for n in view.nodes], view.edges, size, partition, LAYER_GAP, 3 * mm
    )
    scale = min(1.0, GRAPH_MAX_HEIGHT / max(laid.height, 1.0))
    d = Drawing(WIDTH, laid.height * scale + 2)
    g = Group()
    top = laid.height + 1

    def y(v: float) -> float:
        return top - v

    for route in laid.routes:
        pts = [(px, y(py)) for px, py in route.points]
        g.add(
            PolyLine(
                [c for p in pts for c in p],
                strokeColor=colors.HexColor("#7b8794"),
                strokeWidth=0.6,
            )
        )
        (x1, y1), (x2, y2) = pts[-2], pts[-1]
        if (x1, y1) != (x2, y2):  # an arrowhead at the target's left side
            length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            head = [
                x2,
                y2,
                x2 - 4 * ux - 1.8 * uy,
                y2 - 4 * uy + 1.8 * ux,
                x2 - 4 * ux + 1.8 * uy,
                y2 - 4 * uy - 1.8 * ux,
            ]
            g.add(Polygon(head, fillColor=colors.HexColor("#7b8794"), strokeWidth=0))
    for n in view.nodes:
        b = laid.boxes[n.id]
        rect = Rect(
            b.x,
            y(b.y + b.height),
            b.width,
            b.height,
            rx=2,
            ry=2,
            fillColor=colors.HexColor(TYPE_FILL.get(n.type, "#ffffff")),
            strokeColor=colors.HexColor(STATE_STROKE[n.state]),
            strokeWidth=1.1 if n.state in ("pending", "gap") else 0.7,
        )
        if n.state == "group":
            rect.strokeDashArray = [2, 1.5]
        g.add(rect)
        ty = y(b.y) - 2
        for text, font, fs, colour in lines[n.id]:
            ty -= 7
            shown = _fit(text, font, fs, b.width - 4)
            g.add(
                String(
                    b.x + 2,
                    ty + 1,
                    shown,
                    fontName=font,
                    fontSize=fs,
                    fillColor=colors.HexColor(colour),
                )
            )
    g.scale(scale, scale)
    d.add(g)
    return d


def _flagged(report: Report) -> list[str]:
    return sorted(
        {
            str(f["subject"])
            for f in report.findings
            if f.get("resolved_at") is None and f.get("subject")
        }
    )


def _graph(report: Report, _t: ExportTemplate) -> list[Any]:
    view = lineage_view.build(report.graph, _flagged(report))
    total = f"{view.total_nodes:,} nodes and {view.total_edges:,} edges"
    if view.elided:
        note = (
            f"The run's lineage ({total}) drawn as an overview: "
            f"{lineage_view.folded_text(view)} are folded into the dashed group boxes; "
            "kept are every dataset, configuration and model, the first and last "
            "checkpoint, the model's, any not hashed or with an open finding, and the "
            f"latest evaluation per benchmark. Every edge is listed in '{EDGE_APPENDIX}' "
            "and in the embedded JSON package."
        )
    else:
        note = (
            f"The run's lineage, {total}, left to right: datasets and configuration, "
            "checkpoints, evaluations, model. Each box gives the node's type, id, short "
            "hash and hash state (full hashes in the tables)."
        )
    return [_p(note, SMALL), lineage_drawing(view)]  # the heading keeps both with it


def _edge_appendix(report: Report) -> list[Any]:
    """Every edge, by target, when the drawing folded some nodes (else it shows them all)."""
    view = lineage_view.build(report.graph, _flagged(report))
    if not view.elided:
        return []
    parents: dict[str, list[str]] = {}
    for e in report.graph["edges"]:
        parents.setdefault(str(e["to"]), []).append(str(e["from"]))
    types = {str(n["id"]): str(n["type"]) for n in report.graph["nodes"]}
    rows = [[to, types.get(to, ""), ", ".join(froms)] for to, froms in parents.items()]
    return [
        _p(
            f"All {len(report.graph['edges']):,} edges of the lineage graph, one row per "
            "node with the nodes it came from, in the order lineage recorded them.",
            SMALL,
        ),
        _table(["node", "type", "from"], rows, [45 * mm, 20 * mm, WIDTH - 65 * mm]),
    ]


def _findings(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [
            f["kind"],
            f["subject"],
            f["opened_at"],
            f["resolved_at"] or "open",
            json.dumps(f["resolution"] or f["detail"], sort_keys=True),
        ]
        for f in report.findings
    ]
    return [_table(["kind", "subject", "opened", "resolved", "detail"], rows)]


def _annotations(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [a["node_id"], f"{a['author']['name']} ({a['author']['role']})", a["time"], a["text"]]
        for a in report.annotations
    ]
    out: list[Any] = [
        _table(
            ["node", "reviewer", "time", "note"], rows, [28 * mm, 35 * mm, 35 * mm, WIDTH - 98 * mm]
        )
    ]
    for a in report.annotations:
        digest = statement_sha256(a)
        if digest:
            out.append(
                _p(
                    f"{a['author']['name']} reviewed {a['node_id']} at {a['time']} with key "
                    f"{a.get('author_key_id') or 'not recorded'}. Signed statement (workspace "
                    f"key): {digest}.",
                    SMALL,
                )
            )
    return out


def _approvals(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [a["decision"], a["reviewer"]["name"], a["reviewer"]["role"], a["time"], a["comment"] or ""]
        for a in report.approvals
    ]
    out: list[Any] = [_table(["decision", "reviewer", "role", "timestamp", "comment"], rows)]
    for a in report.approvals:
        reviewed = a.get("reviewed_chain")
        on = f"on chain length {reviewed['length']}" if reviewed else "on an unrecorded chain"
        counted = f" Not counted at the seal: {a['stale_reason']}." if a.get("stale") else ""
        digest = statement_sha256(a)
        signed = f" Signed statement (workspace key): {digest}." if digest else ""
        out.append(
            _p(
                f"{a['reviewer']['name']} ({a['reviewer']['role']}) {a['decision']} at "
                f"{a['time']} with key {a.get('reviewer_key_id') or 'not recorded'}, {on}."
                f"{counted}{signed}"
            )
        )
    return out


def _seal(report: Report, _t: ExportTemplate) -> list[Any]:
    s = report.seal
    return [
        _p(
            "This run is AUDIT_SEALED: its event chain is fixed at the head below. The package "
            "file's SHA-256 is signed, with the chain head, every dataset root and the final "
            "model hash, in an in-toto statement in a DSSE envelope (the .dsse.json beside this "
            "file) by the workspace's Ed25519 seal key. Verify offline with "
            "`cognify verify-package FILE`.",
            SMALL,
        ),
        _kv(
            [
                ("seal event", s.event_id),
                ("sealed at", s.sealed_at),
                ("sealed by", s.sealed_by),
                ("chain head", s.chain_head),
                ("events sealed", s.event_count),
                ("workspace seal key", s.key_id),
            ]
        ),
        *_model_signature(report),
    ]


def _model_signature(report: Report) -> list[Any]:
    """The sealed model's OpenSSF Model Signing signature (the JSON package's
    `model.oms_signature`): where it is stored, its SHA-256 (signed in the statement above)
    and how anyone checks the model directory with `model_signing` itself."""
    sig = report.model_signature
    if sig is None:
        return [
            _p(
                "Model signature: none. The seal signs the final model in the OpenSSF Model "
                "Signing format only when the hasher listed its files (an SDK-reported hash "
                "or a recorded gap gets none).",
                SMALL,
            )
        ]
    name = sig.object_key.rsplit("/", 1)[-1]
    ws = report.run["workspace_id"]
    block = [
        _p(
            "The final model is signed in the OpenSSF Model Signing v1.0 format (Sigstore "
            "bundle, DSSE, ECDSA P-256) by the workspace's OMS key; the bundle's SHA-256 is "
            "part of the package's signed statement (the seal key's DSSE envelope).",
            SMALL,
        ),
        _kv(
            [
                ("model", sig.model_id),
                ("signature object", sig.object_key),
                ("signature SHA-256", sig.sha256),
                ("OMS key hint", sig.key_hint),
                ("files signed", sig.files),
            ]
        ),
        _p(
            "Verify the model directory with the workspace's OMS public key (GET "
            f"/v1/workspaces/{ws}/oms-key, or `cognify model-signature --run-id "
            f"{report.run['run_id']} --workspace {ws} --output-dir DIR`, which downloads "
            "both) and model_signing (PyPI model-signing); it accepts the directory as sealed "
            "and refuses a changed, added or removed file:",
            SMALL,
        ),
        _p(
            f"model_signing verify key MODEL_DIR --signature {name} --public_key {ws}.oms.pub.pem",
            MONO,
        ),
    ]
    return [KeepTogether(block)]  # never its table on one page and the command on the next


def _model_id(report: Report, _t: ExportTemplate) -> list[Any]:
    c = report.configs[0] if report.configs else {}
    method = "PEFT / LoRA" if c.get("peft_config") else "full fine-tuning"
    return [
        _kv(
            [
                ("model", report.model["id"] if report.model else NOT_SUPPLIED),
                ("model hash", report.model["hash"] if report.model else NOT_SUPPLIED),
                ("architecture", c.get("model_type") or NOT_SUPPLIED),
                ("parameters", c.get("parameter_count") or NOT_SUPPLIED),
                ("fine-tuning method", method),
            ]
        )
    ]


def _training_data(report: Report, t: ExportTemplate) -> list[Any]:
    rows = [
        [
            d["id"],
            d["record_count"],
            d["hash"],
            d.get("source_version") or "",
            str(d["provenance"].get("source_system") or NOT_SUPPLIED),
            str(d["provenance"].get("deidentification_method") or NOT_SUPPLIED),
            str(d["provenance"].get("authorized_use") or NOT_SUPPLIED),
        ]
        for d in report.datasets
    ]
    widths = [22 * mm, 14 * mm, 41 * mm, 28 * mm, 22 * mm, 24 * mm, WIDTH - 151 * mm]
    header = ["dataset", "records", "root", "source version", "source system"]
    header += ["de-identification", "authorised use"]
    return [_table(header, rows, widths)]


def _limitations(report: Report, _t: ExportTemplate) -> list[Any]:
    out = _org(report, "known_limitations", "Known limitations (workspace)")
    notes = report.notes or [f"{NOT_SUPPLIED} (no evaluation notes recorded)"]
    return [*out, _p("Run notes: " + " / ".join(notes))]


def _restrictions(report: Report, _t: ExportTemplate) -> list[Any]:
    return _org(report, "deployment_restrictions", "Deployment restrictions") + _org(
        report, "acceptable_use_policy", "Acceptable use policy"
    )


def _access(report: Report, _t: ExportTemplate) -> list[Any]:
    rows = [
        [
            a["time"],
            a["actor"],
            a["role"],
            a["action"],
            a["address"] or "unknown",
            "allowed" if a["allowed"] else "refused",
        ]
        for a in report.access
    ]
    started = report.run["started_by"] or NOT_SUPPLIED
    host = report.run.get("host") or report.system.get("host") or NOT_SUPPLIED
    return [
        _p(f"Run started by {started} on host {host}.", SMALL),
        _table(["time", "who", "role", "action", "from", "outcome"], rows),
    ]


SECTION_RENDERERS = {
    "Run summary": _summary,
    "Dataset provenance": _datasets,
    "Hyperparameters": _hyperparameters,
    "Training metrics": _metrics,
    "Appendix: full configuration": _full_configuration,
    "Evaluation results": _evals,
    "Checkpoint inventory": _checkpoints,
    "Lineage graph": _graph,
    "Findings": _findings,
    "Annotations": _annotations,
    "Approval record": _approvals,
    "Seal certificate": _seal,
    "Model identification": _model_id,
    "Training data description": _training_data,
    "Performance on standard benchmarks": _evals,
    "Known limitations and failure modes": _limitations,
    "Deployment restrictions and acceptable use policy": _restrictions,
    "PHI data handling attestation": lambda r, t: _org(r, "phi_handling", "PHI handling"),
    "Access control log": _access,
    "Encryption-at-rest attestation": lambda r, t: _org(
        r, "encryption_at_rest", "Encryption at rest for checkpoint storage"
    ),
    "Incident response cross-reference": lambda r, t: _org(
        r, "incident_policy_url", "Incident policy"
    ),
    "Intended use statement": lambda r, t: _org(r, "intended_use", "Intended use"),
    "Training data provenance attestation": _training_data,
    "Training configuration": _hyperparameters,
    "Evaluation results by benchmark": _evals,
    "Known limitations": _limitations,
}
