"""The `cyclonedx` package: a CycloneDX 1.6 ML-BOM of the sealed run (pure: bytes out).

What a tool that knows CycloneDX and nothing of Cognify can read (docs/spec/package.md,
"The CycloneDX package"): the final model as a `machine-learning-model` component with its
model card, each checkpoint as one too, each dataset as a `data` component whose hash is its
Merkle root, the training run as `formulation` (a workflow from datasets and configuration
to model), and `declarations` mapping each point of EU AI Act Annex IV to claims and the
hashes that evidence them, or saying it was not supplied and where to supply it.

Deterministic: the serial number is a UUIDv5 of the workspace, run, chain head and template,
the timestamp is the seal's, and keys are sorted, so the same sealed run gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from cognify_events import ExportTemplate

from .approvals import statement_sha256
from .report import Report

SPEC_VERSION = "1.6"
NAMESPACE = uuid.UUID("5f6b8a1e-4c1d-5c2e-9a57-636f676e6966")  # Cognify's UUIDv5 namespace
STANDARD_REF = "standard:eu-ai-act-annex-iv"
NOT_SUPPLIED = "not supplied"
Json = Any

# Annex IV of Regulation (EU) 2024/1689: its nine points, in order.
ANNEX_IV = (
    ("1", "General description of the AI system"),
    ("2", "Detailed description of the elements and of the process of its development"),
    ("3", "Monitoring, functioning and control of the AI system"),
    ("4", "Appropriateness of the performance metrics"),
    ("5", "Risk management system"),
    ("6", "Relevant changes made through the lifecycle"),
    ("7", "Harmonised standards or other specifications applied"),
    ("8", "EU declaration of conformity"),
    ("9", "Post-market monitoring plan"),
)
# Organisation documentation fields (cognify_events.DocField) that evidence a point: each
# one supplied is evidence, by the SHA-256 of its text.
DOC_EVIDENCE: dict[str, tuple[str, ...]] = {
    "1": ("intended_use", "acceptable_use_policy", "deployment_restrictions"),
    "2": ("data_source_categories",),
    "3": ("human_oversight", "known_limitations"),
    "5": ("risk_management",),
    "7": ("standards_applied",),
    "8": ("declaration_of_conformity",),
    "9": ("post_market_monitoring", "incident_policy_url"),
}


def _hex(h: str | None) -> str | None:
    """The hex digest of a `sha256:<hex>` hash (None where none was computed)."""
    if not h or not h.startswith("sha256:") or len(h) != 71:
        return None
    return h[7:]


def _hashes(h: str | None) -> list[Json]:
    hx = _hex(h)
    return [{"alg": "SHA-256", "content": hx}] if hx else []


def _props(pairs: Iterable[tuple[str, Any]]) -> list[Json]:
    return [
        {"name": f"cognify:{k}", "value": v if isinstance(v, str) else json.dumps(v)}
        for k, v in pairs
        if v is not None and v != ""
    ]


def _ref(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def _docs(report: Report, names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(n, report.documentation[n]) for n in names if report.documentation.get(n)]


def _model_component(report: Report) -> Json:
    model = report.model or {}
    ident = str(model.get("id") or f"{report.run['run_id']}-model")
    configs = report.configs
    cfg = configs[-1] if configs else {}
    evals = [
        {
            "type": str(name),
            "value": json.dumps(value),
            "slice": f"{e.get('benchmark_name') or e.get('source') or 'eval'} at step "
            f"{e.get('step')}",
        }
        for e in report.evaluations
        for name, value in sorted((e.get("metrics") or {}).items())
    ]
    considerations: dict[str, Json] = {}
    if report.documentation.get("intended_use"):
        considerations["useCases"] = [report.documentation["intended_use"]]
    if report.documentation.get("known_limitations"):
        considerations["technicalLimitations"] = [report.documentation["known_limitations"]]
    if report.documentation.get("deployment_restrictions"):
        considerations["users"] = [report.documentation["deployment_restrictions"]]
    card: dict[str, Json] = {
        "bom-ref": _ref("modelcard", ident),
        "modelParameters": {
            "approach": {"type": "supervised"},
            "architectureFamily": str(cfg.get("model_type") or "unknown"),
            "datasets": [{"ref": _ref("dataset", str(d["id"]))} for d in report.datasets],
        },
        "quantitativeAnalysis": {"performanceMetrics": evals},
    }
    if considerations:
        card["considerations"] = considerations
    return {
        "type": "machine-learning-model",
        "bom-ref": _ref("model", ident),
        "name": ident,
        "hashes": _hashes(model.get("hash")),
        "modelCard": card,
        "properties": _props(
            [
                ("hash", model.get("hash")),
                ("hash_status", model.get("hash_status")),
                ("path", model.get("path")),
                ("checkpoint_id", model.get("checkpoint_id")),
                ("parameter_count", cfg.get("parameter_count")),
            ]
        ),
    }


def _checkpoint(c: dict[str, Json]) -> Json:
    return {
        "type": "machine-learning-model",
        "bom-ref": _ref("checkpoint", str(c["id"])),
        "name": str(c["id"]),
        "hashes": _hashes(c.get("hash")),
        "properties": _props(
            [
                ("kind", "checkpoint"),
                ("hash", c.get("hash")),
                ("step", c.get("step")),
                ("path", c.get("path")),
                ("files", c.get("files")),
                ("total_bytes", c.get("total_bytes")),
                ("source_version", c.get("source_version")),
            ]
        ),
    }


def _dataset(d: dict[str, Json]) -> Json:
    data: dict[str, Json] = {
        "type": "dataset",
        "name": str(d.get("name") or d["id"]),
        "classification": str(d.get("role") or "unspecified"),
    }
    if d.get("source_uri"):
        data["contents"] = {"url": str(d["source_uri"])}
    out: dict[str, Json] = {
        "type": "data",
        "bom-ref": _ref("dataset", str(d["id"])),
        "name": str(d.get("name") or d["id"]),
        # The Merkle root (RFC 6962 over the dataset's records, docs/spec/hashing.md): a
        # SHA-256 value, though not of one file: the property says which it is.
        "hashes": _hashes(d.get("hash")),
        "data": [data],
        "properties": _props(
            [
                ("merkle_root", d.get("hash")),
                ("hash_status", d.get("hash_status")),
                ("role", d.get("role")),
                ("record_count", d.get("record_count")),
                ("source_version", d.get("source_version")),
                ("schema_version", d.get("schema_version")),
            ]
        ),
    }
    if d.get("version") is not None:
        out["version"] = str(d["version"])
    return out


def _formulation(report: Report, model_ref: str) -> Json:
    r = report.run
    workflow: dict[str, Json] = {
        "bom-ref": _ref("workflow", str(r["run_id"])),
        "uid": str(r["run_id"]),
        "name": str(r.get("name") or r["run_id"]),
        "description": "The training run recorded by Cognify",
        "taskTypes": ["build"],
        "inputs": [{"resource": {"ref": _ref("dataset", str(d["id"]))}} for d in report.datasets],
        "outputs": [{"resource": {"ref": model_ref}}]
        + [{"resource": {"ref": _ref("checkpoint", str(c["id"]))}} for c in report.checkpoints],
        "properties": _props(
            [
                ("project", r.get("project")),
                ("started_by", r.get("started_by")),
                ("end_status", r.get("end_status")),
                ("global_step", r.get("global_step")),
                ("chain_head", report.seal.chain_head),
                ("event_count", report.seal.event_count),
                *((f"config:{c['id']}", c.get("hash")) for c in report.configs),
            ]
        ),
    }
    if r.get("started_at"):
        workflow["timeStart"] = r["started_at"]
    if r.get("ended_at"):
        workflow["timeEnd"] = r["ended_at"]
    return [{"bom-ref": _ref("formulation", str(r["run_id"])), "workflows": [workflow]}]


def _evidence_hashes(report: Report) -> dict[str, list[tuple[str, str]]]:
    """For each Annex IV point, (what, hash) pairs from the sealed lineage."""
    model = report.model or {}
    datasets = [(f"dataset {d['id']} Merkle root", d.get("hash")) for d in report.datasets]
    configs = [(f"configuration {c['id']}", c.get("hash")) for c in report.configs]
    evals = [(f"evaluation {e['id']}", e.get("hash")) for e in report.evaluations]
    ckpts = [(f"checkpoint {c['id']}", c.get("hash")) for c in report.checkpoints]
    seal = [("event chain head at the seal", report.seal.chain_head)]
    approvals = [
        (
            f"approval event {a.get('event_id')} by {(a.get('reviewer') or {}).get('name')}"
            " (its signed statement)",
            statement_sha256(a),
        )
        for a in report.approvals
    ]
    found: dict[str, list[tuple[str, str | None]]] = {
        "1": [(f"model {model.get('id')}", model.get("hash")), *configs],
        "2": [*datasets, *configs, *evals, *ckpts],
        "3": [*seal, *approvals],
        "4": evals,
        "6": [*ckpts, *seal],
    }
    return {k: [(w, h) for w, h in v if h] for k, v in found.items()}


def _declarations(report: Report, model_ref: str) -> tuple[Json, Json]:
    requirements, claims, evidence, mapping = [], [], [], []
    by_point = _evidence_hashes(report)
    for point, title in ANNEX_IV:
        req_ref = _ref("requirement", f"annex-iv-{point}")
        requirements.append(
            {"bom-ref": req_ref, "identifier": f"Annex IV({point})", "title": title}
        )
        pairs = list(by_point.get(point, []))
        docs = _docs(report, DOC_EVIDENCE.get(point, ()))
        for name, text in docs:
            pairs.append((f"organisation documentation {name}", _sha256(text)))
        ev_refs = []
        for i, (what, h) in enumerate(pairs):
            ev_ref = _ref("evidence", f"annex-iv-{point}-{i}")
            ev_refs.append(ev_ref)
            evidence.append(
                {
                    "bom-ref": ev_ref,
                    "propertyName": f"cognify:annex-iv-{point}",
                    "description": what,
                    "created": report.seal.sealed_at,
                    "data": [
                        {
                            "name": what,
                            "contents": {"attachment": {"contentType": "text/plain", "content": h}},
                        }
                    ],
                }
            )
        claim_ref = _ref("claim", f"annex-iv-{point}")
        claim: dict[str, Json] = {
            "bom-ref": claim_ref,
            "target": model_ref,
            "predicate": f"{title}: documented from the sealed lineage"
            + (" and the organisation's documentation" if docs else ""),
        }
        if ev_refs:
            claim["evidence"] = ev_refs
        else:
            claim["reasoning"] = (
                f"{NOT_SUPPLIED}: set it in the workspace documentation "
                "(cognify-admin or the ingest API), then export again"
            )
        claims.append(claim)
        mapping.append(
            {
                "requirement": req_ref,
                "claims": [claim_ref],
                "conformance": {
                    "score": 1 if ev_refs else 0,
                    "rationale": f"{len(ev_refs)} hash(es) of sealed evidence"
                    if ev_refs
                    else NOT_SUPPLIED,
                },
            }
        )
    definitions = {
        "standards": [
            {
                "bom-ref": STANDARD_REF,
                "name": "EU AI Act, Annex IV: technical documentation",
                "version": "Regulation (EU) 2024/1689",
                "owner": "European Union",
                "requirements": requirements,
            }
        ]
    }
    declarations = {
        "assessors": [
            {
                "bom-ref": "assessor:cognify",
                "thirdParty": False,
                "organization": {"name": f"workspace {report.run['workspace_id']}"},
            }
        ],
        "attestations": [
            {
                "summary": f"EU AI Act Annex IV evidence for run {report.run['run_id']}, "
                f"sealed {report.seal.sealed_at} by {report.seal.sealed_by}",
                "assessor": "assessor:cognify",
                "map": mapping,
            }
        ],
        "claims": claims,
        "evidence": evidence,
    }
    return declarations, definitions


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def document(report: Report, template: ExportTemplate) -> dict[str, Json]:
    r, seal = report.run, report.seal
    model = _model_component(report)
    declarations, definitions = _declarations(report, model["bom-ref"])
    serial = uuid.uuid5(
        NAMESPACE, f"{r['workspace_id']}/{r['run_id']}/{seal.chain_head}/{template.value}"
    )
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": seal.sealed_at,
            "tools": {
                "components": [
                    {"type": "application", "name": "cognify-exporter", "group": "cognify"}
                ]
            },
            "component": model,
            "properties": _props(
                [
                    ("run_id", r["run_id"]),
                    ("workspace_id", r["workspace_id"]),
                    ("template", template.value),
                    ("sealed_at", seal.sealed_at),
                    ("sealed_by", seal.sealed_by),
                    ("chain_head", seal.chain_head),
                    ("event_count", seal.event_count),
                    ("seal_key_id", seal.key_id),
                ]
            ),
        },
        "components": [
            *(_checkpoint(c) for c in report.checkpoints),
            *(_dataset(d) for d in report.datasets),
        ],
        "dependencies": [
            {
                "ref": model["bom-ref"],
                "dependsOn": [_ref("dataset", str(d["id"])) for d in report.datasets],
            }
        ],
        "formulation": _formulation(report, model["bom-ref"]),
        "declarations": declarations,
        "definitions": definitions,
    }


def render(report: Report, template: ExportTemplate) -> bytes:
    text = json.dumps(
        document(report, template), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode()
