"""An audit package: rendered bytes, its hash, and the signed statement about it (pure).

The statement's subjects are the package itself, the head of the run's event chain, every
dataset root and the final model's hash, so one signature binds the file the auditor holds
to the evidence it describes (docs/spec/package.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from cognify_events import ExportFormat, ExportTemplate
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import approvals, attestation, jsonpkg
from .report import Report

CONTENT_TYPES = {
    ExportFormat.PDF: "application/pdf",
    ExportFormat.JSON: "application/json",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CYCLONEDX: "application/vnd.cyclonedx+json",
}


@dataclass(frozen=True)
class Package:
    format: ExportFormat
    template: ExportTemplate
    name: str  # file name, also the package subject's name
    data: bytes
    package_hash: str
    envelope: dict[str, Any]
    envelope_data: bytes


def file_name(run_id: str, fmt: ExportFormat, template: ExportTemplate) -> str:
    ext = "cdx.json" if fmt is ExportFormat.CYCLONEDX else fmt.value  # CycloneDX's own name
    return f"{run_id}.{template.value}.audit.{ext}"


def object_key(workspace_id: str, run_id: str, fmt: ExportFormat, template: ExportTemplate) -> str:
    return f"packages/{workspace_id}/{run_id}/{file_name(run_id, fmt, template)}"


def envelope_key(package_key: str) -> str:
    return package_key + ".dsse.json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def render(report: Report, fmt: ExportFormat, template: ExportTemplate) -> bytes:
    if fmt is ExportFormat.JSON:
        return jsonpkg.render(report, template)
    if fmt is ExportFormat.CYCLONEDX:
        from .cyclonedx import render as render_cyclonedx

        return render_cyclonedx(report, template)
    if fmt is ExportFormat.XLSX:
        from .xlsx import render as render_xlsx  # heavier imports only when asked for

        return render_xlsx(report, template)
    from .pdf import render as render_pdf

    return render_pdf(report, template)


def subjects(report: Report, name: str, package_hash: str) -> list[attestation.Subject]:
    out = [
        attestation.Subject(name, package_hash),
        attestation.Subject(f"chain-head:{report.run['run_id']}", report.seal.chain_head),
    ]
    for d in report.datasets:
        if d["hash"]:
            out.append(attestation.Subject(f"dataset:{d['id']}", d["hash"]))
    if report.model and report.model["hash"]:
        out.append(attestation.Subject(f"model:{report.model['id']}", report.model["hash"]))
    return out


def predicate(report: Report, fmt: ExportFormat, template: ExportTemplate) -> dict[str, Any]:
    return {
        "workspace_id": report.run["workspace_id"],
        "project": report.run["project"],
        "run_id": report.run["run_id"],
        "format": fmt.value,
        "template": template.value,
        "seal": report.seal.json(),
        "datasets_without_root": [d["id"] for d in report.datasets if not d["hash"]],
        "model_hash_missing": bool(report.model and not report.model["hash"]),
        # each approval and rejection's own signed statement, by its payload's SHA-256
        "approvals": approvals.digests(report),
        # each annotation's own signed statement (meaning `reviewed`)
        "annotations": approvals.note_digests(report),
        # the final model's OMS signature stored beside the package (modelsig.py): named
        # only where there is one, so packages without it keep their statement unchanged
        **(
            {"model_signature": report.model_signature.json()}
            if report.model_signature is not None
            else {}
        ),
    }


def signed_by(report: Report, key: Ed25519PrivateKey) -> Report:
    """The report whose seal names `key`'s fingerprint, so that every package states in
    its text which key signed it (docs/spec/trust.md), and whose approvals each carry
    their statement signed by `key` (approvals.py)."""
    named = attestation.key_id(key.public_key())
    if report.seal.key_id != named:
        report = replace(report, seal=replace(report.seal, key_id=named))
    return approvals.signed(report, key)


def build(
    report: Report, fmt: ExportFormat, template: ExportTemplate, key: Ed25519PrivateKey
) -> Package:
    report = signed_by(report, key)
    return attest(report, fmt, template, render(report, fmt, template), key)


def attest(
    report: Report,
    fmt: ExportFormat,
    template: ExportTemplate,
    data: bytes,
    key: Ed25519PrivateKey,
) -> Package:
    """The package of `data` (rendered now, or stored by an earlier attempt) with its
    statement signed over exactly those bytes."""
    report = signed_by(report, key)
    name = file_name(report.run["run_id"], fmt, template)
    digest = sha256(data)
    stmt = attestation.statement(subjects(report, name, digest), predicate(report, fmt, template))
    envelope = attestation.sign(stmt, key)
    return Package(
        fmt, template, name, data, digest, envelope, attestation.envelope_bytes(envelope)
    )
