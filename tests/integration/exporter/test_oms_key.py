"""The workspace's OpenSSF Model Signing key for real: published by the exporter's HTTP API
(P-256, beside the Ed25519 seal key), used by `python -m cognify_exporter sign-model`, and
accepted by sigstore's `model_signing verify key`; a changed file is refused
(docs/decisions/oms.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from cognify_exporter import __main__ as exporter_main
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import as_role, http
from tests.unit.exporter.oms_cli import verify

from .conftest import cluster


async def test_the_published_oms_key_verifies_a_model_the_exporter_signed(
    kafka: KafkaSettings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "final"
    (model / "sub").mkdir(parents=True)
    (model / "model.safetensors").write_bytes(bytes(range(256)) * 40)
    (model / "config.json").write_bytes(b'{"a":1}\n')
    (model / "sub" / "tokenizer.json").write_bytes(b"{}")
    async with cluster(kafka, unique) as c:
        url = f"{c.exporter_url}/v1/workspaces/{c.workspace}/oms-key"
        status, key = await http("GET", url, c.keys.reviewer)
        assert status == 200, key
        assert key["algorithm"] == "ecdsa-p256-sha256"
        again = (await http("GET", url, c.keys.reviewer))[1]
        assert again["public_key_pem"] == key["public_key_pem"]  # made once, then the same
        status, _ = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/ws-someone-else/oms-key", c.keys.reviewer
        )
        assert status == 404
        status, seal_key = await http(
            "GET", f"{c.exporter_url}/v1/workspaces/{c.workspace}/seal-key", c.keys.reviewer
        )
        assert status == 200 and seal_key["public_key_pem"] != key["public_key_pem"]

        # The operator's command, with the exporter's database role and master key.
        monkeypatch.setenv("COGNIFY_PG_DSN", as_role(c.s.dsn, "exporter").dsn)
        monkeypatch.setattr(
            sys, "argv", ["cognify-exporter", "sign-model", c.workspace, str(model)]
        )
        assert await asyncio.to_thread(exporter_main.main) == 0
        monkeypatch.setattr(
            sys, "argv", ["cognify-exporter", "sign-model", "ws-nobody", str(model)]
        )
        assert await asyncio.to_thread(exporter_main.main) == 1  # a clear error, no traceback

    pub = tmp_path / "published.pem"
    pub.write_text(key["public_key_pem"])
    sig = model / "model.sig"
    assert (tmp_path / "final.oms.pub.pem").read_text() == key["public_key_pem"]
    done = verify(model, sig, pub)
    assert done.returncode == 0 and "Verification succeeded" in done.stdout, done.stderr
    (model / "sub" / "tokenizer.json").write_bytes(b'{"x":1}')
    done = verify(model, sig, pub)
    assert done.returncode == 1 and "Verification failed" in done.stderr
