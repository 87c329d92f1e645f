"""Checkpoint manifests: per-file hashes equal sha256sum's, the manifest is sha256sum -c
input, and the checkpoint hash is SHA-256 of those exact bytes."""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from cognify_hashing import Manifest, ManifestEntry, ManifestError, hash_file, scan_checkpoint
from cognify_hashing import filesystem as filesystem_module


def make_checkpoint(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "config.json").write_bytes(b'{"hidden_size": 8}\n')
    (root / "model.safetensors").write_bytes(os.urandom(300_000))
    (root / "Zeta.bin").write_bytes(b"")
    (root / "sub" / "tokenizer.json").write_bytes(b"{}")
    (root / "sub" / "deeper" / "\u00fcber space.txt").write_bytes(b"hello\n")
    return root


def sha256sum(directory: Path, paths: list[str]) -> dict[str, str]:
    result = subprocess.run(
        ["sha256sum", "--", *paths], cwd=directory, capture_output=True, check=True
    )
    lines = result.stdout.decode("utf-8").splitlines()
    return {line[66:]: line[:64] for line in lines}


def test_per_file_hashes_equal_the_real_sha256sum(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    manifest = scan_checkpoint(root)
    expected = sha256sum(root, [entry.path for entry in manifest.entries])
    assert {entry.path: entry.sha256 for entry in manifest.entries} == expected


def test_sha256sum_check_accepts_the_canonical_manifest(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    manifest_file = tmp_path / "manifest.sha256"
    manifest_file.write_bytes(scan_checkpoint(root).canonical_bytes())
    check = subprocess.run(
        ["sha256sum", "--strict", "-c", str(manifest_file)], cwd=root, capture_output=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    (root / "config.json").write_bytes(b'{"hidden_size": 9}\n')
    tampered = subprocess.run(
        ["sha256sum", "-c", str(manifest_file)], cwd=root, capture_output=True
    )
    assert tampered.returncode != 0


def test_the_manifest_lists_regular_files_sorted_by_utf8_bytes(tmp_path: Path) -> None:
    manifest = scan_checkpoint(make_checkpoint(tmp_path / "ckpt"))
    paths = [entry.path for entry in manifest.entries]
    assert paths == [
        "Zeta.bin",
        "config.json",
        "model.safetensors",
        "sub/deeper/\u00fcber space.txt",
        "sub/tokenizer.json",
    ]
    sizes = {entry.path: entry.size for entry in manifest.entries}
    assert sizes["model.safetensors"] == 300_000
    assert sizes["Zeta.bin"] == 0


def test_the_checkpoint_hash_is_sha256_of_the_manifest_lines(tmp_path: Path) -> None:
    manifest = scan_checkpoint(make_checkpoint(tmp_path / "ckpt"))
    canonical = manifest.canonical_bytes()
    assert canonical.endswith(b"\n")
    assert canonical.count(b"\n") == len(manifest.entries)
    assert manifest.checkpoint_hash == "sha256:" + hashlib.sha256(canonical).hexdigest()


def test_changing_one_byte_of_one_file_changes_the_checkpoint_hash(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    before = scan_checkpoint(root).checkpoint_hash
    weights = root / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[123_456] ^= 1
    weights.write_bytes(bytes(data))
    assert scan_checkpoint(root).checkpoint_hash != before


def test_renaming_a_file_changes_the_checkpoint_hash(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    before = scan_checkpoint(root).checkpoint_hash
    (root / "config.json").rename(root / "config2.json")
    assert scan_checkpoint(root).checkpoint_hash != before


def test_hashing_on_threads_gives_the_same_manifest(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    assert scan_checkpoint(root, workers=4) == scan_checkpoint(root)


def test_files_are_streamed_across_many_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystem_module, "READ_SIZE", 1000)
    content = os.urandom(10_500)
    (tmp_path / "shard.bin").write_bytes(content)
    assert hash_file(tmp_path / "shard.bin") == (len(content), hashlib.sha256(content).hexdigest())


def test_a_symlink_inside_a_checkpoint_is_refused(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    (root / "link.bin").symlink_to(root / "config.json")
    with pytest.raises(ManifestError, match="symbolic link"):
        scan_checkpoint(root)


def test_a_symlinked_directory_inside_a_checkpoint_is_refused(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    (tmp_path / "elsewhere").mkdir()
    (root / "sub" / "outside").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ManifestError, match="symbolic link"):
        scan_checkpoint(root)


def test_unlistable_file_names_are_refused(tmp_path: Path) -> None:
    root = make_checkpoint(tmp_path / "ckpt")
    (root / "bad\nname").write_bytes(b"x")
    with pytest.raises(ManifestError, match="newline"):
        scan_checkpoint(root)


def test_an_empty_checkpoint_hashes_to_sha256_of_nothing(tmp_path: Path) -> None:
    (tmp_path / "ckpt" / "only-dirs").mkdir(parents=True)
    manifest = scan_checkpoint(tmp_path / "ckpt")
    assert manifest.entries == ()
    assert manifest.checkpoint_hash == "sha256:" + hashlib.sha256(b"").hexdigest()


def test_a_missing_checkpoint_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError):
        scan_checkpoint(tmp_path / "absent")


def test_entries_are_validated_and_duplicates_refused() -> None:
    digest = hashlib.sha256(b"").hexdigest()
    for bad_path in ("/abs", "a/../b", "a//b", "./a", "", "back\\slash"):
        with pytest.raises(ManifestError):
            ManifestEntry(bad_path, 0, digest)
    with pytest.raises(ManifestError):
        ManifestEntry("a", 0, digest.upper())
    with pytest.raises(ManifestError, match="twice"):
        Manifest.from_entries([ManifestEntry("a", 0, digest), ManifestEntry("a", 0, digest)])
