"""Offline verification of an audit package (`cognify verify-package`, docs/spec/package.md).

Given the package file, its DSSE envelope (`<package>.dsse.json`) and the workspace's
public seal key, check, without any server:

1. the envelope's signature: Ed25519 over DSSE's PAE of the in-toto Statement;
2. the Statement: its type, predicate type, and a package subject whose SHA-256 is the
   package's own hash (one flipped byte fails here);
3. for a JSON package, that the other subjects (chain head, dataset roots, final model)
   are the ones the package itself states.

Every check is reported; the package is accepted only when none fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://cognify.dev/audit-package/v1"
EVIDENCE_PREFIXES = ("chain-head:", "dataset:", "model:")


@dataclass
class Verdict:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    statement: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and bool(self.passed)

    def lines(self) -> list[str]:
        return [f"ok    {p}" for p in self.passed] + [f"FAIL  {f}" for f in self.failed]


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def key_id(public_raw: bytes) -> str:
    return "ed25519:" + hashlib.sha256(public_raw).hexdigest()[:16]


def load_public_key(data: bytes) -> Any:
    """An Ed25519 public key from PEM, or from base64 / hex of the 32 raw bytes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        key = load_pem_public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not an Ed25519 key")
        return key
    raw = bytes.fromhex(text.decode()) if len(text) == 64 else base64.b64decode(text)
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(package: bytes, envelope: dict[str, Any], public_key: Any) -> Verdict:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    v = Verdict()
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        v.failed.append(f"envelope: payloadType {envelope.get('payloadType')!r} is not in-toto")
        return v
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
    except (KeyError, ValueError):
        v.failed.append("envelope: payload is missing or not base64")
        return v
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    wanted = key_id(raw)
    signed = False
    for entry in envelope.get("signatures", []):
        try:
            public_key.verify(base64.b64decode(entry["sig"]), pae(PAYLOAD_TYPE, payload))
            signed = True
            break
        except (InvalidSignature, KeyError, ValueError):
            continue
    if not signed:
        ids = ", ".join(str(s.get("keyid")) for s in envelope.get("signatures", []))
        v.failed.append(
            f"signature: no valid signature by key {wanted} (the envelope names {ids or 'none'})"
        )
        return v
    v.passed.append(f"signature: valid Ed25519 signature by workspace key {wanted}")
    statement = json.loads(payload)
    v.statement = statement
    if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
        v.failed.append("statement: not an in-toto v1 Cognify audit-package statement")
        return v
    subjects = {s["name"]: "sha256:" + s["digest"]["sha256"] for s in statement["subject"]}
    packages = {n: d for n, d in subjects.items() if not n.startswith(EVIDENCE_PREFIXES)}
    actual = sha256(package)
    if actual in packages.values():
        v.passed.append(f"package hash: {actual} is the signed package subject")
    else:
        signed_hash = ", ".join(packages.values()) or "none"
        v.failed.append(
            f"package hash: the file's SHA-256 is {actual}, the signed package hash is "
            f"{signed_hash} (the file was changed after it was sealed)"
        )
    predicate = statement.get("predicate", {})
    fmt = predicate.get("format")
    if fmt == "json" and actual in packages.values():
        _check_json_subjects(json.loads(package), subjects, predicate, v)
    else:
        evidence = [n for n in subjects if n.startswith(EVIDENCE_PREFIXES)]
        v.passed.append(
            f"subjects: {len(evidence)} evidence subjects signed ({', '.join(evidence)})"
        )
    return v


def _check_json_subjects(
    doc: dict[str, Any], subjects: dict[str, str], predicate: dict[str, Any], v: Verdict
) -> None:
    run_id = doc.get("run_id")
    expect = {f"chain-head:{run_id}": doc.get("chain", {}).get("head")}
    for d in doc.get("datasets", []):
        if d.get("hash"):
            expect[f"dataset:{d['id']}"] = d["hash"]
    model = doc.get("model")
    if model and model.get("hash"):
        expect[f"model:{model['id']}"] = model["hash"]
    signed = {n: h for n, h in subjects.items() if n.startswith(EVIDENCE_PREFIXES)}
    if predicate.get("run_id") != run_id:
        v.failed.append(f"subjects: signed for run {predicate.get('run_id')}, package is {run_id}")
    elif signed != expect:
        wrong = sorted(set(signed.items()) ^ set(expect.items()))
        v.failed.append(f"subjects: signed evidence differs from the package: {wrong}")
    elif doc.get("seal", {}).get("chain_head") != doc.get("chain", {}).get("head"):
        v.failed.append("subjects: the package's seal and chain head disagree")
    else:
        v.passed.append(
            f"subjects: chain head, {len(expect) - 1} dataset/model hashes match the package"
        )


def verify_files(
    package_path: Path, envelope_path: Path | None = None, public_key_path: Path | None = None
) -> Verdict:
    """Read the files (the envelope and key default to `<package>.dsse.json` and
    `<package>.pub.pem`) and verify."""
    envelope_path = envelope_path or Path(f"{package_path}.dsse.json")
    public_key_path = public_key_path or Path(f"{package_path}.pub.pem")
    v = Verdict()
    try:
        package = package_path.read_bytes()
        envelope = json.loads(envelope_path.read_bytes())
        key = load_public_key(public_key_path.read_bytes())
    except (OSError, ValueError) as exc:
        v.failed.append(f"input: {exc}")
        return v
    return verify(package, envelope, key)


def is_package(path: Path) -> bool:
    """A file that has a DSSE envelope beside it: what the `verify` dispatch sends here."""
    return Path(f"{path}.dsse.json").is_file()


def main_for(args: Any) -> int:
    """`cognify verify package` / `cognify verify-package`: print each check, exit 0 or 1."""
    verdict = verify_files(
        Path(args.package),
        Path(args.envelope) if args.envelope else None,
        Path(args.public_key) if args.public_key else None,
    )
    print("\n".join(verdict.lines()))
    print("package verified" if verdict.ok else "package NOT verified")
    return 0 if verdict.ok else 1
