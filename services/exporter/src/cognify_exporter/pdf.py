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
from reportlab.graphics.shapes import Drawing, Group, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from . import pdfa
from .approvals import statement_sha256
from .compliance import points as compliance_points
from .figures import Family, families, key_hyperparameters
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


def render(report: Report, template: ExportTemplate) -> bytes:
    out = io.BytesIO()
    r, seal = report.run, report.seal
    doc = SimpleDocTemplate(
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

    def footer(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        # Two lines: the chain head is 71 characters and would run into the page number.
        canvas.drawString(18 * mm, 12 * mm, f"{r['run_id']} · sealed {seal.sealed_at}")
        canvas.drawString(18 * mm, 8.5 * mm, f"chain head {seal.chain_head}")
        canvas.drawRightString(A4[0] - 18 * mm, 8.5 * mm, f"page {canvas.getPageNumber()}")
        canvas.restoreState()

    story: list[Any] = [
        _p(f"Audit package: {r['name'] or r['run_id']}", H1),
        _p(
            f"Template <b>{template.value}</b> · run {r['run_id']} · workspace "
            f"{r['workspace_id']} · project {r['project']}".replace("<b>", "").replace("</b>", "")
        ),
        _p("Sections: " + ", ".join(sections(template)), SMALL),
        Spacer(1, 3 * mm),
        *_verdict(report),
        Spacer(1, 4 * mm),
    ]
    for title in sections(template):
        block = _section(report, template, title)
        story.append(KeepTogether([_p(title, H2), *block[:2]]))
        story.extend(block[2:])
        story.append(Spacer(1, 3 * mm))
    pdfa.embed_fonts()  # PDF/A: every font embedded (docs/decisions/pdfa.md)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
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
    return [_p("Summary", H2), _kv(pairs)]


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
        ("host", report.system.get("host")),
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
            [26 * mm, 22 * mm, 12 * mm, 14 * mm, 28 * mm, 30 * mm, WIDTH - 132 * mm],
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
    if not report.metrics and not report.evaluations:
        return [_p("No training metrics were logged.")]
    charts, runtime = families(report.metrics, report.evaluations)
    out: list[Any] = [_family_chart(f) for f in charts]
    if runtime:
        rows = [[n, c, f"{last:.6g}", f"{lo:.6g}", f"{hi:.6g}"] for n, c, last, lo, hi in runtime]
        out += [
            _p("Runtime and throughput figures (as logged):", SMALL),
            _table(["metric", "points", "last", "min", "max"], rows),
        ]
    return out


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
            f"{value:.6g}",
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
        for name, value in sorted(e["metrics"].items())
    ]
    return [
        _p(
            "Results per benchmark and benchmark version, linked to the checkpoint evaluated.",
            SMALL,
        ),
        _table(["eval", "source", "benchmark", "step", "checkpoint", "metric", "value"], rows),
    ]


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


def _graph(report: Report, _t: ExportTemplate) -> list[Any]:
    edges = [[e["from"], e["to"]] for e in report.graph["edges"]]
    return [
        _p(f"{len(report.graph['nodes'])} nodes, {len(edges)} edges.", SMALL),
        _table(["from", "to"], edges),
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
    ]


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
    return [
        _p(f"Run started by {started} on host {report.system.get('host', NOT_SUPPLIED)}.", SMALL),
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
