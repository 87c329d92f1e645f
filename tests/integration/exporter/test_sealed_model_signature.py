"""The seal signs the final model: once the run is sealed, its model's OpenSSF Model Signing
signature (made from the files the hasher listed, not by reading the model again) is stored
under Object Lock beside the packages, named in the JSON package and its signed statement,
and served by the exporter; sigstore's `model_signing verify key` (a tool we did not write)
accepts the model directory with the workspace's published OMS key, and rejects a changed,
an added and a removed file."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import cognify_events as ev
import pytest
from cognify import cli, model_signature
from cognify_hashing.filesystem import scan_checkpoint
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, StoreSettings

from tests.integration.lineage.harness import eventually, http, signed
from tests.unit.exporter.oms_cli import verify
from tests.unit.lineage.script import Script, hash_results, training

from .conftest import Cluster, approve, cluster


def _model(root: Path) -> Path:
    d = root / "final"
    (d / "tokenizer").mkdir(parents=True)
    (d / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    (d / "config.json").write_bytes(b'{"model_type": "llama"}\n')
    (d / "tokenizer" / "vocab.txt").write_bytes(b"a\nb\n")
    return d


def _hashed_model(script: Script, model: Path) -> ev.Event:
    """The hasher's answer for the model: its manifest, every file's SHA-256."""
    manifest = scan_checkpoint(model)
    result = script.hashed(ev.HashTarget.MODEL, "model_final", manifest.checkpoint_hash)
    files = [ev.FileHash(path=e.path, size=e.size, sha256=e.sha256) for e in manifest.entries]
    payload = result.payload.model_copy(update={"files": files})
    return result.model_copy(update={"payload": payload})


async def _trained(c: Cluster, run_id: str, model: Path) -> None:
    script = Script(c.workspace, run_id)
    await c.s.send_raw([signed(e, c.keys.writer) for e in training(script)])
    results = [
        r
        for r in hash_results(script)
        if not (isinstance(r, ev.HashComputed) and r.payload.target_id == "model_final")
    ]
    await c.s.send_events([*results, _hashed_model(script, model)])

    async def folded() -> bool:
        run = (await c.s.runs(run_id, full=False)).get(run_id)
        if run is None or len(run.nodes) != 9 or run.status != "completed":
            return False
        return all(n.hash_status == "computed" for n in run.nodes.values())

    await eventually(folded, f"run {run_id} folded")


def _get(url: str, key: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return bytes(answer.read())


async def test_the_seal_signs_the_model_and_model_signing_verifies_the_directory(
    kafka: KafkaSettings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(tmp_path)
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await _trained(c, run_id, model)
        await approve(c, run_id)
        status, body = await http(
            "POST", f"{c.exporter_url}/v1/runs/{run_id}/seal", c.keys.reviewer, {"formats": []}
        )
        assert status == 200, body
        # Made by the seal itself, before any export was asked for.
        bundle = await asyncio.to_thread(
            _get, f"{c.exporter_url}/v1/runs/{run_id}/model-signature", c.keys.reviewer
        )
        status, published = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/{c.workspace}/oms-key", c.keys.reviewer
        )
        assert status == 200, published
        status, _ = await http(
            "POST",
            f"{c.exporter_url}/v1/runs/{run_id}/exports",
            c.keys.reviewer,
            {"format": "json", "template": "default"},
        )
        assert status == 201
        package = json.loads(
            await asyncio.to_thread(
                _get, f"{c.exporter_url}/v1/runs/{run_id}/exports/default/json", c.keys.reviewer
            )
        )
        status, envelope = await http(
            "GET",
            f"{c.exporter_url}/v1/runs/{run_id}/exports/default/json/envelope",
            c.keys.reviewer,
        )
        assert status == 200
        status, _ = await http(
            "POST",
            f"{c.exporter_url}/v1/runs/{run_id}/exports",
            c.keys.reviewer,
            {"format": "pdf", "template": "default"},
        )
        assert status == 201
        report_pdf = await asyncio.to_thread(
            _get, f"{c.exporter_url}/v1/runs/{run_id}/exports/default/pdf", c.keys.reviewer
        )
        monkeypatch.setenv("COGNIFY_EXPORTER_URL", c.exporter_url)
        monkeypatch.setenv("COGNIFY_API_KEY", c.keys.reviewer)
        said = await asyncio.to_thread(
            model_signature.download, run_id, c.workspace, tmp_path / "downloaded"
        )
        assert (
            await asyncio.to_thread(
                cli.main,
                [
                    "model-signature",
                    "--run-id",
                    run_id,
                    "--workspace",
                    c.workspace,
                    "--output-dir",
                    str(tmp_path / "cli"),
                ],
            )
            == 0
        )
        other = await http(
            "GET", f"{c.exporter_url}/v1/runs/run-nobody/model-signature", c.keys.reviewer
        )
        assert other[0] == 404

    digest = "sha256:" + hashlib.sha256(bundle).hexdigest()
    named = package["model"]["oms_signature"]
    assert named["sha256"] == digest and named["files"] == 3
    assert named["key_hint"] == published["key_hint"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicate"]["model_signature"]["sha256"] == digest

    key = f"packages/{c.workspace}/{run_id}/{run_id}.model.sig"
    assert named["object_key"] == key
    mode, _until = ObjectStore(StoreSettings()).retention(key) or ("none", None)
    assert mode == "COMPLIANCE"  # locked like the packages

    # The PDF's seal certificate names the same signature, and the command it prints runs
    # as printed on the files `cognify model-signature` downloads (below).
    (tmp_path / "report.pdf").write_bytes(report_pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    cert = " ".join(text[text.rindex("Seal certificate") :].split())
    assert f"signature object {key}" in cert and f"signature SHA-256 {digest}" in cert
    printed = (
        f"model_signing verify key MODEL_DIR --signature {run_id}.model.sig "
        f"--public_key {c.workspace}.oms.pub.pem"
    )
    assert printed in cert, cert
    assert said.signature.name == f"{run_id}.model.sig"
    assert said.public_key.name == f"{c.workspace}.oms.pub.pem"

    sig, pub = tmp_path / "model.sig", tmp_path / "oms.pub.pem"
    sig.write_bytes(bundle)
    pub.write_text(published["public_key_pem"])
    done = verify(model, sig, pub)
    assert done.returncode == 0, done.stdout + done.stderr
    # the same two files through `cognify model-signature`
    assert said.signature.read_bytes() == bundle and said.sha256 == digest
    assert said.public_key.read_text() == published["public_key_pem"]
    done = verify(model, said.signature, said.public_key)
    assert done.returncode == 0, done.stdout + done.stderr

    for change in ("changed", "added", "removed"):
        copy = tmp_path / change / "final"
        shutil.copytree(model, copy)
        if change == "changed":
            data = bytearray((copy / "model.safetensors").read_bytes())
            data[1000] ^= 1
            (copy / "model.safetensors").write_bytes(bytes(data))
        elif change == "added":
            (copy / "tokenizer" / "extra.txt").write_bytes(b"x")
        else:
            (copy / "config.json").unlink()
        refused = verify(copy, sig, pub)
        assert refused.returncode == 1, (change, refused.stdout)
        assert "Verification failed" in refused.stderr, (change, refused.stderr)
