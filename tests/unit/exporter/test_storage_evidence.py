"""What the exporter adds to a sealed run's report from outside the event store: the
buckets' default encryption as the S3 API stated it (cited as such, the organisation's
typed statement only where the API said nothing), and the final model's OMS signature
made from its sealed manifest, which sigstore's `model_signing` accepts."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from cognify import package_verify
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import compliance, encryption, modelsig, oms, package
from cognify_exporter.encryption import Reading
from cognify_exporter.report import Report

from .oms_cli import verify
from .test_compliance import KEY, the_report

AT = "2026-12-06T23:00:00Z"


def _encryption(report: Report) -> list[compliance.Cited]:
    (point,) = [p for p in compliance.hipaa(report) if "Encryption at rest" in p.title]
    return point.fields


def test_the_bucket_encryption_the_s3_api_states_is_cited_and_nothing_typed() -> None:
    rep = replace(the_report(), encryption=(Reading("audit", encryption.PACKAGES, AT, "AES256"),))
    rep = replace(rep, checkpoints=[], model=None)  # everything on object storage
    (field,) = _encryption(rep)
    assert field.label == "bucket audit (audit packages)"
    assert field.value.startswith("SSE-S3 (AES256) default encryption (AES256)")
    assert field.source == f"s3:GetBucketEncryption on bucket audit at {AT}"


def test_the_typed_statement_is_used_only_where_the_api_says_nothing_and_says_so() -> None:
    silent = Reading("audit", encryption.PACKAGES, AT)
    refused = Reading("ckpts", encryption.CHECKPOINTS, AT, error="AccessDenied")
    rep = replace(the_report(), encryption=(silent, refused), checkpoints=[], model=None)
    fields = _encryption(rep)
    assert [f.value for f in fields[:2]] == [
        "the S3 API states no default encryption for this bucket",
        "no answer from the S3 API (AccessDenied)",
    ]
    typed = fields[2]
    assert "typed, used because the S3 API did not state" in typed.label
    assert typed.value == "SSE-S3 (AES-256) on the checkpoint bucket"
    assert typed.source.startswith("organisation documentation")


def test_local_checkpoints_are_named_and_the_storage_not_read_is_said() -> None:
    fields = _encryption(the_report())  # /out/checkpoint-100 ...; no reading attached
    assert fields[0].label == "checkpoints on local storage"
    assert "/out/checkpoint-100" in fields[0].value
    assert "the storage configuration was not read" in fields[1].label


def test_buckets_are_those_of_the_packages_and_of_s3_checkpoints() -> None:
    named, local = encryption.buckets(
        "audit",
        [{"path": "s3://ckpts/run/checkpoint-1"}, {"path": "s3://audit/x"}, {"path": "/data/m"}],
    )
    assert named == {
        "audit": "audit packages, checkpoints and model",
        "ckpts": "checkpoints and model",
    }
    assert local == ["/data/m"]


def _model_dir(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    d = tmp_path / "final"
    (d / "sub").mkdir(parents=True)
    files = {"model.safetensors": bytes(range(256)), "config.json": b"{}\n", "sub/t.txt": b"t"}
    for name, data in files.items():
        (d / name).write_bytes(data)
    manifest = [
        {"path": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
        for n, b in sorted(files.items())
    ]
    return d, manifest


def test_the_sealed_model_is_signed_from_its_manifest_and_model_signing_accepts_it(
    tmp_path: Path,
) -> None:
    model, manifest = _model_dir(tmp_path)
    rep = the_report()
    assert rep.model is not None
    rep = replace(rep, model={**rep.model, "manifest": manifest})
    key = oms.generate_key()
    made = modelsig.signed(rep, key)
    assert made is not None
    bundle, entry = made
    assert entry.object_key == "packages/ws-1/run-1/run-1.model.sig" and entry.files == 3
    assert entry.sha256 == "sha256:" + hashlib.sha256(bundle).hexdigest()
    assert modelsig.signed(rep, key) == made  # deterministic (RFC 6979)
    sig, pub = tmp_path / "model.sig", tmp_path / "oms.pub.pem"
    sig.write_bytes(bundle)
    pub.write_bytes(oms.public_pem(key.public_key()))
    done = verify(model, sig, pub)
    assert done.returncode == 0, done.stderr

    # Every package names it: JSON under the model, and the signed statement's predicate.
    rep = replace(rep, model_signature=entry)
    pkg = package.build(rep, ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    assert json.loads(pkg.data)["model"]["oms_signature"]["sha256"] == entry.sha256
    assert pkg.envelope["payloadType"]
    stmt = json.loads(base64.b64decode(pkg.envelope["payload"]))
    assert stmt["predicate"]["model_signature"]["object_key"] == entry.object_key
    # cognify verify-package: the package's signature entry is the signed one
    verdict = package_verify.verify(pkg.data, pkg.envelope, KEY.public_key())
    assert verdict.ok, verdict.failed
    assert any(p.startswith("model signature: packages/ws-1/run-1/") for p in verdict.passed)


def test_a_model_without_listed_files_has_no_signature_and_packages_do_not_change() -> None:
    rep = the_report()
    assert modelsig.signed(rep, oms.generate_key()) is None
    stmt_keys = package.predicate(rep, ExportFormat.JSON, ExportTemplate.DEFAULT)
    assert "model_signature" not in stmt_keys
