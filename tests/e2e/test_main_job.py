"""The main job, end to end, through the real SDK and every service: the walkthrough's
fine-tune is recorded, hashed, put in lineage, approved, sealed, exported as PDF, JSON and
XLSX to WORM storage, downloaded and verified."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def services_stopped_after() -> Iterator[None]:
    """The main job leaves the services running (a user goes on using them); a test run
    stops them again unless they were already up before it."""
    services = str(ROOT / "deploy/services")
    before = subprocess.run([services, "status"], capture_output=True, text=True, check=True)
    yield
    if " up " not in before.stdout:
        subprocess.run([services, "down"], capture_output=True, check=True)


@pytest.mark.usefixtures("services_stopped_after")
def test_the_main_job_audits_a_fine_tune_from_training_to_verified_package(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy/demo.py")],
        cwd=ROOT,
        env={**os.environ, "COGNIFY_DEMO_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_id = re.search(r"run (run_\w+) finished", done.stdout)
    assert run_id, done.stdout
    packages = tmp_path / "audit-packages"
    stem = packages / f"{run_id[1]}-audit"

    package = json.loads(Path(f"{stem}.json").read_text())
    assert package["status"] == "AUDIT_SEALED" and package["run_id"] == run_id[1]
    kinds = {node["type"] for node in package["nodes"]}
    assert kinds == {"dataset", "config", "checkpoint", "eval", "model"}
    for node in package["nodes"]:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", node["hash"] or ""), node
    assert {("ds_clinical-notes_3.1", "ckpt_step_12")} <= {
        (e["from"], e["to"]) for e in package["edges"]
    }
    # The auditor's offline check of each checkpoint directory against the sealed package.
    listed = [c for c in [*package["checkpoints"], package["model"]] if c.get("manifest")]
    assert {c["id"] for c in listed} >= {"ckpt_step_6", "ckpt_step_12"}, package["checkpoints"]
    for entry in listed:
        assert f"{entry['id']:20} {len(entry['manifest'])} files match the package" in done.stdout
    (approval,) = package["approvals"]
    assert approval["reviewer"] == {"name": "Dr. Ana Ortiz", "role": "compliance officer"}
    assert package["seal"]["chain_head"].startswith("sha256:")

    # It ends with the reviewer dashboard's address and a key that signs in there.
    shown = re.search(r"open\s+(http://\S+)/runs/(\S+)\n.*reviewer key:\n\s+(cgk_\S+)", done.stdout)
    assert shown and shown[2] == run_id[1], done.stdout[-1000:]
    sign_in = urllib.request.Request(
        f"{shown[1]}/api/session",
        data=json.dumps({"api_key": shown[3]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(sign_in, timeout=30) as answer:
        me = json.loads(answer.read())
    assert (me["role"], me["person"]["name"]) == ("reviewer", "Dr. Ana Ortiz")

    text = subprocess.run(
        ["pdftotext", f"{stem}.pdf", "-"], capture_output=True, text=True, check=True
    ).stdout
    for section in (
        "Model identification",
        "Intended use statement",
        "Training data provenance attestation",
        "Evaluation results",
        "Approval record",
        "Seal certificate",
    ):
        assert section in text, section
    assert "Dr. Ana Ortiz" in text and "safe_harbor" in text

    with zipfile.ZipFile(f"{stem}.xlsx") as xlsx:
        workbook = xlsx.read("xl/workbook.xml").decode()
    for sheet in ("datasets", "configs", "checkpoints", "eval"):
        assert sheet in workbook.lower(), sheet

    cognify = str(Path(sys.executable).with_name("cognify"))
    for fmt in ("json", "pdf", "xlsx"):
        ok = subprocess.run(
            [cognify, "verify-package", f"{stem}.{fmt}", "--key", f"{stem}.{fmt}.pub.pem"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert ok.returncode == 0 and "package verified" in ok.stdout, ok.stdout + ok.stderr
