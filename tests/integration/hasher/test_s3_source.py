"""The S3 adapter of the reader port against real MinIO: a prefix lists and hashes as the
same files do on disk, each file with the version read, a prefix dataset spools to the
root the library gives the same directory, and a prefix that is gone is a gap."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cognify_hasher.jobs import FailureKind, JobFailure
from cognify_hasher.progress import Progress
from cognify_hasher.s3 import S3Source
from cognify_hasher.source import hash_files
from cognify_hashing import Manifest, hash_dataset, scan_checkpoint
from cognify_objectstore import ObjectStore, StoreSettings
from minio import Minio

pytestmark = pytest.mark.integration


@pytest.fixture
def store() -> Iterator[ObjectStore]:
    """A scratch bucket without versioning, removed afterwards."""
    settings = replace(StoreSettings(), bucket=f"cognify-s3source-{uuid.uuid4().hex[:10]}")
    client = Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.secure,
        region=settings.region,
    )
    client.make_bucket(settings.bucket)
    try:
        yield ObjectStore(settings)
    finally:
        for o in client.list_objects(settings.bucket, recursive=True):
            assert o.object_name is not None
            client.remove_object(settings.bucket, o.object_name)
        client.remove_bucket(settings.bucket)


def _upload(store: ObjectStore, local: Path, prefix: str) -> None:
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        store.put(f"{prefix}/{path.relative_to(local)}", path.read_bytes(), overwrite=True)


def test_a_prefix_hashes_as_the_same_files_on_disk(store: ObjectStore, tmp_path: Path) -> None:
    local = tmp_path / "checkpoint-3"
    (local / "sub").mkdir(parents=True)
    (local / "model.safetensors").write_bytes(os.urandom(70_000))
    (local / "sub" / "ü.json").write_text('{"a": 1}\n')
    _upload(store, local, "runs/checkpoint-3")
    source = S3Source(store, store.bucket, "runs/checkpoint-3", tmp_path)
    files = source.files()
    assert files == [("model.safetensors", 70_000), ("sub/ü.json", 9)]
    entries, versions = hash_files(source, files, Progress("checkpoint"), threads=2)
    assert Manifest.from_entries(entries).checkpoint_hash == scan_checkpoint(local).checkpoint_hash
    assert set(versions) == {"model.safetensors", "sub/ü.json"}
    assert all(v.startswith("etag:") for v in versions.values()), "unversioned: the ETag"


def test_a_prefix_dataset_spools_to_the_librarys_root(store: ObjectStore, tmp_path: Path) -> None:
    local = tmp_path / "ds"
    local.mkdir()
    for part in range(3):
        rows = [{"part": part, "i": i} for i in range(40)]
        (local / f"part-{part}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _upload(store, local, "datasets/ds")
    spool = tmp_path / "spool"
    spool.mkdir()
    with S3Source(store, store.bucket, "datasets/ds", spool).dataset() as read:
        assert read.version is not None and read.version.startswith("objects-sha256:")
        assert hash_dataset(read.path) == hash_dataset(local)
    assert list(spool.iterdir()) == [], "the spool is removed"


def test_a_prefix_that_is_gone_is_a_gap(store: ObjectStore, tmp_path: Path) -> None:
    source = S3Source(store, store.bucket, "runs/checkpoint-9", tmp_path)
    with pytest.raises(JobFailure) as info:
        source.files()
    assert info.value.kind is FailureKind.MISSING and "rotated away" in info.value.reason
    with pytest.raises(JobFailure) as info, source.dataset():
        pass
    assert info.value.kind is FailureKind.MISSING
