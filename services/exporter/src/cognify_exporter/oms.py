"""OpenSSF Model Signing (OMS v1.0) signatures of a model directory (pure but for
`directory_files`, which reads the directory it is given).

The format is that of sigstore's `model_signing` (docs/decisions/oms.md): a Sigstore bundle
(`application/vnd.dev.sigstore.bundle.v0.3+json`) holding a DSSE envelope whose payload is
an in-toto v1 statement with predicate type `https://model_signing/signature/v1.0`:

- `predicate.serialization`: `{"method": "files", "hash_type": "sha256",
  "allow_symlinks": false}`;
- `predicate.resources`: one `{"name": <path relative to the model directory, "/"
  separated>, "algorithm": "sha256", "digest": <hex SHA-256 of the file's bytes>}` per
  regular file, the `.git*` paths left out as model_signing leaves them out;
- `subject`: one, the model's name and `sha256` = SHA-256 over the resources' raw digests
  concatenated in the listed order.

The per-file digests are exactly those of Cognify's checkpoint manifest
(docs/spec/hashing.md section 7), so a sealed run's model can be signed from its manifest
without reading the files again. The envelope is signed with ECDSA P-256 / SHA-256
(deterministic, RFC 6979) by the workspace's OMS key, a second key beside the Ed25519 seal
key, stored encrypted the same way (AES-256-GCM under the master key, the workspace id and
the key's purpose as associated data).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
# model_signing never hashes these (its `ignore_git_paths`, on by default).
GIT_PATHS = frozenset({".git", ".gitattributes", ".github", ".gitignore"})
SEALING = "aes-256-gcm-v1"
PURPOSE = "oms-p256"  # bound into the sealed key: an OMS key never opens as a seal key


class NotSignable(ValueError):
    """A directory (or manifest) that has no honest OMS signature: a link, a bad path."""


@dataclass(frozen=True)
class FileDigest:
    path: str  # relative, "/"-separated
    sha256: str  # lowercase hex


@dataclass(frozen=True)
class SealedOmsKey:
    workspace_id: str
    public_pem: bytes
    private_key_sealed: bytes  # nonce || AES-GCM(PKCS#8 DER) ; AD = workspace id + purpose


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """model_signing's key identifier: hex SHA-256 of the public key's PEM (SPKI)."""
    return hashlib.sha256(public_pem(key)).hexdigest()


def _aad(workspace_id: str) -> bytes:
    return f"{workspace_id}\x00{PURPOSE}".encode()


def seal_key(workspace_id: str, key: ec.EllipticCurvePrivateKey, master_key: bytes) -> SealedOmsKey:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(master_key).encrypt(nonce, der, _aad(workspace_id))
    return SealedOmsKey(workspace_id, public_pem(key.public_key()), sealed)


def open_key(sealed: SealedOmsKey, master_key: bytes) -> ec.EllipticCurvePrivateKey:
    nonce, body = sealed.private_key_sealed[:12], sealed.private_key_sealed[12:]
    der = AESGCM(master_key).decrypt(nonce, body, _aad(sealed.workspace_id))
    key = serialization.load_der_private_key(der, None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise NotSignable("the sealed OMS key is not an ECDSA P-256 key")
    return key


def _check_path(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or any(c in path for c in "\n\r\x00")
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise NotSignable(f"not a relative file path inside the model: {path!r}")
    return p


def _ignored(p: PurePosixPath) -> bool:
    return p.parts[0] in GIT_PATHS


def statement(model_name: str, files: Iterable[FileDigest]) -> dict[str, Any]:
    """The in-toto statement model_signing verifies (files outside `.git*` only)."""
    entries: dict[PurePosixPath, str] = {}
    for f in files:
        p = _check_path(f.path)
        if len(f.sha256) != 64 or any(c not in "0123456789abcdef" for c in f.sha256):
            raise NotSignable(f"not a lowercase hex SHA-256 for {f.path!r}: {f.sha256!r}")
        if p in entries:
            raise NotSignable(f"listed twice: {f.path!r}")
        if not _ignored(p):
            entries[p] = f.sha256
    ordered = sorted(entries.items())  # model_signing's order: by path parts
    root = hashlib.sha256(b"".join(bytes.fromhex(d) for _p, d in ordered)).hexdigest()
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": root}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": False},
            "resources": [{"name": str(p), "algorithm": "sha256", "digest": d} for p, d in ordered],
        },
    }


def pae(payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    return b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload), payload)


def sign(stmt: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> bytes:
    """The Sigstore bundle (JSON bytes, deterministic for a given key and statement)."""
    if key.curve.name != "secp256r1":
        raise NotSignable("OMS keys here are ECDSA P-256")
    payload = json.dumps(stmt, sort_keys=True, separators=(",", ":")).encode()
    sig = key.sign(pae(payload), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(key.public_key())},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
        },
    }
    return (json.dumps(bundle, sort_keys=True, indent=2) + "\n").encode()


def sign_manifest(
    model_name: str, manifest: Iterable[dict[str, Any]], key: ec.EllipticCurvePrivateKey
) -> bytes:
    """An OMS signature from a sealed checkpoint/model manifest (`path`, `sha256` entries)."""
    return sign(statement(model_name, (FileDigest(m["path"], m["sha256"]) for m in manifest)), key)


def directory_files(root: Path, skip: Iterable[str] = ()) -> list[FileDigest]:
    """Every regular file below `root` with its SHA-256, as docs/spec/hashing.md section 7
    lists them; `skip` names relative paths left out (where the signature itself is kept).
    A symbolic link or special file is refused, never followed."""
    skipped = set(skip)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root)
        if rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d not in GIT_PATHS]  # never signed
        for name in sorted(dirnames):
            if (Path(dirpath) / name).is_symlink():
                raise NotSignable(f"a symbolic link in the model: {(rel_dir / name).as_posix()}")
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = (rel_dir / name).as_posix()
            mode = full.lstat().st_mode
            if not stat.S_ISREG(mode):
                raise NotSignable(f"not a regular file in the model: {rel}")
            if rel in skipped:
                continue
            h = hashlib.sha256()
            with full.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out.append(FileDigest(rel, h.hexdigest()))
    return out


def sign_directory(root: Path, key: ec.EllipticCurvePrivateKey, skip: Iterable[str] = ()) -> bytes:
    return sign(statement(root.name, directory_files(root, skip)), key)


@dataclass(frozen=True)
class ModelSignature:
    model_id: str
    object_key: str
    sha256: str  # "sha256:<hex>" of the bundle's bytes
    key_hint: str  # model_signing's key identifier of the OMS public key
    files: int  # files signed (model_signing leaves `.git*` paths out)

    def json(self) -> dict[str, Any]:
        return {
            "format": "OpenSSF Model Signing v1.0 (Sigstore bundle, DSSE, ECDSA P-256)",
            "object_key": self.object_key,
            "sha256": self.sha256,
            "key_hint": self.key_hint,
            "files": self.files,
            "verify": (
                "model_signing verify key MODEL_DIR --signature "
                f"{self.object_key.rsplit('/', 1)[-1]} --public_key oms.pub.pem "
                "(the key: GET /v1/workspaces/{ws}/oms-key)"
            ),
        }


def object_key(workspace_id: str, run_id: str) -> str:
    return f"packages/{workspace_id}/{run_id}/{run_id}.model.sig"
