"""An export that stopped after its package was stored (locked) but before its envelope: the
retry signs the bytes that are stored, whatever rendering gives now, so package and envelope
still verify together."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import cognify_events as ev
from cognify_exporter import attestation, package
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.integration.lineage.harness import http

from .conftest import approve, cluster, trained


async def test_a_retry_signs_the_package_an_earlier_attempt_stored(
    kafka: KafkaSettings, unique: str, store: ObjectStore
) -> None:
    async with cluster(kafka, unique) as c:
        run_id = f"run-{unique}"
        await trained(c, run_id)
        await approve(c, run_id)
        key = package.object_key(
            c.workspace, run_id, ev.ExportFormat.JSON, ev.ExportTemplate.HEALTHCARE
        )
        # What an earlier exporter rendered and stored, locked, before it stopped: not the
        # bytes this one would render.
        earlier = b'{"rendered by": "an earlier exporter"}\n'
        store.put(key, earlier, "application/json", datetime.now(UTC) + timedelta(days=1))
        assert not store.exists(package.envelope_key(key))

        status, row = await http(
            "POST",
            f"{c.exporter_url}/v1/runs/{run_id}/exports",
            c.keys.reviewer,
            {"format": "json", "template": "healthcare"},
        )
        assert status == 201, row
        digest = "sha256:" + hashlib.sha256(earlier).hexdigest()
        assert (row["package_hash"], row["size"]) == (digest, len(earlier))
        assert store.get(key) == earlier

        status, published = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/{c.workspace}/seal-key", c.keys.reviewer
        )
        assert status == 200, published
        public = load_pem_public_key(published["public_key_pem"].encode())
        assert isinstance(public, Ed25519PublicKey)
        envelope = json.loads(store.get(package.envelope_key(key)))
        statement = attestation.verify(envelope, public)
        subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
        name = package.file_name(run_id, ev.ExportFormat.JSON, ev.ExportTemplate.HEALTHCARE)
        assert subjects[name] == hashlib.sha256(earlier).hexdigest()
