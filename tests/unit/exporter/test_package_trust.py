"""Verification trusts only keys the auditor chose (issue 13, docs/spec/trust.md).

The insider's attack: edit a package ("Dana Reyes" approved → "Evil Reviewer"), re-sign the
statement with a fresh Ed25519 key and put that key's PEM beside the package. With the
workspace's key pinned it is refused; with no key option nothing is checked; only
`--trust-bundled-key` accepts it, saying loudly that the signer was not authenticated.
"""

from __future__ import annotations

import base64
import io
import json
import random
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cognify import package_verify
from cognify.cli import main
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import attestation
from cognify_exporter.package import Package, build, sha256
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .fixtures import sealed_report

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
FINGERPRINT = attestation.key_id(KEY.public_key())
Envelope = dict[str, Any]


def _package(fmt: ExportFormat = ExportFormat.JSON) -> Package:
    return build(sealed_report(), fmt, ExportTemplate.DEFAULT, KEY)


def _write(tmp_path: Path, data: bytes, envelope: Envelope, key: Ed25519PrivateKey) -> Path:
    """As `cognify export` writes it: FILE, FILE.dsse.json, FILE.pub.pem."""
    path = tmp_path / "run-1.default.audit.json"
    path.write_bytes(data)
    Path(f"{path}.dsse.json").write_bytes(attestation.envelope_bytes(envelope))
    Path(f"{path}.pub.pem").write_text(attestation.public_pem(key.public_key()))
    return path


def _resigned(data: bytes, statement: dict[str, Any], key: Ed25519PrivateKey) -> Envelope:
    """`statement` made to describe `data` and signed by `key`: what a forger can do."""
    forged = json.loads(json.dumps(statement))
    forged["subject"][0]["digest"]["sha256"] = sha256(data).removeprefix("sha256:")
    payload = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    return attestation.sign(payload, key)


def _forgery(pkg: Package, evil: Ed25519PrivateKey) -> tuple[bytes, Envelope]:
    """The package with another reviewer, consistent throughout, signed by `evil`: the
    approval and annotation statements inside too (each re-signed, and listed again by its
    digest)."""
    evil_id = attestation.key_id(evil.public_key())

    def swap(data: bytes) -> bytes:
        return data.replace(b"Dana Reyes", b"Evil Reviewer").replace(
            FINGERPRINT.encode(), evil_id.encode()
        )

    doc = json.loads(swap(pkg.data))
    listed, notes = [], []
    for a in doc["approvals"]:
        payload = swap(base64.b64decode(a["statement"]["payload"]))
        a["statement"] = attestation.sign(payload, evil)
        listed.append({"event_id": a["event_id"], "statement_sha256": sha256(payload)})
    for n in doc["annotations"]:
        payload = swap(base64.b64decode(n["statement"]["payload"]))
        n["statement"] = attestation.sign(payload, evil)
        notes.append({"annotation_id": n["annotation_id"], "statement_sha256": sha256(payload)})
    text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    data = text.encode()
    assert data != pkg.data and b"Evil Reviewer" in data
    statement = json.loads(base64.b64decode(pkg.envelope["payload"]))
    statement["predicate"]["seal"]["key_id"] = evil_id
    statement["predicate"]["approvals"] = listed
    statement["predicate"]["annotations"] = notes
    return data, _resigned(data, statement, evil)


def _pem(tmp_path: Path, key: Ed25519PrivateKey, name: str) -> str:
    path = tmp_path / name
    path.write_text(attestation.public_pem(key.public_key()))
    return str(path)


def test_every_package_names_the_fingerprint_of_the_key_that_signed_it() -> None:
    pkg = _package()
    doc = json.loads(pkg.data)
    assert doc["seal"]["key_id"] == FINGERPRINT and len(FINGERPRINT) == len("ed25519:") + 64
    statement = attestation.verify(pkg.envelope, KEY.public_key())
    assert statement["predicate"]["seal"]["key_id"] == FINGERPRINT
    assert pkg.envelope["signatures"][0]["keyid"] == FINGERPRINT
    assert package_verify.fingerprint(package_verify.raw_bytes(KEY.public_key())) == FINGERPRINT
    with zipfile.ZipFile(io.BytesIO(_package(ExportFormat.XLSX).data)) as xlsx:
        text = "".join(xlsx.read(n).decode() for n in xlsx.namelist() if n.endswith(".xml"))
    assert FINGERPRINT in text  # the workbook's seal sheet


def test_the_forged_package_is_refused_with_the_workspace_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package()
    evil = Ed25519PrivateKey.generate()
    path = _write(tmp_path, *_forgery(pkg, evil), evil)
    workspace_pem = _pem(tmp_path, KEY, "workspace.pub.pem")

    assert main(["verify-package", str(path), "--key", workspace_pem]) == 1
    out = capsys.readouterr().out
    assert "FAIL  signature:" in out and "package NOT verified" in out
    # the fingerprint the auditor obtained: the bundled key does not have it
    assert main(["verify-package", str(path), "--key-fingerprint", FINGERPRINT]) == 2
    err = capsys.readouterr().err
    assert f"not the --key-fingerprint {FINGERPRINT}: refused" in err


def test_without_a_key_option_nothing_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package()
    genuine = _write(tmp_path, pkg.data, pkg.envelope, KEY)
    for argv in (["verify-package", str(genuine)], ["verify", "package", str(genuine)]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert "no trusted key: give --key PUB.pem or --key-fingerprint" in captured.err
        assert "package NOT verified" in captured.out and "package verified" not in captured.out


def test_the_bundled_key_is_accepted_only_when_asked_and_said_unauthenticated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package()
    evil = Ed25519PrivateKey.generate()
    path = _write(tmp_path, *_forgery(pkg, evil), evil)
    assert main(["verify-package", str(path), "--trust-bundled-key"]) == 0
    captured = capsys.readouterr()
    evil_fingerprint = attestation.key_id(evil.public_key())
    assert "WARNING: the signer was NOT authenticated" in captured.err
    assert evil_fingerprint in captured.err
    assert "but the signer was NOT authenticated" in captured.out
    assert "package verified: signed by" not in captured.out


def test_the_genuine_package_verifies_with_the_key_or_its_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package()
    path = _write(tmp_path, pkg.data, pkg.envelope, KEY)
    workspace_pem = _pem(tmp_path, KEY, "workspace.pub.pem")
    assert main(["verify-package", str(path), "--key", workspace_pem]) == 0
    assert f"package verified: signed by {FINGERPRINT}" in capsys.readouterr().out
    assert main(["verify", "package", str(path), "--key-fingerprint", FINGERPRINT.upper()]) == 0
    other = attestation.key_id(Ed25519PrivateKey.generate().public_key())
    assert main(["verify", "package", str(path), "--key-fingerprint", other]) == 2
    assert main(["verify-package", str(path), "--key-fingerprint", FINGERPRINT[:24]]) == 2
    assert "too short to pin a key" in capsys.readouterr().err


@pytest.mark.parametrize("what", ["checkpoint", "dataset", "proof"])
def test_verify_against_a_package_trusts_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    """`cognify verify checkpoint|dataset|proof --package` refuses the forged package with
    the workspace key, refuses to run without a key option, and warns with the bundled one."""
    pkg = _package()
    evil = Ed25519PrivateKey.generate()
    path = _write(tmp_path, *_forgery(pkg, evil), evil)
    target = {
        "checkpoint": ["checkpoint", str(tmp_path), "--checkpoint", "ckpt_step_200"],
        "dataset": ["dataset", str(tmp_path / "d.jsonl"), "--dataset", "ds_notes_v3"],
        "proof": ["proof", str(tmp_path / "p.json"), "--dataset", "ds_notes_v3"],
    }[what]
    argv = ["verify", *target, "--package", str(path)]
    assert main([*argv, "--key", _pem(tmp_path, KEY, "ws.pem")]) == 1
    assert f"the package {path} does not verify" in capsys.readouterr().err
    assert main(argv) == 2
    assert "no trusted key" in capsys.readouterr().err
    main([*argv, "--trust-bundled-key"])  # then the evidence itself decides (files absent)
    assert "WARNING: the signer was NOT authenticated" in capsys.readouterr().err


def test_an_unsigned_package_vouches_for_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package()
    path = _write(tmp_path, pkg.data, pkg.envelope, KEY)
    Path(f"{path}.dsse.json").unlink()
    argv = ["verify", "checkpoint", str(tmp_path), "--package", str(path), "--checkpoint", "x"]
    assert main([*argv, "--key", _pem(tmp_path, KEY, "ws.pem")]) == 2
    assert "an unsigned package vouches for nothing" in capsys.readouterr().err


# ---- the mutation campaign ------------------------------------------------------------------

OTHER_KEYS = [Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32) for n in range(1, 6)]


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    out[rng.randrange(len(out))] ^= rng.randrange(1, 256)
    return bytes(out)


def _payload(envelope: Envelope) -> bytes:
    return base64.b64decode(envelope["payload"])


def _with(envelope: Envelope, **changes: Any) -> Envelope:
    return {**json.loads(json.dumps(envelope)), **changes}


def _sig(envelope: Envelope, **changes: Any) -> Envelope:
    return _with(envelope, signatures=[{**envelope["signatures"][0], **changes}])


def _non_canonical(text: str, rng: random.Random) -> str:
    """Other text that lenient decoders read as the same bytes."""
    choices = [text + "\n", " " + text, text.rstrip("="), text + "=" * (4 - len(text) % 4 or 4)]
    choices += [text.replace("+", "-").replace("/", "_")] if ("+" in text or "/" in text) else []
    stripped = text.rstrip("=")
    if len(stripped) % 4:  # padding bits in the last character: set one
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        last = alphabet.index(stripped[-1])
        unused = {2: 0b1111, 3: 0b11}[len(stripped) % 4]
        changed = alphabet[last | (1 << rng.randrange(unused.bit_length()))]
        if changed != stripped[-1]:
            choices.append(stripped[:-1] + changed + text[len(stripped) :])
    return rng.choice([c for c in choices if c != text])


def _mutations(pkg: Package) -> dict[str, Callable[[random.Random], tuple[bytes, Envelope]]]:
    data, env = pkg.data, pkg.envelope
    statement = json.loads(_payload(env))

    def byte_in_package(rng: random.Random) -> tuple[bytes, Envelope]:
        return _flip(data, rng), env

    def byte_in_payload(rng: random.Random) -> tuple[bytes, Envelope]:
        payload = _flip(_payload(env), rng)
        return data, _with(env, payload=base64.b64encode(payload).decode())

    def resigned_by_another_key(rng: random.Random) -> tuple[bytes, Envelope]:
        forged = _flip(data, rng)
        signed = _resigned(forged, statement, rng.choice(OTHER_KEYS))
        if rng.random() < 0.5:  # naming the workspace's key does not help
            signed = _sig(signed, keyid=FINGERPRINT)
        return forged, signed

    def resigned_unchanged_by_another_key(rng: random.Random) -> tuple[bytes, Envelope]:
        return data, attestation.sign(_payload(env), rng.choice(OTHER_KEYS))

    def extra_signature(rng: random.Random) -> tuple[bytes, Envelope]:
        other = attestation.sign(_payload(env), rng.choice(OTHER_KEYS))["signatures"][0]
        extra = rng.choice([other, env["signatures"][0], {"sig": "AAAA"}])
        ours = list(env["signatures"])
        ours.insert(rng.randrange(2), extra)
        return data, _with(env, signatures=ours)

    def non_canonical_base64(rng: random.Random) -> tuple[bytes, Envelope]:
        if rng.random() < 0.5:
            return data, _with(env, payload=_non_canonical(env["payload"], rng))
        return data, _sig(env, sig=_non_canonical(env["signatures"][0]["sig"], rng))

    def keyid_edit(rng: random.Random) -> tuple[bytes, Envelope]:
        other = attestation.key_id(rng.choice(OTHER_KEYS).public_key())
        keyid = rng.choice(
            [other, other[:24], "", FINGERPRINT.upper(), FINGERPRINT + " ", 7, None, "ed25519:"]
        )
        return data, _sig(env, keyid=keyid)

    def envelope_shape(rng: random.Random) -> tuple[bytes, Envelope]:
        changed = rng.choice(
            [
                _with(env, payloadType="application/json"),
                _with(env, signatures=[]),
                _with(env, signatures=env["signatures"][0]),
                _with(env, extra="member"),
                {k: v for k, v in env.items() if k != "signatures"},
                _sig(env, sig=env["signatures"][0]["sig"][:-4]),
                _sig(env, sig=base64.b64encode(bytes(64)).decode()),
            ]
        )
        return data, changed

    def statement_edit(rng: random.Random) -> tuple[bytes, Envelope]:
        """An edited statement re-signed by another key, claiming the workspace's seal key."""
        forged = json.loads(json.dumps(statement))
        forged["predicate"]["seal"]["sealed_by"] = f"evil-{rng.randrange(1000)}"
        forged["subject"].append(forged["subject"][rng.randrange(len(forged["subject"]))])
        payload = json.dumps(forged, sort_keys=True).encode()
        return data, _sig(attestation.sign(payload, rng.choice(OTHER_KEYS)), keyid=FINGERPRINT)

    return {
        f.__name__: f
        for f in (
            byte_in_package,
            byte_in_payload,
            resigned_by_another_key,
            resigned_unchanged_by_another_key,
            extra_signature,
            non_canonical_base64,
            keyid_edit,
            envelope_shape,
            statement_edit,
        )
    }


@pytest.mark.parametrize("fmt", [ExportFormat.JSON, ExportFormat.XLSX])
def test_a_thousand_mutations_none_accepted_with_the_key_pinned(fmt: ExportFormat) -> None:
    pkg = _package(fmt)
    assert package_verify.verify(pkg.data, pkg.envelope, KEY.public_key()).ok
    rng = random.Random(13)
    mutations = _mutations(pkg)
    tried: Counter[str] = Counter()
    accepted = []
    for _ in range(1000):
        name = rng.choice(sorted(mutations))
        data, envelope = mutations[name](rng)
        assert (data, envelope) != (pkg.data, pkg.envelope), name
        tried[name] += 1
        verdict = package_verify.verify(data, envelope, KEY.public_key())
        if verdict.ok:
            accepted.append((name, verdict.lines()))
    assert accepted == []
    assert sum(tried.values()) == 1000 and set(tried) == set(mutations)


def test_strict_base64_refuses_every_other_spelling() -> None:
    sig = attestation.sign(b"x", KEY)["signatures"][0]["sig"]
    assert package_verify.strict_b64(sig, "sig") == base64.b64decode(sig)
    for bad in (sig + "\n", sig.rstrip("="), sig[:-3] + "R==", sig + "====", "é", 64):
        with pytest.raises(ValueError, match="base64"):
            package_verify.strict_b64(bad, "sig")
