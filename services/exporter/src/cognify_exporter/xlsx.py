"""The `xlsx` package: one sheet per type (datasets, configs, checkpoints, eval metrics),
plus the run, approvals, seal, the template's cited fields and the organisation
documentation version used, as deterministic bytes (pure).

XlsxWriter writes every zip member with a fixed date; the document's creation time is set
to the seal's time, so the same sealed run gives byte-identical workbooks.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import xlsxwriter
from cognify_events import ExportTemplate

from . import compliance
from .approvals import statement_sha256
from .figures import nonfinite_results
from .report import Report


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def render(report: Report, template: ExportTemplate) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sealed = datetime.fromisoformat(report.seal.sealed_at.replace("Z", "+00:00"))
    book.set_properties(
        {
            "title": f"Cognify audit package: {report.run['run_id']}",
            "subject": f"template {template.value}",
            "author": "Cognify exporter",
            "created": sealed.replace(tzinfo=None),
        }
    )
    bold = book.add_format({"bold": True})

    def sheet(name: str, header: list[str], rows: list[list[Any]]) -> None:
        ws = book.add_worksheet(name)
        ws.write_row(0, 0, header, bold)
        for i, row in enumerate(rows, start=1):
            ws.write_row(i, 0, [_cell(v) for v in row])
        ws.freeze_panes(1, 0)
        for col, title in enumerate(header):
            ws.set_column(col, col, max(12, min(60, len(title) + 4)))

    r = report.run
    sheet(
        "run",
        ["field", "value"],
        [[k, r[k]] for k in sorted(r)] + [["template", template.value]],
    )
    sheet(
        "datasets",
        [
            "dataset_id",
            "name",
            "version",
            "role",
            "source_uri",
            "source_version",
            "record_count",
            "hash",
            "hash_status",
            "hash_error",
            "provenance",
        ],
        [
            [
                d["id"],
                d["name"],
                d["version"],
                d["role"],
                d["source_uri"],
                d.get("source_version"),
                d["record_count"],
                d["hash"],
                d["hash_status"],
                d.get("hash_error"),
                d["provenance"],
            ]
            for d in report.datasets
        ],
    )
    config_rows = []
    for c in report.configs:
        config_rows.append([c["id"], "(config hash)", c["hash"]])
        for key in (
            "model_type",
            "parameter_count",
            "trainable_parameter_count",
            "optimizer",
            "lr_scheduler",
            "trainer_class",
            "peft_config",
        ):
            config_rows.append([c["id"], key, c.get(key)])
        for key, value in sorted((c.get("training_args") or {}).items()):
            config_rows.append([c["id"], f"training_args.{key}", value])
    sheet("configs", ["config_id", "parameter", "value"], config_rows)
    sheet(
        "checkpoints",
        [
            "checkpoint_id",
            "step",
            "path",
            "source_version",
            "total_bytes",
            "files",
            "hash",
            "hash_status",
            "hash_error",
        ],
        [
            [
                c["id"],
                c["step"],
                c["path"],
                c.get("source_version"),
                c["total_bytes"],
                c["files"],
                c["hash"],
                c["hash_status"],
                c.get("hash_error"),
            ]
            for c in report.checkpoints
        ],
    )
    # a result that was not finite (NaN, an infinity) is a row too, its value the text
    # "nan", "inf" or "-inf" and `finite` "no": never silently missing (figures.py)
    nonfinite = nonfinite_results(report)
    sheet(
        "eval metrics",
        [
            "eval_id",
            "source",
            "benchmark",
            "benchmark_version",
            "step",
            "checkpoint_id",
            "metric",
            "value",
            "eval_hash",
            "finite",
        ],
        [
            [
                e["id"],
                e["source"],
                e["benchmark_name"],
                e["benchmark_version"],
                e["step"],
                e["checkpoint_id"],
                name,
                value,
                e["hash"],
                "no" if isinstance(value, str) else "yes",
            ]
            for e in report.evaluations
            for name, value in sorted({**e["metrics"], **nonfinite.get(e["id"], {})}.items())
        ],
    )
    # training metrics logged as NaN or an infinity: no points anywhere else, so a sheet
    # of their own (the JSON package's `nonfinite_metrics`)
    sheet(
        "nonfinite metrics",
        ["metric", "first_step", "first_value", "last_step", "last_value", "count"],
        [
            [n, m["first_step"], m["first_value"], m["last_step"], m["last_value"], m["count"]]
            for n, m in sorted(report.nonfinite_metrics.items())
        ],
    )
    sheet(
        "approvals",
        [
            "decision",
            "reviewer",
            "role",
            "time",
            "comment",
            "key id",
            "reviewed chain length",
            "counted at the seal",
            "signed statement sha256",
        ],
        [
            [
                a["decision"],
                a["reviewer"]["name"],
                a["reviewer"]["role"],
                a["time"],
                a["comment"],
                a.get("reviewer_key_id"),
                (a.get("reviewed_chain") or {}).get("length"),
                "no: " + a["stale_reason"] if a.get("stale") else "yes",
                statement_sha256(a),
            ]
            for a in report.approvals
        ],
    )
    sheet("seal", ["field", "value"], [[k, v] for k, v in sorted(report.seal.json().items())])
    # the template's own sections, field by field with their sources (compliance.py), and
    # the organisation documentation version used (orgdocs.py)
    sheet(
        "compliance",
        ["section", "item", "value", "source"],
        [
            [p.title, f.label, f.value, f.source]
            for p in compliance.points(report, template)
            for f in p.fields
        ],
    )
    docs = report.orgdocs
    sheet(
        "documentation",
        ["field", "text", "version", "set_by", "set_at", "event_id"],
        [
            [k, v.text, v.version, v.set_by, v.set_at, v.event_id]
            for k, v in sorted(docs.fields.items())
        ]
        + [["(document)", None, docs.version, docs.updated_by, docs.updated_at, docs.event_id]],
    )
    book.close()
    return out.getvalue()
