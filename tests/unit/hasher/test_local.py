"""The local-filesystem adapter against real files: it hashes what the hashing library
hashes, and a link anywhere below the root (there from the start, or swapped in while the
job runs) refuses the job instead of reading where it points. Every test runs with openat2
and with the O_NOFOLLOW walk."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cognify_hasher.beneath import Opener
from cognify_hasher.jobs import FailureKind, JobFailure
from cognify_hasher.local import LocalSource
from cognify_hasher.progress import Progress
from cognify_hasher.source import hash_files
from cognify_hashing import Manifest, hash_dataset, scan_checkpoint


@pytest.fixture(params=["openat2", "walk"])
def opener(request: pytest.FixtureRequest) -> Opener:
    return Opener(openat2=request.param == "openat2")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """What links point at: files with the names a checkpoint has, other bytes."""
    out = tmp_path / "outside"
    (out / "sub").mkdir(parents=True)
    for rel in ("shard-0.bin", "sub/config.json"):
        (out / rel).write_bytes(b"OUTSIDE " + rel.encode())
    (out / "data.jsonl").write_text('{"secret": 1}\n{"secret": 2}\n')
    return out


def _checkpoint(directory: Path) -> Path:
    (directory / "sub").mkdir(parents=True)
    (directory / "shard-0.bin").write_bytes(os.urandom(5_000))
    (directory / "shard-1.bin").write_bytes(os.urandom(3_000))
    (directory / "sub" / "config.json").write_text("{}\n")
    return directory


def _source(root: Path, rel: str, opener: Opener, tmp_path: Path | None = None) -> LocalSource:
    return LocalSource(str(root), rel, opener, tmp_path)


def _failure(call: object) -> JobFailure:
    assert callable(call)
    with pytest.raises(JobFailure) as info:
        call()
    return info.value


def _hash(source: LocalSource) -> str:
    entries, versions = hash_files(source, source.files(), Progress("t"), threads=2)
    assert versions == {}
    return Manifest.from_entries(entries).checkpoint_hash


def test_a_checkpoint_hashes_as_the_library_scans_it(opener: Opener, root: Path) -> None:
    ckpt = _checkpoint(root / "run" / "checkpoint-1")
    assert _hash(_source(root, "run/checkpoint-1", opener)) == scan_checkpoint(ckpt).checkpoint_hash


def test_datasets_read_through_the_view_give_the_librarys_root(
    opener: Opener, root: Path, tmp_path: Path
) -> None:
    records = [{"id": i, "text": f"r{i}"} for i in range(50)]
    (root / "ds").mkdir()
    for name in ("a.jsonl", "b.jsonl"):
        (root / "ds" / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    for rel in ("ds/a.jsonl", "ds"):
        with _source(root, rel, opener, tmp_path).dataset() as read:
            got = hash_dataset(read.path)
            assert read.version is None
        assert got == hash_dataset(root / rel), rel
    assert not list(tmp_path.glob("cognify-hasher-view-*")), "the view is removed"


@pytest.mark.parametrize("where", ["target", "middle", "leaf", "inner"])
def test_a_link_at_any_depth_refuses_the_checkpoint(
    opener: Opener, root: Path, outside: Path, where: str
) -> None:
    ckpt = _checkpoint(root / "run" / "checkpoint-1")
    rel = "run/checkpoint-1"
    if where == "target":  # the job names a link
        (root / "run" / "alias").symlink_to(ckpt)
        rel = "run/alias"
    elif where == "middle":  # a directory on the way is a link
        (root / "elsewhere").symlink_to(outside)
        rel = "elsewhere/sub"
    elif where == "leaf":  # a file inside the checkpoint
        (ckpt / "shard-0.bin").unlink()
        (ckpt / "shard-0.bin").symlink_to(outside / "shard-0.bin")
    else:  # a directory inside the checkpoint, to another place below the same root
        other = _checkpoint(root / "run" / "checkpoint-2")
        (ckpt / "more").symlink_to(other / "sub")
    failure = _failure(lambda: _hash(_source(root, rel, opener)))
    assert failure.kind is FailureKind.REFUSED
    assert "symbolic link" in failure.reason and "OUTSIDE" not in failure.reason
    assert str(outside) not in failure.reason, "a link's target is never named"


def test_a_root_that_became_a_link_is_refused(
    opener: Opener, tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "root").symlink_to(outside)
    failure = _failure(lambda: _source(tmp_path / "root", "sub", opener).files())
    assert failure.kind is FailureKind.REFUSED
    assert "the allowed root" in failure.reason and "through a symbolic link" in failure.reason


def test_a_link_in_a_dataset_directory_refuses_the_dataset(
    opener: Opener, root: Path, outside: Path, tmp_path: Path
) -> None:
    (root / "ds").mkdir()
    (root / "ds" / "a.jsonl").write_text('{"id": 1}\n')
    (root / "ds" / "b.jsonl").symlink_to(outside / "data.jsonl")
    (root / "file.jsonl").symlink_to(outside / "data.jsonl")
    for rel in ("ds", "file.jsonl"):
        source = _source(root, rel, opener, tmp_path)
        failure = _failure(lambda: source.dataset().__enter__())  # noqa: B023
        assert failure.kind is FailureKind.REFUSED and "symbolic link" in failure.reason


def test_a_directory_swapped_for_a_link_after_listing_is_refused(
    opener: Opener, root: Path, outside: Path
) -> None:
    ckpt = _checkpoint(root / "checkpoint-1")
    source = _source(root, "checkpoint-1", opener)
    files = source.files()
    assert ("sub/config.json", 3) in files
    (ckpt / "sub").rename(root / "moved")
    (ckpt / "sub").symlink_to(outside / "sub")  # same names, other bytes
    failure = _failure(lambda: hash_files(source, files, Progress("t"), threads=1))
    assert failure.kind is FailureKind.REFUSED
    assert f"{ckpt}/sub is a symbolic link" in failure.reason


def test_a_dataset_opened_before_a_swap_reads_what_was_opened(
    opener: Opener, root: Path, outside: Path, tmp_path: Path
) -> None:
    (root / "ds").mkdir()
    (root / "ds" / "data.jsonl").write_text('{"id": 1}\n')
    expected = hash_dataset(root / "ds")
    with _source(root, "ds", opener, tmp_path).dataset() as read:
        (root / "ds").rename(root / "moved")
        (root / "ds").symlink_to(outside)  # holds a data.jsonl of other records
        assert hash_dataset(read.path) == expected


def test_a_directory_flipping_to_a_link_never_gets_outside_bytes_hashed(
    opener: Opener, root: Path, outside: Path
) -> None:
    """Another process swaps `sub` between the real directory and a link while jobs run:
    each job hashes the checkpoint as it was below the root, or is refused; none hashes
    anything outside."""
    ckpt = _checkpoint(root / "checkpoint-1")
    # Between the renames `sub` is gone: a listing then sees the checkpoint without it.
    good = {scan_checkpoint(ckpt).checkpoint_hash}
    (ckpt / "sub" / "config.json").rename(root / "config.json")
    good.add(scan_checkpoint(ckpt).checkpoint_hash)
    (root / "config.json").rename(ckpt / "sub" / "config.json")
    outside_digest = hashlib.sha256((outside / "sub" / "config.json").read_bytes()).hexdigest()
    flip = (
        "import os, sys, time\n"
        "real, parked, link = sys.argv[1:]\n"
        "print('flipping', flush=True)\n"
        "while True:\n"
        "    os.rename(real, parked); os.symlink(link, real); time.sleep(0.001)\n"
        "    os.unlink(real); os.rename(parked, real); time.sleep(0.001)\n"
    )
    args = [str(ckpt / "sub"), str(root / "parked"), str(outside / "sub")]
    flipper = subprocess.Popen([sys.executable, "-c", flip, *args], stdout=subprocess.PIPE)
    outcomes: dict[str, int] = {}
    try:
        assert flipper.stdout is not None and flipper.stdout.readline() == b"flipping\n"
        deadline = time.monotonic() + 30
        while min(outcomes.get("refused", 0), outcomes.get("hashed", 0)) < 20:
            assert time.monotonic() < deadline, f"the race was not hit enough: {outcomes}"
            source = _source(root, "checkpoint-1", opener)
            try:
                entries, _ = hash_files(source, source.files(), Progress("t"), threads=1)
            except JobFailure as failure:
                outcomes[failure.kind.value] = outcomes.get(failure.kind.value, 0) + 1
                continue
            assert outside_digest not in {e.sha256 for e in entries}
            assert Manifest.from_entries(entries).checkpoint_hash in good
            outcomes["hashed"] = outcomes.get("hashed", 0) + 1
    finally:
        flipper.kill()
        flipper.wait()
    assert set(outcomes) <= {"hashed", "refused", "missing"}, outcomes


def test_a_fifo_is_never_opened_for_reading(opener: Opener, root: Path, tmp_path: Path) -> None:
    ckpt = _checkpoint(root / "checkpoint-1")
    os.mkfifo(ckpt / "pipe")
    os.mkfifo(root / "pipe.jsonl")
    failure = _failure(lambda: _source(root, "checkpoint-1", opener).files())
    assert failure.kind is FailureKind.INVALID and "not a regular file" in failure.reason
    failure = _failure(lambda: _source(root, "pipe.jsonl", opener, tmp_path).dataset().__enter__())
    assert failure.kind is FailureKind.INVALID and "not a file or directory" in failure.reason


def test_a_missing_target_is_a_gap_not_a_refusal(opener: Opener, root: Path) -> None:
    failure = _failure(lambda: _source(root, "checkpoint-9", opener).files())
    assert failure.kind is FailureKind.MISSING and "rotated away" in failure.reason
