"""The workspace's OMS key in PostgreSQL (`oms_keys`, migration 0016): made on first use,
the private half only sealed (cognify_exporter.oms, docs/decisions/oms.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from . import oms
from .postgres import Pool
from .receipts import Answer


class OmsKey(Answer):
    workspace_id: str
    key_hint: str = Field(description="model_signing's key hint: SHA-256 of the PEM, hex")
    algorithm: str = Field(description="ecdsa-p256-sha256")
    public_key_pem: str = Field(description="for `model_signing verify key --public_key`")


def _sealed(row: Any) -> oms.SealedOmsKey:
    return oms.SealedOmsKey(
        row["workspace_id"], bytes(row["public_key_pem"]), bytes(row["private_key_sealed"])
    )


async def oms_key(pool: Pool, workspace_id: str, master_key: bytes) -> oms.SealedOmsKey:
    """The workspace's OMS key, made on first use (the first writer wins a race)."""
    query = "SELECT * FROM oms_keys WHERE workspace_id = $1"
    row = await pool.fetchrow(query, workspace_id)
    if row is None:
        private = oms.generate_key()
        new = oms.seal_key(workspace_id, private, master_key)
        exists = "SELECT 1 FROM workspaces WHERE workspace_id = $1"
        if await pool.fetchval(exists, workspace_id) is None:
            raise LookupError(f"no workspace {workspace_id!r}")
        await pool.execute(
            """INSERT INTO oms_keys (workspace_id, key_hint, public_key_pem, private_key_sealed)
               VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id) DO NOTHING""",
            workspace_id,
            oms.key_hint(private.public_key()),
            new.public_pem,
            new.private_key_sealed,
        )
        row = await pool.fetchrow(query, workspace_id)
    if row is None:
        raise LookupError(f"no workspace {workspace_id!r}")
    return _sealed(row)


def published(key: oms.SealedOmsKey) -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public = load_pem_public_key(key.public_pem)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    return {
        "workspace_id": key.workspace_id,
        "key_hint": oms.key_hint(public),
        "algorithm": "ecdsa-p256-sha256",
        "public_key_pem": key.public_pem.decode(),
    }
