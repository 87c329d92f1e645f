"""Packages are deterministic, and their signed statement catches any change."""

from __future__ import annotations

import json
import uuid

import pytest
from cognify import package_verify
from cognify_events import ExportFormat, ExportTemplate, HashComputed, HashTarget
from cognify_exporter import attestation, jsonpkg, keys, report
from cognify_exporter.package import build
from cognify_lineage_model.model import iso
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.lineage.script import Script, root

from .fixtures import events, folded, sealed_report

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_the_same_sealed_run_gives_byte_identical_packages(fmt: ExportFormat) -> None:
    first = build(sealed_report(), fmt, ExportTemplate.HEALTHCARE, KEY)
    second = build(sealed_report(), fmt, ExportTemplate.HEALTHCARE, KEY)
    assert first.data == second.data
    assert first.envelope_data == second.envelope_data  # Ed25519 is deterministic too


def test_the_json_package_holds_the_graph_every_hash_and_the_seal() -> None:
    doc = json.loads(build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, KEY).data)
    assert doc["status"] == "AUDIT_SEALED" and doc["run_id"] == "run-1"
    assert {n["id"] for n in doc["nodes"]} >= {"ds_notes_v3", "ckpt_step_200", "model_final"}
    assert {"from": "ckpt_step_200", "to": "model_final"} in doc["edges"]
    assert doc["hashes"]["ckpt_step_200"] == "sha256:" + f"{5:064x}"
    assert doc["chain"]["head"] == doc["seal"]["chain_head"] == "sha256:" + "ab" * 32
    assert doc["approvals"][0]["reviewer"] == {"name": "Dana Reyes", "role": "compliance-officer"}
    assert doc["documentation"]["known_limitations"] == "not supplied"
    assert "exports" not in json.dumps(doc["run"])


def test_a_node_hashed_from_s3_shows_the_version_hashed() -> None:
    """The JSON package's nodes are the lineage graph's: an s3:// source's node names the
    object version the hasher hashed (docs/spec/package.md), a local one none."""
    s = Script("ws-1", "run-1")
    version = "version-id:3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    pinned = s.hashed(HashTarget.DATASET, "ds_extra_v1", root(3), version)
    evs = [
        pinned if isinstance(e, HashComputed) and e.payload.target_id == "ds_extra_v1" else e
        for e in events(s)
    ]
    run = folded(evs)
    built = report.build(
        run,
        evs,
        report.Seal(str(uuid.uuid4()), iso(s.t0), "exporter", "sha256:" + "ab" * 32, len(evs), "k"),
        {},
    )
    nodes = {n["id"]: n for n in json.loads(jsonpkg.render(built, ExportTemplate.DEFAULT))["nodes"]}
    assert nodes["ds_extra_v1"]["source_version"] == version
    assert "source_version" not in nodes["ckpt_step_200"]


def test_the_statement_names_package_chain_head_datasets_and_model() -> None:
    pkg = build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    statement = attestation.verify(pkg.envelope, KEY.public_key())
    names = [s["name"] for s in statement["subject"]]
    assert names == [
        pkg.name,
        "chain-head:run-1",
        "dataset:ds_notes_v3",
        "dataset:ds_extra_v1",
        "dataset:ds_eval_v1",
        "model:model_final",
    ]
    assert statement["subject"][0]["digest"]["sha256"] == pkg.package_hash[7:]


@pytest.mark.parametrize("fmt", [ExportFormat.JSON, ExportFormat.XLSX])
def test_the_offline_verifier_accepts_an_untouched_package(fmt: ExportFormat) -> None:
    pkg = build(sealed_report(), fmt, ExportTemplate.DEFAULT, KEY)
    verdict = package_verify.verify(pkg.data, pkg.envelope, KEY.public_key())
    assert verdict.ok, verdict.lines()


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_one_flipped_byte_fails_verification(fmt: ExportFormat) -> None:
    pkg = build(sealed_report(), fmt, ExportTemplate.DEFAULT, KEY)
    flipped = bytearray(pkg.data)
    flipped[len(flipped) // 2] ^= 0x01
    verdict = package_verify.verify(bytes(flipped), pkg.envelope, KEY.public_key())
    assert not verdict.ok
    assert verdict.failed[0].startswith("package hash: the file's SHA-256 is")


def test_a_wrong_key_fails_verification() -> None:
    pkg = build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    verdict = package_verify.verify(pkg.data, pkg.envelope, other)
    assert not verdict.ok and verdict.failed[0].startswith("signature: keyid")
    unnamed = {**pkg.envelope, "signatures": [{"sig": pkg.envelope["signatures"][0]["sig"]}]}
    verdict = package_verify.verify(pkg.data, unnamed, other)
    assert not verdict.ok and verdict.failed[0].startswith("signature: no valid signature")
    with pytest.raises(ValueError, match="no valid signature"):
        attestation.verify(pkg.envelope, other)


def test_a_tampered_statement_fails_verification() -> None:
    pkg = build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    forged = dict(pkg.envelope)
    forged["payload"] = forged["payload"][:-4] + "AAAA"
    assert not package_verify.verify(pkg.data, forged, KEY.public_key()).ok


def test_a_private_key_is_stored_only_encrypted_and_bound_to_its_workspace() -> None:
    master = bytes(range(32, 64))
    stored = keys.seal_private("ws-1", KEY, master)
    assert KEY.private_bytes_raw() not in stored.private_key_sealed
    assert keys.open_private(stored, master).private_bytes_raw() == KEY.private_bytes_raw()
    moved = keys.SealedKey("ws-2", stored.key_id, stored.public_key, stored.private_key_sealed)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        keys.open_private(moved, master)


def test_dsse_test_vector() -> None:
    """The vector in docs/spec/package.md."""
    payload = b'{"_type":"https://in-toto.io/Statement/v1"}'
    assert attestation.pae(attestation.PAYLOAD_TYPE, payload) == (
        b"DSSEv1 28 application/vnd.in-toto+json 43 " + payload
    )
    envelope = attestation.sign(payload, KEY)
    assert envelope["signatures"][0]["keyid"] == attestation.key_id(KEY.public_key())
    assert envelope["signatures"][0]["sig"] == VECTOR_SIG


VECTOR_SIG = (
    "Fo6jOXP9gw1yxFFqcxT3OROGg9MHJ9G2Ps2yCG4lrdJS8Yli9xdH78rzsGRdX7vN0BvZnteNGPg9F79CG51UDQ=="
)


@pytest.mark.parametrize("template", list(ExportTemplate))
def test_every_template_renders_its_sections_and_never_invents_text(
    template: ExportTemplate,
) -> None:
    from cognify_exporter.templates import sections

    doc = json.loads(build(sealed_report(), ExportFormat.JSON, template, KEY).data)
    assert doc["sections"] == sections(template)
    assert doc["documentation"]["intended_use"].startswith("Drafting discharge")
    assert doc["documentation"]["deployment_restrictions"] == "not supplied"
    assert build(sealed_report(), ExportFormat.PDF, template, KEY).data.startswith(b"%PDF")
