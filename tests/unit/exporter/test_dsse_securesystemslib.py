"""The seal certificates (in-toto statements in DSSE) verify with securesystemslib's DSSE
verifier, a tool we did not write, for every format; a changed payload, a changed
signature and another key are refused by it."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter.package import build, sha256
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer._key import SSlibKey

from tests.unit.exporter.fixtures import sealed_report
from tests.unit.exporter.test_package import KEY


def _key(public: Any, keyid: str) -> SSlibKey:
    return SSlibKey.from_crypto(public, keyid=keyid)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_securesystemslib_verifies_every_formats_envelope(fmt: ExportFormat) -> None:
    pkg = build(sealed_report(), fmt, ExportTemplate.EU_AI_ACT, KEY)
    keyid = pkg.envelope["signatures"][0]["keyid"]
    envelope = Envelope.from_dict(copy.deepcopy(pkg.envelope))
    accepted = envelope.verify([_key(KEY.public_key(), keyid)], 1)
    assert list(accepted) == [keyid]
    statement = json.loads(envelope.payload)
    assert envelope.payload_type == "application/vnd.in-toto+json"
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    (package_subject,) = [s for s in statement["subject"] if s["name"] == pkg.name]
    assert "sha256:" + package_subject["digest"]["sha256"] == sha256(pkg.data)


def test_securesystemslib_refuses_a_tampered_envelope_or_another_key() -> None:
    pkg = build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, KEY)
    keyid = pkg.envelope["signatures"][0]["keyid"]
    key = _key(KEY.public_key(), keyid)

    payload = copy.deepcopy(pkg.envelope)
    body = bytearray(base64.b64decode(payload["payload"]))
    body[len(body) // 2] ^= 1
    payload["payload"] = base64.b64encode(bytes(body)).decode()
    signature = copy.deepcopy(pkg.envelope)
    sig = bytearray(base64.b64decode(signature["signatures"][0]["sig"]))
    sig[0] ^= 1
    signature["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    for bad in (payload, signature):
        with pytest.raises(VerificationError):
            Envelope.from_dict(bad).verify([key], 1)
    other = _key(Ed25519PrivateKey.generate().public_key(), keyid)
    with pytest.raises(VerificationError):
        Envelope.from_dict(copy.deepcopy(pkg.envelope)).verify([other], 1)
