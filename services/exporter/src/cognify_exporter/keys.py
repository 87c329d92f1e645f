"""Workspace seal keys at rest (pure: no I/O): Ed25519 keys whose private half is stored
only encrypted, with AES-256-GCM under the exporter's master key and the workspace id as
associated data (docs/spec/package.md)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .attestation import key_id, public_pem

SEALING = "aes-256-gcm-v1"


@dataclass(frozen=True)
class SealedKey:
    workspace_id: str
    key_id: str
    public_key: bytes  # 32 raw bytes
    private_key_sealed: bytes  # nonce || ciphertext+tag


def generate(workspace_id: str, master_key: bytes) -> SealedKey:
    private = Ed25519PrivateKey.generate()
    return seal_private(workspace_id, private, master_key)


def seal_private(workspace_id: str, private: Ed25519PrivateKey, master_key: bytes) -> SealedKey:
    raw = private.private_bytes_raw()
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(master_key).encrypt(nonce, raw, workspace_id.encode())
    public = private.public_key()
    return SealedKey(
        workspace_id,
        key_id(public),
        public.public_bytes(Encoding.Raw, PublicFormat.Raw),
        sealed,
    )


def open_private(key: SealedKey, master_key: bytes) -> Ed25519PrivateKey:
    nonce, body = key.private_key_sealed[:12], key.private_key_sealed[12:]
    raw = AESGCM(master_key).decrypt(nonce, body, key.workspace_id.encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_of(key: SealedKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(key.public_key)


@dataclass(frozen=True)
class PublishedKey:
    """A seal key as the workspace publishes it: public half, when made, when retired."""

    key_id: str  # the fingerprint: 'ed25519:' + 64 hex of SHA-256 of the raw public key
    public_key: bytes
    created_at: datetime
    retired_at: datetime | None

    def json(self) -> dict[str, str | None]:
        return {
            "key_id": self.key_id,
            "algorithm": "ed25519",
            "public_key_pem": public_pem(Ed25519PublicKey.from_public_bytes(self.public_key)),
            "public_key_b64": base64.b64encode(self.public_key).decode(),
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "status": "retired" if self.retired_at else "current",
        }
