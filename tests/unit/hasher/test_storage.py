"""A job's URI to a source: checked against its workspace's grants before anything is read,
bound to the local or S3 adapter, refused with the reason otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from cognify_hasher.jobs import FailureKind, JobFailure
from cognify_hasher.local import LocalSource
from cognify_hasher.s3 import S3Source
from cognify_hasher.storage import Storage, real_roots
from cognify_hasher.tenancy import Place, grants
from cognify_objectstore import ObjectStore, StoreSettings

STORE = ObjectStore(StoreSettings())  # never contacted: nothing here reads


def _storage(roots: str, s3: str = "", store: ObjectStore | None = STORE) -> Storage:
    return Storage(grants(roots, s3, "cognify-audit"), store)


def _refusal(storage: Storage, workspace: str, uri: str) -> str:
    with pytest.raises(JobFailure) as info:
        storage.open(workspace, uri)
    assert info.value.kind is FailureKind.REFUSED
    assert info.value.reason.startswith("path refused: ")
    return info.value.reason


def test_a_local_path_is_bound_below_its_most_specific_root() -> None:
    storage = _storage("ws-a=/data/a;*=/data")
    source = storage.open("ws-a", "/data/a/runs/checkpoint-1")
    assert isinstance(source, LocalSource)
    assert (source.root, source.rel) == ("/data/a", "runs/checkpoint-1")
    source = storage.open("ws-b", "file:///data/b/x.jsonl")
    assert isinstance(source, LocalSource)
    assert (source.root, source.rel) == ("/data", "b/x.jsonl")
    assert storage.open("ws-a", "/data/a").rel == ""  # type: ignore[attr-defined]


def test_an_s3_uri_is_bound_to_the_s3_adapter() -> None:
    storage = _storage("", "ws-a=s3://datasets/a/")
    source = storage.open("ws-a", "s3://datasets/a/train.parquet")
    assert isinstance(source, S3Source)
    assert (source.bucket, source.key) == ("datasets", "a/train.parquet")


def test_refusals_say_why() -> None:
    storage = _storage("ws-a=/data/a;*=/data/common", "*=s3://datasets/")
    assert "outside the allowed roots of workspace ws-b" in _refusal(storage, "ws-b", "/etc/passwd")
    assert "granted to another workspace" in _refusal(storage, "ws-b", "/data/a/x")
    assert "'..'" in _refusal(storage, "ws-a", "/data/a/../common/x")
    assert "not an absolute path" in _refusal(storage, "ws-a", "data/a")
    assert "neither a local path" in _refusal(storage, "ws-a", "http://example.com/x")
    assert "outside the allowed buckets" in _refusal(storage, "ws-a", "s3://other/x")
    assert "s3://bucket/key" in _refusal(storage, "ws-a", "s3://datasets/")
    assert "never hashed" in _refusal(
        _storage("", "*=s3://cognify-audit/"), "ws-a", "s3://cognify-audit/packages/ws-a/"
    )
    assert "no object store configured" in _refusal(
        _storage("", "*=s3://datasets/", store=None), "ws-a", "s3://datasets/x"
    )
    assert "outside the allowed roots of workspace ws-a (none)" in _refusal(
        _storage(""), "ws-a", "/data/a"
    )


def test_roots_are_spelled_as_real_paths_with_their_own_name_kept(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "root").mkdir()
    rooted = real_roots(grants(f"ws-a={tmp_path}/alias/root;*={tmp_path}/real/root", "", None))
    assert rooted.owners == {Place(None, f"{tmp_path}/real/root"): {"ws-a", "*"}}
    link_root = real_roots(grants(f"ws-a={tmp_path}/alias", "", None))
    assert list(link_root.owners) == [Place(None, f"{tmp_path}/alias")]  # refused when read
