"""Offline verification of an audit package (`cognify verify-package`, docs/spec/package.md,
docs/spec/trust.md).

Given the package file, its DSSE envelope (`<package>.dsse.json`) and a public seal key
that the auditor chose, check, without any server:

1. the envelope, strictly: in-toto payload type, canonical base64, exactly one signature,
   its `keyid` (when present) the chosen key's fingerprint, and a valid Ed25519 signature
   by that key over DSSE's PAE of the in-toto Statement;
2. the Statement: its type, predicate type, the key it names, and one package subject whose
   SHA-256 is the package's own hash (one flipped byte fails here);
3. for a JSON package, that the other subjects (chain head, dataset roots, final model)
   and the seal key are the ones the package itself states.

The key is never taken from the package's side by default: a key that arrives with the
package authenticates nothing, since whoever edited the package can replace it. It is
`--key PUB.pem`, or the bundled key only when its fingerprint is the `--key-fingerprint`
the auditor obtained independently, or, with `--trust-bundled-key`, the bundled key with a
loud warning that the signer was not authenticated.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://cognify.dev/audit-package/v1"
APPROVAL_PREDICATE_TYPE = "https://cognify.dev/approval/v1"
NOTE_PREDICATE_TYPE = "https://cognify.dev/review/v1"
EVIDENCE_PREFIXES = ("chain-head:", "dataset:", "model:")
ENVELOPE_MEMBERS = {"payloadType", "payload", "signatures"}
FINGERPRINT = re.compile(r"^ed25519:[0-9a-f]{64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
UNTRUSTED = 2  # exit status: no key chosen, nothing was checked


class Untrusted(ValueError):
    """No key the auditor chose: the check is refused before it runs."""


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


@dataclass(frozen=True)
class Trust:
    """Where the verifying key comes from: `key` (a file the auditor chose), `fingerprint`
    (the bundled key, accepted only with this fingerprint), or `bundled` (the key beside
    the package, unauthenticated)."""

    key: Path | None = None
    fingerprint: str | None = None
    bundled: bool = False


@dataclass(frozen=True)
class ChosenKey:
    public: Ed25519PublicKey
    fingerprint: str
    authenticated: bool
    source: str


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fingerprint(public_raw: bytes) -> str:
    """`ed25519:` + SHA-256 of the 32 raw public-key bytes, all 64 hex digits."""
    return "ed25519:" + hashlib.sha256(public_raw).hexdigest()


def legacy_key_id(public_raw: bytes) -> str:
    """The 16-digit key id packages sealed before the full fingerprint carried."""
    return fingerprint(public_raw)[: len("ed25519:") + 16]


key_id = fingerprint


def strict_b64(text: object, what: str) -> bytes:
    """Standard base64 with canonical padding only: the one encoding of the bytes."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise ValueError(f"{what} is not canonical base64 (padding or trailing bits)")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate JSON member {name!r}")
        out[name] = value
    return out


def strict_json(data: bytes | str) -> Any:
    return json.loads(data, object_pairs_hook=_no_duplicates)


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or from base64 / hex of the 32 raw bytes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        key = load_pem_public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not an Ed25519 key")
        return key
    try:
        raw = bytes.fromhex(text.decode()) if len(text) == 64 else strict_b64(text.decode(), "key")
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the public key is neither PEM nor base64/hex of 32 bytes") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def raw_bytes(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def parse_fingerprint(text: str) -> str:
    value = text.strip().lower()
    if not FINGERPRINT.match(value):
        raise ValueError(
            f"--key-fingerprint {text!r} is not ed25519:<64 hex digits> (the full SHA-256 of "
            "the public key; a shorter key id is too short to pin a key)"
        )
    return value


def _envelope_payload(envelope: Any, public: Ed25519PublicKey, v: Verdict) -> bytes | None:
    """The payload, when the envelope is well formed and signed by `public` alone."""
    from cryptography.exceptions import InvalidSignature

    if not isinstance(envelope, dict) or set(envelope) != ENVELOPE_MEMBERS:
        v.failed.append(f"envelope: members must be exactly {sorted(ENVELOPE_MEMBERS)}")
        return None
    if envelope["payloadType"] != PAYLOAD_TYPE:
        v.failed.append(f"envelope: payloadType {envelope['payloadType']!r} is not in-toto")
        return None
    raw = raw_bytes(public)
    wanted = fingerprint(raw)
    try:
        payload = strict_b64(envelope["payload"], "envelope: payload")
        signatures = envelope["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise ValueError(
                "envelope: a Cognify envelope carries exactly one signature, this one "
                f"{len(signatures) if isinstance(signatures, list) else 'no list of'}"
            )
        entry = signatures[0]
        if not isinstance(entry, dict) or not {"sig"} <= set(entry) <= {"sig", "keyid"}:
            raise ValueError("envelope: a signature is {'keyid', 'sig'}")
        named = entry.get("keyid", wanted)
        if named not in (wanted, legacy_key_id(raw)):
            raise ValueError(f"signature: keyid {named!r} is not the chosen key {wanted}")
        sig = strict_b64(entry["sig"], "signature: sig")
        if len(sig) != 64:
            raise ValueError(f"signature: an Ed25519 signature has 64 bytes, not {len(sig)}")
    except ValueError as exc:
        v.failed.append(str(exc))
        return None
    try:
        public.verify(sig, pae(PAYLOAD_TYPE, payload))
    except InvalidSignature:
        v.failed.append(f"signature: no valid signature by key {wanted} over the statement")
        return None
    v.passed.append(f"signature: valid Ed25519 signature by key {wanted}")
    return payload


def _subjects(statement: Any, predicate_type: str = PREDICATE_TYPE) -> dict[str, str]:
    if (
        not isinstance(statement, dict)
        or statement.get("_type") != STATEMENT_TYPE
        or statement.get("predicateType") != predicate_type
        or not isinstance(statement.get("predicate"), dict)
        or not isinstance(statement.get("subject"), list)
    ):
        raise ValueError(f"statement: not an in-toto v1 statement of {predicate_type}")
    subjects: dict[str, str] = {}
    for s in statement["subject"]:
        name = s.get("name") if isinstance(s, dict) else None
        digest = s.get("digest") if isinstance(s, dict) else None
        if not isinstance(name, str) or not isinstance(digest, dict) or set(digest) != {"sha256"}:
            raise ValueError("statement: a subject is {'name', 'digest': {'sha256'}}")
        if not isinstance(digest["sha256"], str) or not HEX64.match(digest["sha256"]):
            raise ValueError(f"statement: subject {name!r} has no SHA-256 hex digest")
        if name in subjects:
            raise ValueError(f"statement: subject {name!r} is named twice")
        subjects[name] = "sha256:" + digest["sha256"]
    return subjects


def verify(package: bytes, envelope: Any, public_key: Ed25519PublicKey) -> Verdict:
    """Every check of the package against `public_key`, the one key trusted."""
    v = Verdict()
    payload = _envelope_payload(envelope, public_key, v)
    if payload is None:
        return v
    raw = raw_bytes(public_key)
    try:
        statement = strict_json(payload)
        subjects = _subjects(statement)
    except (ValueError, UnicodeDecodeError) as exc:
        v.failed.append(str(exc) if str(exc).startswith("statement") else f"statement: {exc}")
        return v
    v.statement = statement
    predicate = statement["predicate"]
    seal = predicate.get("seal")
    named = seal.get("key_id") if isinstance(seal, dict) else None
    if named in (fingerprint(raw), legacy_key_id(raw)):
        v.passed.append(f"key: the statement names the signing key {named}")
    else:
        v.failed.append(f"key: the statement names seal key {named!r}, not {fingerprint(raw)}")
    packages = [d for n, d in subjects.items() if not n.startswith(EVIDENCE_PREFIXES)]
    actual = sha256(package)
    if packages == [actual]:
        v.passed.append(f"package hash: {actual} is the signed package subject")
    else:
        signed_hash = ", ".join(packages) or "none"
        v.failed.append(
            f"package hash: the file's SHA-256 is {actual}, the signed package hash is "
            f"{signed_hash} (the file was changed after it was sealed)"
        )
        return v
    if predicate.get("format") == "json":
        _check_json(package, subjects, predicate, v)
        if not v.failed:
            _check_approvals(package, predicate, public_key, v)
    else:
        evidence = [n for n in subjects if n.startswith(EVIDENCE_PREFIXES)]
        v.passed.append(
            f"subjects: {len(evidence)} evidence subjects signed ({', '.join(evidence)})"
        )
        listed = predicate.get("approvals")
        if isinstance(listed, list):
            notes = predicate.get("annotations")
            counted = f" and {len(notes)} annotation" if isinstance(notes, list) else ""
            v.passed.append(
                f"approvals: {len(listed)} approval{counted} statement(s) signed by their "
                "SHA-256 (the statements themselves are in the run's JSON package)"
            )
    return v


def _approval_expected(doc: dict[str, Any], a: dict[str, Any], signer: str) -> dict[str, Any]:
    """The predicate an approval statement must carry for the package entry `a`."""
    chain = doc.get("chain") or {}
    return {
        "workspace_id": (doc.get("run") or {}).get("workspace_id"),
        "run_id": doc.get("run_id"),
        "decision_event_id": a.get("event_id"),
        "meaning": a.get("decision"),
        "signer": {
            "name": (a.get("reviewer") or {}).get("name"),
            "title": (a.get("reviewer") or {}).get("role"),
            "key_id": a.get("reviewer_key_id"),
        },
        "time": a.get("time"),
        "comment": a.get("comment"),
        "reviewed_chain": a.get("reviewed_chain"),
        "reviewed_lineage_digest": a.get("lineage_digest"),
        "sealed_chain": {"head": chain.get("head"), "length": chain.get("length")},
        "counted_at_seal": not a.get("stale", False),
        "stale_reason": a.get("stale_reason"),
        "signed_by": signer,
    }


def _signed_entry(
    entry: dict[str, Any],
    who: str,
    public: Ed25519PublicKey,
    predicate_type: str,
    expected: dict[str, Any],
    subjects_wanted: dict[str, Any],
) -> tuple[str | None, str]:
    """(the payload's SHA-256, "") when `entry["statement"]` is signed by `public` alone
    and states `expected` about `subjects_wanted`; (None, why) otherwise."""
    sub = Verdict()
    payload = _envelope_payload(entry["statement"], public, sub)
    if payload is None:
        return None, f"{who}: {'; '.join(sub.failed)}"
    try:
        statement = strict_json(payload)
        subjects = _subjects(statement, predicate_type)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"{who}: {exc}"
    predicate = statement["predicate"]
    if predicate != expected:
        wrong = sorted(
            k for k in expected.keys() | predicate.keys() if predicate.get(k) != expected.get(k)
        )
        return None, f"{who}: the signed statement and the package disagree on {', '.join(wrong)}"
    if subjects != subjects_wanted:
        return None, f"{who}: its subjects are not the run's chain heads"
    return sha256(payload), ""


def _approval_statement(
    doc: dict[str, Any], a: Any, public: Ed25519PublicKey, signer: str
) -> tuple[str | None, str]:
    """(the statement's payload SHA-256, a line) for a package's approval entry; None and
    why when it does not hold."""
    if not isinstance(a, dict) or not isinstance(a.get("statement"), dict):
        named = a.get("event_id") if isinstance(a, dict) else a
        return None, f"approvals: decision {named!r} has no signed statement"
    expected = _approval_expected(doc, a, signer)
    want = {f"chain-head:{doc.get('run_id')}": (doc.get("chain") or {}).get("head")}
    reviewed = a.get("reviewed_chain")
    if reviewed:
        want[f"reviewed-chain-head:{doc.get('run_id')}@{reviewed.get('length')}"] = reviewed.get(
            "head"
        )
    who = f"approval {a.get('event_id')}"
    digest, why = _signed_entry(a, who, public, APPROVAL_PREDICATE_TYPE, expected, want)
    if digest is None:
        return None, why
    signer_ = expected["signer"]
    on = f"chain length {reviewed['length']}" if reviewed else "an unrecorded chain length"
    counted = "" if expected["counted_at_seal"] else " (stale at the seal: not counted)"
    line = (
        f"{signer_['name']} ({signer_['title']}, key {signer_['key_id']}) {expected['meaning']} "
        f"at {expected['time']} on {on}{counted}"
    )
    return digest, line


def _note_statement(
    doc: dict[str, Any], n: Any, public: Ed25519PublicKey, signer: str
) -> tuple[str | None, str]:
    """As `_approval_statement`, for an annotation (meaning `reviewed`)."""
    if not isinstance(n, dict) or not isinstance(n.get("statement"), dict):
        named = n.get("annotation_id") if isinstance(n, dict) else n
        return None, f"annotations: note {named!r} has no signed statement"
    chain = doc.get("chain") or {}
    author = n.get("author") or {}
    expected = {
        "workspace_id": (doc.get("run") or {}).get("workspace_id"),
        "run_id": doc.get("run_id"),
        "annotation_id": n.get("annotation_id"),
        "event_id": n.get("event_id"),
        "meaning": "reviewed",
        "node_id": n.get("node_id"),
        "text": n.get("text"),
        "signer": {
            "name": author.get("name"),
            "title": author.get("role"),
            "key_id": n.get("author_key_id"),
        },
        "time": n.get("time"),
        "sealed_chain": {"head": chain.get("head"), "length": chain.get("length")},
        "signed_by": signer,
    }
    want = {f"chain-head:{doc.get('run_id')}": chain.get("head")}
    who = f"annotation {n.get('annotation_id')}"
    digest, why = _signed_entry(n, who, public, NOTE_PREDICATE_TYPE, expected, want)
    if digest is None:
        return None, why
    line = (
        f"{author.get('name')} ({author.get('role')}, key {n.get('author_key_id')}) reviewed "
        f"{n.get('node_id')} at {n.get('time')}"
    )
    return digest, line


def _check_approvals(
    package: bytes, predicate: dict[str, Any], public: Ed25519PublicKey, v: Verdict
) -> None:
    """Each approval and rejection of a JSON package: its own statement, signed by the
    chosen key, states exactly what the package lists, and the package's statement lists
    exactly these statements (docs/spec/package.md, "Approval statements"); each annotation
    the same way (meaning `reviewed`)."""
    doc = strict_json(package)
    signer = fingerprint(raw_bytes(public))
    if _check_statements(
        doc, predicate, public, signer, v,
        kind=("approvals", "event_id", "decision(s)", "sealed before approvals were"),
        statement=_approval_statement,
    ):  # fmt: skip
        _check_statements(
            doc, predicate, public, signer, v,
            kind=("annotations", "annotation_id", "note(s)", "sealed before annotations were"),
            statement=_note_statement,
        )  # fmt: skip


def _check_statements(
    doc: Any,
    predicate: dict[str, Any],
    public: Ed25519PublicKey,
    signer: str,
    v: Verdict,
    kind: tuple[str, str, str, str],
    statement: Callable[[Any, Any, Ed25519PublicKey, str], tuple[str | None, str]],
) -> bool:
    """The entries of one list of the package (`kind`: its member, the id member of an
    entry, the noun printed, what a package from before signed statements says), each with
    its own signed statement, exactly as the package's statement lists them. False when a
    check failed (recorded in `v`)."""
    member, id_member, noun, before = kind
    listed = predicate.get(member)
    if listed is None:
        v.passed.append(f"{member}: {before} signed statements (none to check)")
        return True
    found, lines = [], []
    for entry in doc.get(member) or []:
        digest, line = statement(doc, entry, public, signer)
        if digest is None:
            v.failed.append(line)
            return False
        found.append({id_member: entry[id_member], "statement_sha256": digest})
        lines.append(line)
    if found != listed:
        v.failed.append(
            f"{member}: the statements in the package are not the ones its signed statement lists"
        )
        return False
    v.passed.append(
        f"{member}: {len(found)} {noun}, each a statement signed by {signer}"
        + "".join(f"\n        {line}" for line in lines)
    )
    return True


def _check_json(
    package: bytes, subjects: dict[str, str], predicate: dict[str, Any], v: Verdict
) -> None:
    try:
        doc = strict_json(package)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        v.failed.append(f"package: the signed JSON package does not parse: {exc}")
        return
    run_id = doc.get("run_id")
    chain, model = doc.get("chain") or {}, doc.get("model")
    expect = {f"chain-head:{run_id}": chain.get("head")}
    for d in doc.get("datasets") or []:
        if d.get("hash"):
            expect[f"dataset:{d['id']}"] = d["hash"]
    if model and model.get("hash"):
        expect[f"model:{model['id']}"] = model["hash"]
    signed = {n: h for n, h in subjects.items() if n.startswith(EVIDENCE_PREFIXES)}
    if predicate.get("run_id") != run_id:
        v.failed.append(f"subjects: signed for run {predicate.get('run_id')}, package is {run_id}")
    elif signed != expect:
        wrong = sorted(set(signed.items()) ^ set(expect.items()))
        v.failed.append(f"subjects: signed evidence differs from the package: {wrong}")
    elif (doc.get("seal") or {}).get("chain_head") != chain.get("head"):
        v.failed.append("subjects: the package's seal and chain head disagree")
    elif doc.get("seal") != predicate.get("seal"):
        v.failed.append("subjects: the package's seal is not the signed seal")
    else:
        v.passed.append(
            f"subjects: chain head, {len(expect) - 1} dataset/model hashes and the seal "
            "match the package"
        )
        _check_model_signature(model, predicate, v)


def _check_model_signature(model: Any, predicate: dict[str, Any], v: Verdict) -> None:
    """The final model's OMS signature the package names (`model.oms_signature`) is the one
    the statement signs (`predicate.model_signature`), or neither names one."""
    signed = predicate.get("model_signature")
    listed = model.get("oms_signature") if isinstance(model, dict) else None
    if signed != listed:
        v.failed.append("model signature: the package's model.oms_signature is not the signed one")
    elif isinstance(signed, dict):
        v.passed.append(
            f"model signature: {signed.get('object_key')} ({signed.get('sha256')}) is signed "
            "by the seal key; check the model with model_signing verify key"
        )


# ---- choosing the key ---------------------------------------------------------------------


def add_trust_args(parser: argparse.ArgumentParser, *, envelope: bool = True) -> None:
    """The options that choose the verifying key (and the envelope), for every command that
    verifies a package."""
    if envelope:
        parser.add_argument("--envelope", help="default: PACKAGE.dsse.json")
    parser.add_argument(
        "--key",
        "--public-key",
        dest="key",
        help="the workspace's public seal key (PEM, or base64/hex of 32 bytes), obtained "
        "independently of the package (cognify-admin seal-keys, GET /v1/workspaces/WS/seal-key)",
    )
    parser.add_argument(
        "--key-fingerprint",
        help="ed25519:<64 hex>: accept the key beside the package (PACKAGE.pub.pem) only "
        "when it has this fingerprint",
    )
    parser.add_argument(
        "--trust-bundled-key",
        action="store_true",
        help="check against the key beside the package: the signer is NOT authenticated",
    )


def trust_from(args: argparse.Namespace) -> Trust:
    return Trust(
        Path(args.key) if args.key else None,
        parse_fingerprint(args.key_fingerprint) if args.key_fingerprint else None,
        bool(args.trust_bundled_key),
    )


def choose_key(package_path: Path, trust: Trust) -> ChosenKey:
    """The key to verify with, per `trust`; Untrusted when the auditor chose none."""
    if trust.key is None and trust.fingerprint is None and not trust.bundled:
        raise Untrusted(
            "no trusted key: give --key PUB.pem or --key-fingerprint ed25519:<64 hex> "
            "(obtained independently: cognify-admin seal-keys, or GET "
            "/v1/workspaces/WS/seal-key with a key of the workspace). A key that comes with "
            "the package proves nothing about who signed it; --trust-bundled-key checks "
            "against it anyway, unauthenticated."
        )
    path = trust.key or Path(f"{package_path}.pub.pem")
    public = load_public_key(path.read_bytes())
    found = fingerprint(raw_bytes(public))
    if trust.fingerprint is not None and found != trust.fingerprint:
        raise ValueError(
            f"the key {path} has fingerprint {found}, not the --key-fingerprint "
            f"{trust.fingerprint}: refused"
        )
    authenticated = trust.key is not None or trust.fingerprint is not None
    return ChosenKey(public, found, authenticated, str(path))


def bundled_warning(chosen: ChosenKey) -> str:
    return (
        "WARNING: the signer was NOT authenticated (--trust-bundled-key): the key "
        f"{chosen.source} came with the package, and whoever could change the package could "
        f"replace it. Compare its fingerprint\n  {chosen.fingerprint}\nwith the workspace's "
        "published seal key (cognify-admin seal-keys, GET /v1/workspaces/WS/seal-key), or "
        "verify with --key / --key-fingerprint."
    )


def verify_files(
    package_path: Path, trust: Trust, envelope_path: Path | None = None
) -> tuple[Verdict, ChosenKey]:
    """Read the files (the envelope defaults to `<package>.dsse.json`) and verify against
    the key `trust` chooses. Raises Untrusted, OSError or ValueError on bad input."""
    chosen = choose_key(package_path, trust)
    envelope_path = envelope_path or Path(f"{package_path}.dsse.json")
    package = package_path.read_bytes()
    try:
        envelope = strict_json(envelope_path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the envelope {envelope_path} is not JSON: {exc}") from None
    return verify(package, envelope, chosen.public), chosen


def is_package(path: Path) -> bool:
    """A file that has a DSSE envelope beside it: what the `verify` dispatch sends here."""
    return Path(f"{path}.dsse.json").is_file()


def main_for(args: argparse.Namespace) -> int:
    """`cognify verify package` / `cognify verify-package`: print each check; exit 0
    verified, 1 not verified, 2 not checked (no trusted key, unreadable input)."""
    try:
        trust = trust_from(args)
        verdict, chosen = verify_files(
            Path(args.package), trust, Path(args.envelope) if args.envelope else None
        )
    except FileNotFoundError as exc:
        print(f"cognify: no such file: {exc.filename}", file=sys.stderr)
        return UNTRUSTED
    except (OSError, ValueError) as exc:
        print(f"cognify: {exc}", file=sys.stderr)
        print("package NOT verified")
        return UNTRUSTED
    if not chosen.authenticated:
        print(bundled_warning(chosen), file=sys.stderr)
    print("\n".join(verdict.lines()))
    if not verdict.ok:
        print("package NOT verified")
        return 1
    if chosen.authenticated:
        print(f"package verified: signed by {chosen.fingerprint}")
    else:
        print(
            f"package verified, but the signer was NOT authenticated: {chosen.fingerprint} is "
            "only the key that came with it"
        )
    return 0
