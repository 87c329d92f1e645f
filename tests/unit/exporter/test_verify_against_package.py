"""A JSON package lists the files each checkpoint's hash was computed from (`manifest`,
docs/spec/package.md), so an auditor checks a checkpoint directory against the sealed
package file by file, offline: `cognify verify checkpoint DIR --package P --checkpoint ID`;
and a dataset against the root and count it lists: `cognify verify dataset F --package P
--dataset ID`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import cognify_events as ev
import pytest
from cognify.cli import main
from cognify_events import ExportFormat, ExportTemplate, FileHash, HashComputed, HashTarget
from cognify_exporter import attestation, report
from cognify_exporter.package import build
from cognify_hashing import Manifest, ManifestEntry, hash_dataset, scan_checkpoint
from cognify_lineage_model.model import iso
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.lineage.script import Script

from .fixtures import events, folded

VERSION = "version-id:3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _checkpoint(root: Path) -> Path:
    ckpt = root / "checkpoint-200"
    (ckpt / "sub").mkdir(parents=True)
    (ckpt / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    (ckpt / "sub" / "config.json").write_text('{"layers": 2}\n')
    return ckpt


def _listed(s: Script, target: HashTarget, node_id: str, manifest: Manifest) -> HashComputed:
    """The hasher's result for `node_id`, listing its files (the safetensors one from s3)."""
    result = s.hashed(target, node_id, manifest.checkpoint_hash)
    files = [
        FileHash(
            path=e.path,
            size=e.size,
            sha256=e.sha256,
            version=VERSION if e.path.endswith("safetensors") else None,
        )
        for e in manifest.entries
    ]
    return result.model_copy(update={"payload": result.payload.model_copy(update={"files": files})})


def _package(
    tmp_path: Path, manifest: Manifest, signed: bool = True, dataset: str | None = None
) -> dict[str, Any]:
    """The JSON package of the fixture run, written as `cognify export` writes it (with its
    envelope and public key beside it when `signed`; ds_extra_v1 hashed to `dataset`), and
    the workspace's key as the auditor holds it (`workspace.pub.pem`)."""
    s = Script("ws-1", "run-1")
    listed = {
        "ckpt_step_200": _listed(s, HashTarget.CHECKPOINT, "ckpt_step_200", manifest),
        "model_final": _listed(s, HashTarget.MODEL, "model_final", manifest),
    }
    if dataset is not None:
        listed["ds_extra_v1"] = s.hashed(HashTarget.DATASET, "ds_extra_v1", dataset)
    evs: list[ev.Event] = [
        listed.get(e.payload.target_id, e) if isinstance(e, HashComputed) else e for e in events(s)
    ]
    sealed = report.Seal(
        str(uuid.UUID(int=1)), iso(s.t0), "exporter", "sha256:" + "ab" * 32, len(evs), "k"
    )
    built = report.build(folded(evs), evs, sealed, {})
    pkg = build(built, ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    (tmp_path / "package.json").write_bytes(pkg.data)
    if signed:
        (tmp_path / "package.json.dsse.json").write_bytes(pkg.envelope_data)
        (tmp_path / "package.json.pub.pem").write_text(attestation.public_pem(KEY.public_key()))
    (tmp_path / "workspace.pub.pem").write_text(attestation.public_pem(KEY.public_key()))
    doc: dict[str, Any] = json.loads((tmp_path / "package.json").read_text())
    return doc


def test_the_package_lists_the_files_a_checkpoint_hash_was_computed_from(tmp_path: Path) -> None:
    manifest = scan_checkpoint(_checkpoint(tmp_path))
    doc = _package(tmp_path, manifest)
    checkpoints = {c["id"]: c for c in doc["checkpoints"]}
    listed = checkpoints["ckpt_step_200"]["manifest"]
    assert listed == [
        {"path": "model.safetensors", "size": 16_384, "sha256": manifest.entries[0].sha256}
        | {"version": VERSION},
        {"path": "sub/config.json", "size": 14, "sha256": manifest.entries[1].sha256},
    ]
    # The entries are the manifest the hash is of (docs/spec/hashing.md §7).
    rebuilt = Manifest.from_entries(
        ManifestEntry(f["path"], f["size"], f["sha256"]) for f in listed
    )
    assert rebuilt.checkpoint_hash == checkpoints["ckpt_step_200"]["hash"]
    assert doc["model"]["manifest"] == listed
    # A result that lists no files (an older hasher): no member, rather than an empty list.
    assert "manifest" not in checkpoints["ckpt_step_100"]


def test_a_checkpoint_directory_is_verified_against_the_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = _checkpoint(tmp_path)
    _package(tmp_path, scan_checkpoint(ckpt))
    package = str(tmp_path / "package.json")
    key = ["--key", str(tmp_path / "workspace.pub.pem")]
    for node in ("ckpt_step_200", "model_final"):
        argv = ["verify", "checkpoint", str(ckpt), "--package", package, *key]
        assert main([*argv, "--checkpoint", node]) == 0
    out = capsys.readouterr()
    assert "OK: " in out.out and "signature verified, key ed25519:" in out.err

    (ckpt / "sub" / "config.json").write_text('{"layers": 3}\n')
    (ckpt / "extra.bin").write_bytes(b"x")
    argv = ["verify", "checkpoint", str(ckpt), "--package", package, *key, "--checkpoint"]
    assert main([*argv, "ckpt_step_200"]) == 1
    err = capsys.readouterr().err
    assert "changed: sub/config.json" in err and "not in the manifest: extra.bin" in err
    assert "model.safetensors" not in err
    # A checkpoint the package has no files for: the hash alone decides.
    assert main([*argv, "ckpt_step_100"]) == 1
    assert "changed:" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--checkpoint", "ckpt_nope"], "lists no checkpoint 'ckpt_nope' (it lists: ckpt_step_100"),
        ([], "--package needs --checkpoint ID"),
    ],
)
def test_bad_package_arguments_are_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    ckpt = _checkpoint(tmp_path)
    _package(tmp_path, scan_checkpoint(ckpt))
    argv = ["verify", "checkpoint", str(ckpt), "--package", str(tmp_path / "package.json")]
    assert main([*argv, "--key", str(tmp_path / "workspace.pub.pem"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_file_that_is_not_a_json_package_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = _checkpoint(tmp_path)
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "other.json").write_text('{"files": []}')
    for name in ("report.pdf", "other.json"):
        argv = ["verify", "checkpoint", str(ckpt), "--package", str(tmp_path / name)]
        assert main([*argv, "--checkpoint", "ckpt_step_200"]) == 2
        assert "is not a JSON audit package" in capsys.readouterr().err
    assert (
        main(
            ["verify", "checkpoint", str(ckpt), "--hash", "sha256:" + "0" * 64, "--checkpoint", "x"]
        )
        == 2
    )
    assert "--checkpoint is for --package" in capsys.readouterr().err


def test_a_signed_package_must_verify_before_it_vouches_for_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Editing the package to match a changed directory breaks its signature: refused."""
    ckpt = _checkpoint(tmp_path)
    _package(tmp_path, scan_checkpoint(ckpt), signed=True)
    package = tmp_path / "package.json"
    argv = ["verify", "checkpoint", str(ckpt), "--package", str(package), "--checkpoint"]
    argv += ["ckpt_step_200", "--key", str(tmp_path / "workspace.pub.pem")]
    assert main(argv) == 0
    assert "signature verified" in capsys.readouterr().err

    (ckpt / "sub" / "config.json").write_text('{"layers": 3}\n')
    forged = json.loads(package.read_text())
    entry = next(c for c in forged["checkpoints"] if c["id"] == "ckpt_step_200")
    entry["hash"] = scan_checkpoint(ckpt).checkpoint_hash
    package.write_text(json.dumps(forged, indent=2, sort_keys=True) + "\n")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"the package {package} does not verify" in err and "FAIL" in err


def test_a_dataset_is_verified_against_the_root_and_count_the_package_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "extra.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": f"note {i}"}) + "\n" for i in range(100)))
    _package(tmp_path, scan_checkpoint(_checkpoint(tmp_path)), dataset=hash_dataset(data).root)
    argv = ["verify", "dataset", str(data), "--package", str(tmp_path / "package.json")]
    argv += ["--key-fingerprint", attestation.key_id(KEY.public_key())]
    assert main([*argv, "--dataset", "ds_extra_v1"]) == 0
    assert "over 100 records" in capsys.readouterr().out
    assert main([*argv, "--dataset", "ds_notes_v3"]) == 1  # another dataset's root
    assert "not sha256:" in capsys.readouterr().err
    assert main([*argv, "--dataset", "ds_nope"]) == 2
    assert (
        "lists no dataset 'ds_nope' (it lists: ds_notes_v3, ds_extra_v1" in capsys.readouterr().err
    )
    assert main([*argv, "--dataset", "ds_extra_v1", "--record-count", "100"]) == 2
    assert "--record-count comes from the package" in capsys.readouterr().err

    data.write_text(data.read_text().replace("note 7", "note 8"))
    assert main([*argv, "--dataset", "ds_extra_v1"]) == 1
