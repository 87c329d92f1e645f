"""`cognify prove` and `cognify verify`, offline: proofs agree with the hashing core, tampered
evidence fails with exit status 1, bad input gets a message and status 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cognify.cli import main
from cognify.verify_cli import audit_ranges
from cognify_hashing import (
    canonical_record,
    hash_dataset,
    leaf_hash,
    prove_inclusion,
    scan_checkpoint,
)

ROOT_13 = "sha256:2319cc66381db91925cb82b18ec7d1a0c1a73e1424c0b1d76516b86cc5524840"
RECORDS = [{"i": k, "text": f"record {k}"} for k in range(13)]  # the spec's chunking vector


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return path


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 33])
def test_audit_ranges_are_the_rfc6962_path(size: int) -> None:
    leaves = [leaf_hash(bytes([n])) for n in range(size)]
    for index in range(size):
        ranges = audit_ranges(index, 0, size)
        assert all(lo <= hi for lo, hi in ranges) and len(ranges) == len(
            prove_inclusion(leaves, index).audit_path
        )


def test_a_proof_of_every_record_matches_the_core_and_verifies(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaves = [leaf_hash(canonical_record(r)) for r in RECORDS]
    for index in range(13):
        out = tmp_path / f"p{index}.json"
        assert main(["prove", str(dataset), "--index", str(index), "-o", str(out)]) == 0
        document = json.loads(out.read_text())
        assert document == prove_inclusion(leaves, index).to_json()
        assert document["root"] == ROOT_13
        assert main(["verify", "proof", str(out), "--root", ROOT_13, "--record-count", "13"]) == 0
    assert "OK: record 12 of 13" in capsys.readouterr().out


def test_a_proof_by_record_content_embeds_the_record(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.json"
    record = '{"text": "record 7", "i": 7}'
    assert main(["prove", str(dataset), "--record", record, "--root", ROOT_13, "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["leaf_index"] == 7 and document["record"] == {"i": 7, "text": "record 7"}
    trusted = ["--root", ROOT_13, "--record-count", "13"]
    assert main(["verify", "proof", str(out), *trusted]) == 0
    other = '{"i": 8, "text": "record 8"}'
    assert main(["verify", "proof", str(out), "--record", other, *trusted]) == 1
    assert "leaf hash is not the proof's leaf_hash" in capsys.readouterr().err
    assert main(["prove", str(dataset), "--record", '{"i": 99}']) == 1


def test_a_tampered_proof_or_another_root_fails(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.json"
    assert main(["prove", str(dataset), "--index", "5", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    document["audit_path"][1] = "0" * 64
    out.write_text(json.dumps(document))
    assert main(["verify", "proof", str(out), "--root", ROOT_13, "--record-count", "13"]) == 1
    assert "does not lead from the leaf to the root" in capsys.readouterr().err
    other_root = ["--root", "sha256:" + "1" * 64, "--record-count", "13"]
    assert main(["verify", "proof", str(out), *other_root]) == 1
    assert main(["prove", str(dataset), "--index", "5", "--root", "sha256:" + "1" * 64]) == 1


def test_a_dataset_is_verified_against_its_root_with_a_progress_bar(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hash_dataset(dataset).root == ROOT_13
    args = ["verify", "dataset", str(dataset), "--root", ROOT_13, "--progress", "always"]
    assert main([*args, "--record-count", "13"]) == 0
    captured = capsys.readouterr()
    assert "OK:" in captured.out and "13 records" in captured.err
    dataset.write_text(dataset.read_text().replace("record 3", "record 3 "))
    assert main(args) == 1
    assert "not " + ROOT_13 in capsys.readouterr().err


def test_a_checkpoint_is_verified_against_its_hash_or_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = tmp_path / "checkpoint-9"
    (ckpt / "sub").mkdir(parents=True)
    (ckpt / "model.safetensors").write_bytes(bytes(range(256)) * 100)
    (ckpt / "sub" / "config.json").write_text("{}\n")
    manifest = scan_checkpoint(ckpt)
    sums = subprocess.run(
        ["sha256sum", "model.safetensors", "sub/config.json"],
        cwd=ckpt,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (tmp_path / "manifest.sha256").write_text(sums)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest.to_json()))
    for expected in (
        ["--hash", manifest.checkpoint_hash],
        ["--manifest", str(tmp_path / "manifest.sha256")],
        ["--manifest", str(tmp_path / "manifest.json")],
    ):
        assert main(["verify", "checkpoint", str(ckpt), *expected]) == 0
    (ckpt / "sub" / "config.json").write_text('{"changed": true}\n')
    (ckpt / "extra.bin").write_bytes(b"x")
    assert (
        main(["verify", "checkpoint", str(ckpt), "--manifest", str(tmp_path / "manifest.json")])
        == 1
    )
    err = capsys.readouterr().err
    assert "changed: sub/config.json" in err and "not in the manifest: extra.bin" in err
    assert main(["verify", "checkpoint", str(ckpt), "--hash", manifest.checkpoint_hash]) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["verify", "dataset", "/no/such.jsonl", "--root", ROOT_13], "no such dataset file"),
        (["verify", "dataset", "{data}", "--root", "sha256:abc"], "64 lowercase hex"),
        (
            ["verify", "proof", "/no/proof.json", "--root", ROOT_13, "--record-count", "13"],
            "no such file or directory",
        ),
        (["verify", "proof", "/no/proof.json"], "the root and the tree size from a source"),
        (["verify", "proof", "/no/proof.json", "--record-count", "13"], "--root R"),
        (["verify", "checkpoint", "/no/dir", "--hash", ROOT_13], "not a checkpoint directory"),
        (["prove", "{data}", "--index", "13"], "outside the dataset's 13 records"),
        (["prove", "{data}", "--record", "{not json"], "not valid JSON"),
    ],
)
def test_bad_input_is_explained_without_a_traceback(
    dataset: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([a.replace("{data}", str(dataset)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_proof_for_another_tree_size_is_never_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: a proof of record 37 edited to claim a 63-record tree still leads to the
    64-record root; the size must come from a trusted source, never from the proof."""
    data = tmp_path / "d64.jsonl"
    data.write_text("".join(json.dumps({"i": k}) + "\n" for k in range(64)))
    root = hash_dataset(data).root
    out = tmp_path / "p.json"
    assert main(["prove", str(data), "--index", "37", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    document["tree_size"] = 63
    out.write_text(json.dumps(document))
    assert main(["verify", "proof", str(out)]) == 2
    captured = capsys.readouterr()
    assert "OK" not in captured.out and "from a source you trust" in captured.err
    assert main(["verify", "proof", str(out), "--root", root]) == 2
    assert main(["verify", "proof", str(out), "--root", root, "--record-count", "64"]) == 1
    captured = capsys.readouterr()
    assert "OK" not in captured.out
    assert "the proof is for 63 records, the dataset has 64" in captured.err
    document["tree_size"] = 64
    out.write_text(json.dumps(document))
    assert main(["verify", "proof", str(out), "--root", root, "--record-count", "64"]) == 0
    assert "OK: record 37 of 64" in capsys.readouterr().out
