"""Approvals as statements signed by the workspace key (cognify_exporter.approvals), and
what `cognify verify-package` checks of them (docs/spec/package.md, "Approval statements")."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cognify import package_verify
from cognify.cli import main
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import approvals, attestation, report
from cognify_exporter.package import build, sha256
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .fixtures import sealed_report

# docs/spec/package.md, "Approval statements": the test vector
VECTOR_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"cognify approval test vector").digest()
)
VECTOR_SHA256 = "f7a9bcb3327b581779255b12b7a69a01630a05ca33412389c96b7b110aa8b12c"
VECTOR_SIG = (
    "WaZnaHdN5rLx/eEDNNx87jrwtzIV9+QGMpGi++50oQeFQA/+vPD0LXIlHzef+DKV1FmpGVhZtPPafd31TCjnBA=="
)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def vector_report() -> report.Report:
    r = sealed_report()
    return replace(
        r,
        run={**r.run, "run_id": "run_vector", "workspace_id": "ws_vector"},
        seal=report.Seal(
            "00000000-0000-4000-8000-000000000001",
            "2025-09-12T16:45:00.000000Z",
            "exporter",
            "sha256:" + "ab" * 32,
            25,
            attestation.key_id(VECTOR_KEY.public_key()),
        ),
        approvals=[
            {
                "event_id": "00000000-0000-4000-8000-00000000000a",
                "decision": "approved",
                "reviewer": {"name": "Dana Reyes", "role": "compliance-officer"},
                "reviewer_key_id": "k7f3a9c2e1b0d4",
                "comment": "Reviewed against the protocol.",
                "time": "2025-09-12T16:30:00.000000Z",
                "reviewed_chain": {"head": "sha256:" + "cd" * 32, "length": 23},
                "lineage_digest": "sha256:" + "ef" * 32,
                "stale": False,
                "stale_reason": None,
            }
        ],
    )


def test_the_spec_vector() -> None:
    r = vector_report()
    stmt = approvals.statement(r, r.approvals[0])
    assert hashlib.sha256(stmt).hexdigest() == VECTOR_SHA256
    assert attestation.sign(stmt, VECTOR_KEY)["signatures"] == [
        {
            "keyid": "ed25519:b8d44b33f155866e4bb71932c717201b5360c98c01bae9668329e3484a2a58c5",
            "sig": VECTOR_SIG,
        }
    ]
    body = json.loads(stmt)
    assert [s["name"] for s in body["subject"]] == [
        "chain-head:run_vector",
        "reviewed-chain-head:run_vector@23",
    ]
    assert body["predicate"]["signer"] == {
        "name": "Dana Reyes",
        "title": "compliance-officer",
        "key_id": "k7f3a9c2e1b0d4",
    }


def _json_package(r: report.Report | None = None) -> tuple[bytes, dict[str, Any]]:
    pkg = build(r or vector_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    return pkg.data, pkg.envelope


def _verify(data: bytes, envelope: dict[str, Any]) -> package_verify.Verdict:
    return package_verify.verify(data, envelope, KEY.public_key())


def test_each_decision_of_a_package_carries_its_statement_and_the_package_lists_them() -> None:
    data, envelope = _json_package()
    doc = json.loads(data)
    [a] = doc["approvals"]
    stmt = attestation.verify(a["statement"], KEY.public_key())
    assert stmt["predicateType"] == approvals.PREDICATE_TYPE
    assert stmt["predicate"]["signed_by"] == attestation.key_id(KEY.public_key())
    sealed = attestation.verify(envelope, KEY.public_key())
    payload = base64.b64decode(a["statement"]["payload"])
    assert sealed["predicate"]["approvals"] == [
        {"event_id": a["event_id"], "statement_sha256": sha256(payload)}
    ]
    verdict = _verify(data, envelope)
    assert verdict.ok, verdict.lines()
    assert any("approvals: 1 decision(s)" in line for line in verdict.passed)
    assert any(
        "Dana Reyes (compliance-officer, key k7f3a9c2e1b0d4) approved" in p for p in verdict.passed
    )


def test_the_same_sealed_run_gives_the_same_statements() -> None:
    assert _json_package()[0] == _json_package()[0]


def _resealed(
    doc: dict[str, Any], listed: list[dict[str, Any]] | None = None
) -> tuple[bytes, dict[str, Any]]:
    """`doc` as a package signed again by the workspace key (what only the exporter can do):
    the verifier must still hold each approval statement to the package's entries."""
    data = (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    _, envelope = _json_package()
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["subject"][0]["digest"]["sha256"] = sha256(data).removeprefix("sha256:")
    if listed is not None:
        statement["predicate"]["approvals"] = listed
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return data, attestation.sign(payload, KEY)


def test_a_statement_that_does_not_say_what_the_package_says_fails() -> None:
    data, _ = _json_package()
    cases: dict[str, Any] = {}
    doc = json.loads(data)
    doc["approvals"][0]["reviewer"]["name"] = "Evil Reviewer"
    cases["another name"] = _resealed(doc)
    doc = json.loads(data)
    doc["approvals"][0]["decision"] = "rejected"
    cases["another meaning"] = _resealed(doc)
    doc = json.loads(data)
    doc["approvals"][0]["stale"], doc["approvals"][0]["stale_reason"] = True, "late"
    cases["stale in the package only"] = _resealed(doc)
    doc = json.loads(data)
    stmt = base64.b64decode(doc["approvals"][0]["statement"]["payload"])
    doc["approvals"][0]["statement"] = attestation.sign(stmt, Ed25519PrivateKey.generate())
    cases["signed by another key"] = _resealed(doc)
    doc = json.loads(data)
    del doc["approvals"][0]["statement"]
    cases["no statement"] = _resealed(doc)
    doc = json.loads(data)
    cases["not the listed statement"] = _resealed(
        doc,
        [{"event_id": doc["approvals"][0]["event_id"], "statement_sha256": "sha256:" + "0" * 64}],
    )
    doc = json.loads(data)
    doc["approvals"] = []
    cases["a decision dropped"] = _resealed(doc)
    for what, (forged, envelope) in cases.items():
        verdict = _verify(forged, envelope)
        assert not verdict.ok, what
        assert any(f.startswith(("approval", "approvals")) for f in verdict.failed), (
            what,
            verdict.failed,
        )


def test_a_stale_decision_is_signed_as_not_counted() -> None:
    r = vector_report()
    stale = {**r.approvals[0], "stale": True, "stale_reason": "approval stale: later events"}
    data, envelope = _json_package(replace(r, approvals=[stale]))
    [a] = json.loads(data)["approvals"]
    predicate = attestation.verify(a["statement"], KEY.public_key())["predicate"]
    assert predicate["counted_at_seal"] is False
    assert predicate["stale_reason"] == "approval stale: later events"
    verdict = _verify(data, envelope)
    assert verdict.ok and any("stale at the seal: not counted" in p for p in verdict.passed)


def test_other_formats_sign_the_statements_digests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = vector_report()
    pkg = build(r, ExportFormat.XLSX, ExportTemplate.DEFAULT, KEY)
    json_pkg = build(r, ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    listed = attestation.verify(pkg.envelope, KEY.public_key())["predicate"]["approvals"]
    assert (
        listed == attestation.verify(json_pkg.envelope, KEY.public_key())["predicate"]["approvals"]
    )
    path = tmp_path / "run.default.audit.xlsx"
    path.write_bytes(pkg.data)
    Path(f"{path}.dsse.json").write_bytes(pkg.envelope_data)
    pem = tmp_path / "ws.pub.pem"
    pem.write_text(attestation.public_pem(KEY.public_key()))
    assert main(["verify-package", str(path), "--key", str(pem)]) == 0
    out = capsys.readouterr().out
    assert "approvals: 1 approval and 1 annotation statement(s) signed by their SHA-256" in out


def test_a_package_sealed_before_statements_still_verifies() -> None:
    data, envelope = _json_package()
    doc = json.loads(data)
    for entry in [*doc["approvals"], *doc["annotations"]]:
        del entry["statement"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    del statement["predicate"]["approvals"]
    del statement["predicate"]["annotations"]
    forged, _ = _resealed(doc)
    statement["subject"][0]["digest"]["sha256"] = sha256(forged).removeprefix("sha256:")
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    verdict = _verify(forged, attestation.sign(payload, KEY))
    assert verdict.ok, verdict.lines()
    assert any("sealed before approvals were signed statements" in p for p in verdict.passed)


def test_each_annotation_is_a_signed_review_statement() -> None:
    data, envelope = _json_package()
    [note] = json.loads(data)["annotations"]
    stmt = attestation.verify(note["statement"], KEY.public_key())
    assert stmt["predicateType"] == approvals.NOTE_PREDICATE_TYPE
    p = stmt["predicate"]
    assert (p["meaning"], p["node_id"], p["text"]) == ("reviewed", note["node_id"], note["text"])
    assert p["signer"]["name"] == "Dana Reyes"
    verdict = _verify(data, envelope)
    assert verdict.ok, verdict.lines()
    assert any(f"reviewed {note['node_id']}" in line for line in verdict.passed)
    # the note's text changed in the package (re-sealed by the workspace key): refused
    doc = json.loads(data)
    doc["annotations"][0]["text"] = "Nothing to see."
    doc_bytes, resealed = _resealed(doc)
    verdict = _verify(doc_bytes, resealed)
    assert not verdict.ok
    assert any("annotation" in f and "text" in f for f in verdict.failed), verdict.failed
