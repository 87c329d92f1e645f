"""The sealed run's final model, signed in the OpenSSF Model Signing format at the seal.

When a run is sealed, the exporter signs its model node from the files the hasher listed
for the model's current hash (`report.model["manifest"]`: path and SHA-256 of each file,
exactly what OMS v1.0 signs, so no model byte is read again) with the workspace's P-256
OMS key (oms.py, omskeys.py), and stores the Sigstore bundle once, under Object Lock, at
`packages/<workspace>/<run>/<run>.model.sig` beside the packages. Every package then names
it (`model.oms_signature` in JSON, the statement's predicate `model_signature`, signed by
the seal key), and `GET /v1/runs/{run_id}/model-signature` serves it.

`model_signing verify key MODEL_DIR --signature <run>.model.sig --public_key oms.pub.pem`
then checks the model directory itself. docs/decisions/oms.md says why a second key.

`signed` is pure; `ensure` is the adapter step (key from PostgreSQL, bundle to the store).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from pathlib import PurePosixPath

from cognify_objectstore import RetentionRefused
from cryptography.hazmat.primitives.asymmetric import ec

from . import oms, omskeys
from .objectstore import PackageStore
from .oms import ModelSignature, object_key
from .postgres import Pool
from .report import Report

CONTENT_TYPE = oms.BUNDLE_MEDIA_TYPE


def signed(report: Report, key: ec.EllipticCurvePrivateKey) -> tuple[bytes, ModelSignature] | None:
    """The bundle of the report's model and what a package says of it; None when the model
    has no hasher-listed files to sign (no model node, an SDK-reported hash, a gap)."""
    model = report.model
    manifest = (model or {}).get("manifest")
    if not model or not manifest:
        return None
    # The subject's name: the model directory's (what `model_signing sign` names it);
    # model_signing compares the files, never the name.
    name = PurePosixPath(str(model.get("path") or "")).name or str(model["id"])
    stmt = oms.statement(name, (oms.FileDigest(m["path"], m["sha256"]) for m in manifest))
    data = oms.sign(stmt, key)
    resources = stmt["predicate"]["resources"]
    entry = ModelSignature(
        str(model["id"]),
        object_key(report.run["workspace_id"], report.run["run_id"]),
        "sha256:" + hashlib.sha256(data).hexdigest(),
        oms.key_hint(key.public_key()),
        len(resources),
    )
    return data, entry


async def ensure(
    pool: Pool, packages: PackageStore, master_key: bytes, report: Report, until: datetime
) -> Report:
    """The report naming its model's OMS signature, stored first (once: a stored bundle is
    locked, and it is what the packages name, whatever a new signing would give)."""
    if not report.model or not report.model.get("manifest"):
        return report
    sealed = await omskeys.oms_key(pool, report.run["workspace_id"], master_key)
    made = signed(report, oms.open_key(sealed, master_key))
    if made is None:
        return report
    data, entry = made
    try:
        await packages.put(entry.object_key, data, CONTENT_TYPE, until)
    except RetentionRefused:
        stored = await packages.read(entry.object_key)
        entry = replace(entry, sha256="sha256:" + hashlib.sha256(stored).hexdigest())
    return replace(report, model_signature=entry)
