"""The object store's restore drill (deploy/restore_drill.py) against the real MinIO: a
sealed package verifies with the key the auditor holds; a package changed after its seal, a
package whose workspace has no trusted key and a package without its envelope each fail,
named, and the drill exits non-zero.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from cognify_events import ExportFormat, ExportTemplate
from cognify_exporter import package
from cognify_objectstore import ObjectStore, StoredObject, StoreSettings
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.unit.exporter.fixtures import sealed_report

from .tools import ROOT


def _drill_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restore_drill", ROOT / "deploy/restore_drill.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bucket() -> Iterator[tuple[ObjectStore, str, list[StoredObject]]]:
    store = ObjectStore(StoreSettings())
    prefix = f"scratch-drill-{uuid.uuid4().hex[:10]}/packages/"
    written: list[StoredObject] = []
    yield store, prefix, written
    for obj in written:  # stored without retention: deletable
        store.delete_version(obj.key, obj.version_id or "null")


def test_the_drill_verifies_sealed_packages_and_names_each_bad_one(
    bucket: tuple[ObjectStore, str, list[StoredObject]], tmp_path: Path
) -> None:
    store, prefix, written = bucket
    key = Ed25519PrivateKey.generate()
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "ws-audited.pem").write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    sealed = package.build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, key)

    def put(name: str, data: bytes) -> None:
        written.append(store.put(prefix + name, data, "application/octet-stream"))

    good = f"ws-audited/run-1/{sealed.name}"
    put(good, sealed.data)
    put(good + ".dsse.json", sealed.envelope_data)
    changed = f"ws-audited/run-2/{sealed.name}"
    put(changed, sealed.data.replace(b"run-1", b"run-9", 1))
    put(changed + ".dsse.json", sealed.envelope_data)
    unknown = f"ws-stranger/run-1/{sealed.name}"
    put(unknown, sealed.data)
    put(unknown + ".dsse.json", sealed.envelope_data)
    naked = f"ws-audited/run-3/{sealed.name}"
    put(naked, sealed.data)

    drill = _drill_module()
    results = {
        name.removeprefix(prefix): (ok, why) for name, ok, why in drill.drill(store, keys, prefix)
    }
    assert results[good][0] is True
    assert results[changed] == (False, results[changed][1])
    assert "changed after it was sealed" in results[changed][1]
    assert results[unknown] == (False, "no trusted seal key for workspace 'ws-stranger'")
    assert results[naked] == (False, "no DSSE envelope beside it")
    assert len(results) == 4
    assert drill.main(["--keys", str(keys), "--prefix", prefix]) == 1


def test_a_bucket_of_good_packages_passes_the_drill(
    bucket: tuple[ObjectStore, str, list[StoredObject]], tmp_path: Path
) -> None:
    store, prefix, written = bucket
    keys = tmp_path / "keys"
    keys.mkdir()
    for ws in ("ws-a", "ws-b"):
        key = Ed25519PrivateKey.generate()
        (keys / f"{ws}.pem").write_bytes(
            key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
        sealed = package.build(sealed_report(), ExportFormat.JSON, ExportTemplate.DEFAULT, key)
        for name, data in (
            (sealed.name, sealed.data),
            (sealed.name + ".dsse.json", sealed.envelope_data),
        ):
            written.append(store.put(f"{prefix}{ws}/run-1/{name}", data))
    drill = _drill_module()
    assert drill.main(["--keys", str(keys), "--prefix", prefix]) == 0
