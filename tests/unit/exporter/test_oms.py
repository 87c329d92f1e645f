"""OMS v1.0 signatures (cognify_exporter.oms) checked by sigstore's own `model_signing`
(PyPI `model-signing`, a tool we did not write): its CLI `verify key` accepts the model
directory with the workspace's P-256 key and rejects a changed, an added and a removed
file; its Python API agrees (docs/decisions/oms.md)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cognify_exporter import oms
from cryptography.exceptions import InvalidTag
from model_signing import verifying

from .oms_cli import verify

MASTER = bytes(range(32))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    d = tmp_path / "final"
    (d / "sub" / "dir").mkdir(parents=True)
    (d / "model.safetensors").write_bytes(bytes(range(256)))
    (d / "config.json").write_bytes(b'{"a":1}\n')
    (d / "Zeta.bin").write_bytes(b"")
    (d / "sub" / "dir" / "\u00fc.txt").write_bytes(b"hello\n")
    (d / "sub" / "a.txt").write_bytes(b"a")
    return d


def _sign(model: Path, tmp_path: Path) -> tuple[Path, Path]:
    key = oms.generate_key()
    pub = tmp_path / "oms.pub.pem"
    pub.write_bytes(oms.public_pem(key.public_key()))
    sig = tmp_path / "model.sig"
    sig.write_bytes(oms.sign_directory(model, key))
    return sig, pub


def test_model_signing_cli_accepts_the_untouched_model(model: Path, tmp_path: Path) -> None:
    sig, pub = _sign(model, tmp_path)
    done = verify(model, sig, pub)
    assert done.returncode == 0, done.stderr
    assert "Verification succeeded" in done.stdout


def test_model_signing_python_api_accepts_it_too(model: Path, tmp_path: Path) -> None:
    sig, pub = _sign(model, tmp_path)
    config = verifying.Config()  # type: ignore[no-untyped-call]
    config.use_elliptic_key_verifier(public_key=pub).verify(model, sig)


@pytest.mark.parametrize("change", ["changed", "added", "removed"])
def test_model_signing_cli_rejects_a_changed_added_or_removed_file(
    model: Path, tmp_path: Path, change: str
) -> None:
    sig, pub = _sign(model, tmp_path)
    if change == "changed":
        data = bytearray((model / "model.safetensors").read_bytes())
        data[100] ^= 1
        (model / "model.safetensors").write_bytes(bytes(data))
    elif change == "added":
        (model / "sub" / "extra.bin").write_bytes(b"x")
    else:
        (model / "Zeta.bin").unlink()
    done = verify(model, sig, pub)
    assert done.returncode == 1, done.stdout
    assert "Verification failed" in done.stderr


def test_another_key_is_refused(model: Path, tmp_path: Path) -> None:
    sig, _pub = _sign(model, tmp_path)
    other = tmp_path / "other.pem"
    other.write_bytes(oms.public_pem(oms.generate_key().public_key()))
    done = verify(model, sig, other)
    assert done.returncode == 1 and "Key mismatch" in done.stderr


def test_a_signature_kept_inside_the_model_directory_verifies(model: Path, tmp_path: Path) -> None:
    key = oms.generate_key()
    pub = tmp_path / "oms.pub.pem"
    pub.write_bytes(oms.public_pem(key.public_key()))
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")  # never signed
    sig = model / "model.sig"
    sig.write_bytes(oms.sign_directory(model, key, skip=["model.sig"]))
    done = verify(model, sig, pub)
    assert done.returncode == 0, done.stderr


def test_the_sealed_manifest_signs_the_same_statement_as_the_files(model: Path) -> None:
    """Cognify's checkpoint manifest (docs/spec/hashing.md section 7, its test vector's
    files) gives the same OMS statement as hashing the directory: the exporter can sign a
    sealed model from its manifest without reading the files again."""
    manifest = [
        {"path": "Zeta.bin", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()},
        {
            "path": "config.json",
            "size": 8,
            "sha256": "e346432021b04179518d9614f3560ccd71354a4ee101ddcb893d6959a9d6301c",
        },
        {
            "path": "model.safetensors",
            "size": 256,
            "sha256": "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880",
        },
        {
            "path": "sub/a.txt",
            "size": 1,
            "sha256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
        },
        {
            "path": "sub/dir/\u00fc.txt",
            "size": 6,
            "sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        },
    ]
    key = oms.generate_key()
    from_manifest = oms.sign_manifest("final", manifest, key)
    assert from_manifest == oms.sign_directory(model, key)  # deterministic ECDSA (RFC 6979)


def test_the_oms_key_is_stored_only_sealed_and_bound_to_its_workspace() -> None:
    key = oms.generate_key()
    sealed = oms.seal_key("ws-1", key, MASTER)
    der_private = key.private_numbers().private_value.to_bytes(32, "big")
    assert der_private not in sealed.private_key_sealed
    opened = oms.open_key(sealed, MASTER)
    assert opened.private_numbers() == key.private_numbers()
    with pytest.raises(InvalidTag):
        oms.open_key(oms.SealedOmsKey("ws-2", sealed.public_pem, sealed.private_key_sealed), MASTER)


def test_links_and_bad_paths_are_refused(model: Path) -> None:
    os.symlink(model / "config.json", model / "link.json")
    with pytest.raises(oms.NotSignable, match=r"link\.json"):
        oms.directory_files(model)
    key = oms.generate_key()
    for bad in ["../x", "/etc/passwd", "a//b", "a\\b", ""]:
        with pytest.raises(oms.NotSignable):
            oms.statement("m", [oms.FileDigest(bad, "0" * 64)])
    with pytest.raises(oms.NotSignable, match="hex"):
        oms.sign(oms.statement("m", [oms.FileDigest("a", "XYZ")]), key)
