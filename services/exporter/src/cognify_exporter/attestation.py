"""The seal certificate: an in-toto Statement v1 in a DSSE envelope, signed with Ed25519
(pure: no I/O). Spec and test vector: docs/spec/package.md.

These are the formats Sigstore's tools and `model_signing` use: the envelope is
`{"payloadType", "payload" (base64), "signatures": [{"keyid", "sig" (base64)}]}` and the
signature is over DSSE's pre-authentication encoding (PAE) of the type and the payload, so
no JSON canonicalisation is needed to verify it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://cognify.dev/audit-package/v1"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public: Ed25519PublicKey) -> str:
    """The key's fingerprint: `ed25519:` + all 64 hex digits of SHA-256 of the 32 raw
    public-key bytes (packages sealed before carried only the first 16: docs/spec/trust.md)."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()


def strict_b64(text: object) -> bytes:
    """Standard base64, canonical padding only (re-encoding gives the same text)."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise ValueError("not canonical base64")
    return raw


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True)
class Subject:
    name: str
    digest: str  # "sha256:<hex>"

    def json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.digest.removeprefix("sha256:")}}


def statement(subjects: list[Subject], predicate: dict[str, Any]) -> bytes:
    """The Statement's bytes: sorted keys, no whitespace, so the same seal gives the same
    bytes (and, Ed25519 being deterministic, the same signature)."""
    body = {
        "_type": STATEMENT_TYPE,
        "subject": [s.json() for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: bytes, private: Ed25519PrivateKey) -> dict[str, Any]:
    signature = private.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": key_id(private.public_key()), "sig": base64.b64encode(signature).decode()}
        ],
    }


def envelope_bytes(envelope: dict[str, Any]) -> bytes:
    return (json.dumps(envelope, sort_keys=True, indent=2) + "\n").encode()


def verify(envelope: dict[str, Any], public: Ed25519PublicKey) -> dict[str, Any]:
    """The verified Statement; raises ValueError saying what does not hold. The complete
    offline check (exactly one signature, keyid, subjects) is `cognify.package_verify`."""
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise ValueError(f"payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}")
    payload = strict_b64(envelope.get("payload"))
    wanted = key_id(public)
    for entry in envelope.get("signatures", []):
        if entry.get("keyid", wanted) not in (wanted, wanted[: len("ed25519:") + 16]):
            continue
        try:
            public.verify(strict_b64(entry["sig"]), pae(PAYLOAD_TYPE, payload))
        except (InvalidSignature, ValueError, KeyError):
            continue
        found: dict[str, Any] = json.loads(payload)
        return found
    raise ValueError(f"no valid signature by key {wanted} over the statement")
