"""What each compliance template says, field by field, and where each answer comes from
(pure). Every format renders these same fields: the PDF as cited tables, the JSON
package as `compliance`, the workbook as a sheet.

A field is filled from lineage (the sealed run's events and projection) or from the
organisation's documentation (orgdocs.py, with its version and who set it), and cites
that source; what neither holds is "not supplied", with the command that supplies it.
Nothing here is invented or defaulted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cognify_events import ExportTemplate

from . import encryption
from .report import Report
from .templates import NOT_SUPPLIED

LINEAGE = "lineage"


@dataclass(frozen=True)
class Cited:
    label: str
    value: str
    source: str

    @property
    def supplied(self) -> bool:
        return not self.value.startswith(NOT_SUPPLIED)

    def json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class Point:
    title: str
    fields: list[Cited]


def org(report: Report, name: str, label: str) -> Cited:
    value = report.orgdocs.fields.get(name)
    if value is None:
        hint = f"{NOT_SUPPLIED} — set it with `cognify-admin docs set {name} ...`"
        return Cited(label, hint, "organisation documentation")
    return Cited(label, value.text, value.source())


def lin(label: str, value: Any, where: str) -> Cited:
    text = "none recorded" if value in (None, "", []) else str(value)  # lineage holds none
    return Cited(label, text, f"{LINEAGE}: {where}")


def _config(report: Report) -> dict[str, Any]:
    return report.configs[0] if report.configs else {}


def _model(report: Report) -> list[Cited]:
    c, m = _config(report), report.model or {}
    method = "PEFT / LoRA" if c.get("peft_config") else ("full fine-tuning" if c else None)
    return [
        lin("run", f"{report.run['name'] or report.run['run_id']} ({report.run['run_id']})", "run"),
        lin("model", m.get("id"), "model node"),
        lin("model hash", m.get("hash"), "model node (checkpoint-manifest-v1)"),
        lin("architecture", c.get("model_type"), "run.config_captured"),
        lin("parameters", c.get("parameter_count"), "run.config_captured"),
        lin("fine-tuning method", method, "run.config_captured peft_config"),
    ]


def _data(report: Report) -> list[Cited]:
    out = []
    for d in report.datasets:
        facts = [
            f"role {d.get('role')}",
            f"{d.get('record_count')} records",
            f"schema {d.get('schema_version') or NOT_SUPPLIED}",
            f"root {d.get('hash') or d.get('hash_status')}",
        ]
        if d.get("source_version"):
            facts.append(f"source version {d['source_version']}")
        out.append(lin(d["id"], ", ".join(facts), "dataset node, dataset.registered"))
    return out or [lin("datasets", None, "dataset nodes")]


def _tests(report: Report) -> list[Cited]:
    s = report.seal
    out = []
    for e in report.evaluations:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in sorted(e["metrics"].items()))
        ckpt = e.get("checkpoint_id") or "no checkpoint (evaluated before any was saved)"
        match = e.get("checkpoint_match")
        if match == "earlier_step":
            ckpt += " (weights at this step were not saved; descends from it)"
        what = f"step {e.get('step')} on {ckpt}: {metrics}; recorded {e['time']}, hash {e['hash']}"
        out.append(lin(f"test report {e['id']}", what, "eval node, evaluation.recorded"))
    signed = f"signed by seal key {s.key_id} at {s.sealed_at} (seal {s.event_id})"
    out.append(lin("test reports signed, dated", signed, "run.sealed, seal certificate"))
    return out


def _approvals(report: Report) -> Cited:
    rows = [
        f"{a['decision']} by {a['reviewer']['name']} ({a['reviewer']['role']}) at {a['time']}"
        for a in report.approvals
    ]
    return lin("human review of this run", "; ".join(rows), "run.approved / run.rejected")


def _changes(report: Report) -> list[Cited]:
    changed = [f for f in report.findings if f["kind"] == "dataset-changed"]
    gaps = report.run.get("sequence_gaps") or []
    return [
        lin("checkpoints saved", len(report.checkpoints), "checkpoint nodes"),
        lin(
            "configurations",
            ", ".join(f"{c['id']} {c['hash']}" for c in report.configs),
            "config nodes",
        ),
        Cited(
            "dataset changes",
            "; ".join(f"{f['subject']}: {f['resolution'] or 'undocumented'}" for f in changed)
            or "none recorded",
            f"{LINEAGE}: dataset-changed findings",
        ),
        Cited(
            "sequence gaps",
            ", ".join(f"{g['from']}-{g['to']}" for g in gaps) or "none",
            f"{LINEAGE}: run",
        ),
    ]


def eu_ai_act(report: Report) -> list[Point]:
    """Annex IV (Article 11): the nine points of the technical documentation."""
    names = sorted({k for e in report.evaluations for k in e["metrics"]})
    limits = org(report, "known_limitations", "known limitations and failure modes")
    notes = lin("run notes", " / ".join(report.notes), "evaluation.recorded notes")
    return [
        Point(
            "1. General description of the AI system",
            [org(report, "intended_use", "intended purpose"), *_model(report)],
        ),
        Point(
            "2. Development process, data and testing",
            [
                org(report, "data_source_categories", "data source categories"),
                *_data(report),
                *_tests(report),
            ],
        ),
        Point(
            "3. Monitoring, functioning and control",
            [
                org(report, "human_oversight", "human oversight measures"),
                limits,
                notes,
                org(report, "deployment_restrictions", "deployment restrictions"),
                org(report, "acceptable_use_policy", "acceptable use policy"),
                _approvals(report),
            ],
        ),
        Point(
            "4. Appropriateness of the performance metrics",
            [lin("metrics evaluated", ", ".join(names), "eval nodes")],
        ),
        Point(
            "5. Risk management system",
            [org(report, "risk_management", "risk management system (reference)")],
        ),
        Point("6. Changes through the lifecycle", _changes(report)),
        Point(
            "7. Standards and specifications applied",
            [org(report, "standards_applied", "harmonised standards / specifications")],
        ),
        Point(
            "8. EU declaration of conformity",
            [org(report, "declaration_of_conformity", "declaration of conformity")],
        ),
        Point(
            "9. Post-market monitoring plan",
            [org(report, "post_market_monitoring", "post-market monitoring plan")],
        ),
    ]


def phi(report: Report) -> list[Cited]:
    out = [org(report, "phi_handling", "PHI handling statement")]
    for d in report.datasets:
        p = d.get("provenance") or {}
        method = p.get("deidentification_method")
        text = (
            f"de-identified: {method}" if method else f"{NOT_SUPPLIED} (no deidentification_method)"
        )
        if p.get("authorized_use"):
            text += f"; authorised use: {p['authorized_use']}"
        if p.get("contains_phi") is not None:
            text += f"; contains PHI: {p['contains_phi']}"
        out.append(lin(f"dataset {d['id']}", text, "dataset.registered provenance"))
    return out


START_ACTION = "run.start"  # ingest's record of the key that wrote run.started


def starter(report: Report) -> list[Cited]:
    """Who started the run: the person, host and time the SDK put in `run.started`, and the
    key and address ingest recorded for that very event (`run.start`, written when ingest
    verified its signature: the key that wrote it, and the address of the HTTP request it
    came in, if any). Never another event's writer: a later write by another key is not
    who started the run."""
    r, system = report.run, report.system
    start = next((a for a in report.access if a["action"] == START_ACTION), None)
    source = "access.recorded run.start by ingest (the key that wrote run.started)"
    if start is None:
        key = address = None
    else:
        key = f"{start['actor']} ({start['role']})"
        address = start.get("address") or (
            "none seen by ingest: run.started came through Kafka, which shows ingest no "
            "client address"
        )
    return [
        lin("run started by", r.get("started_by"), "run.started started_by (SDK)"),
        lin("with key", key, source),
        lin("at", r.get("started_at"), "run.started time (SDK)"),
        lin("host", r.get("host") or system.get("host"), "run.started / run.system_info host"),
        lin("from address", address, source),
    ]


def encryption_at_rest(report: Report) -> list[Cited]:
    """What the S3 API states for each bucket holding the run's packages or checkpoints
    (encryption.py); the organisation's typed statement only where the API said nothing,
    labelled as typed."""
    readings = list(report.encryption)
    out = [Cited(f"bucket {r.bucket} ({r.holds})", r.stated(), r.source) for r in readings]
    _, local = encryption.buckets("", [*report.checkpoints, report.model or {}])
    if local:
        shown = ", ".join(local[:3]) + (f" and {len(local) - 3} more" if len(local) > 3 else "")
        out.append(
            lin(
                "checkpoints on local storage",
                f"{len(local)} path(s) not on object storage ({shown}): no S3 API states "
                "their encryption",
                "checkpoint and model nodes, path",
            )
        )
    silent = not readings or local or any(r.algorithm is None for r in readings)
    if silent:
        typed = org(report, "encryption_at_rest", "encryption-at-rest statement")
        why = (
            "typed; the storage configuration was not read for this package"
            if not readings
            else "typed, used because the S3 API did not state the encryption of all of it"
        )
        out.append(Cited(f"{typed.label} ({why})", typed.value, typed.source))
    return out


def hipaa(report: Report) -> list[Point]:
    """45 CFR §164.312 technical safeguards, as far as the training run documents them."""
    s = report.seal
    integrity = [
        lin("event chain head", s.chain_head, "event store hash chain"),
        lin("events sealed", s.event_count, "run.sealed"),
        lin("seal", f"{s.event_id} by {s.sealed_by} at {s.sealed_at}", "run.sealed"),
    ]
    roots = [lin(f"{d['id']} root", d.get("hash"), "dataset Merkle root") for d in report.datasets]
    return [
        Point("PHI data handling attestation", phi(report)),
        Point("§164.312(a) Access control", starter(report)),
        Point(
            "§164.312(b) Audit controls",
            [lin("access records of this run", len(report.access), "access.recorded")],
        ),
        Point("§164.312(c) Integrity", [*integrity, *roots]),
        Point(
            "§164.312(d) Person or entity authentication",
            [
                # the key is what authenticated the start (its signature), not the name
                # the SDK reported
                next(f for f in starter(report) if f.label == "with key"),
                _approvals(report),
            ],
        ),
        Point(
            "§164.312(a)(2)(iv) Encryption at rest (checkpoint storage)",
            encryption_at_rest(report),
        ),
        Point(
            "Incident response cross-reference",
            [org(report, "incident_policy_url", "incident policy URL")],
        ),
    ]


def healthcare(report: Report) -> list[Point]:
    limits = org(report, "known_limitations", "known limitations")
    notes = lin("run notes", " / ".join(report.notes), "evaluation.recorded notes")
    return [
        Point("Model identification", _model(report)),
        Point("Intended use statement", [org(report, "intended_use", "intended use")]),
        Point("Training data provenance attestation", [*_data(report), *phi(report)]),
        Point("Known limitations", [limits, notes]),
        Point(
            "Human oversight",
            [org(report, "human_oversight", "human oversight"), _approvals(report)],
        ),
    ]


def points(report: Report, template: ExportTemplate) -> list[Point]:
    match template:
        case ExportTemplate.EU_AI_ACT:
            return eu_ai_act(report)
        case ExportTemplate.HIPAA:
            return hipaa(report)
        case ExportTemplate.HEALTHCARE:
            return healthcare(report)
        case _:
            return []


def json(report: Report, template: ExportTemplate) -> list[dict[str, Any]]:
    return [
        {"title": p.title, "fields": [f.json() for f in p.fields]} for p in points(report, template)
    ]
