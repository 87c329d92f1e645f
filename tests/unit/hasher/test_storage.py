"""Local sources are confined to the allowed roots: `..` and symbolic links cannot escape,
and the refusal says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from cognify_hasher.jobs import FailureKind, JobFailure
from cognify_hasher.storage import LocalPath, S3Object, Storage


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "allowed" / "runs" / "checkpoint-1").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (tmp_path / "allowed" / "runs" / "escape").symlink_to(tmp_path / "secret")
    (tmp_path / "allowed" / "runs" / "alias").symlink_to(
        tmp_path / "allowed" / "runs" / "checkpoint-1"
    )
    return tmp_path


def _refusal(storage: Storage, uri: str) -> str:
    with pytest.raises(JobFailure) as info:
        storage.locate(uri)
    assert info.value.kind is FailureKind.REFUSED
    assert info.value.reason.startswith("path refused: ")
    return info.value.reason


def test_a_path_under_an_allowed_root_is_accepted_as_its_real_path(tree: Path) -> None:
    storage = Storage([tree / "allowed"])
    ckpt = tree / "allowed" / "runs" / "checkpoint-1"
    assert storage.locate(str(ckpt)) == LocalPath(ckpt)
    assert storage.locate(f"file://{ckpt}") == LocalPath(ckpt)
    assert storage.locate(str(tree / "allowed/runs/alias")) == LocalPath(ckpt), "link inside"
    assert storage.locate(str(tree / "allowed/runs/../runs/checkpoint-1")) == LocalPath(ckpt)


def test_dot_dot_cannot_escape_the_roots(tree: Path) -> None:
    reason = _refusal(Storage([tree / "allowed"]), f"{tree}/allowed/runs/../../secret")
    assert "through '..'" in reason and f"it names {tree}/secret" in reason


def test_a_symbolic_link_cannot_escape_the_roots(tree: Path) -> None:
    reason = _refusal(Storage([tree / "allowed"]), f"{tree}/allowed/runs/escape")
    assert f"symbolic link to {tree}/secret" in reason
    assert "outside the allowed roots" in reason


def test_other_paths_are_refused_with_the_reason(tree: Path) -> None:
    storage = Storage([tree / "allowed"])
    assert "outside the allowed roots" in _refusal(storage, "/etc/passwd")
    assert "not an absolute path" in _refusal(storage, "allowed/runs")
    assert "neither a local path" in _refusal(storage, "http://example.com/x")
    assert "no allowed roots are configured" in _refusal(Storage([]), str(tree / "allowed"))
    assert "outside the allowed roots" in _refusal(storage, f"{tree}/allowedx")  # a sibling


def test_s3_sources_name_a_bucket_and_key(tree: Path) -> None:
    from cognify_objectstore import ObjectStore, StoreSettings

    storage = Storage([], ["datasets"], ObjectStore(StoreSettings()))
    assert storage.locate("s3://datasets/a/b.parquet") == S3Object("datasets", "a/b.parquet")
    assert "allowed buckets" in _refusal(storage, "s3://audit/a")
    assert "s3://bucket/key" in _refusal(storage, "s3://datasets/")
    assert "s3://bucket/key" in _refusal(storage, "s3://datasets/a/../../b")
