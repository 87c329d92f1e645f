"""Opening below a directory never follows a link, with openat2 and with the O_NOFOLLOW walk
that replaces it where the kernel has none."""

from __future__ import annotations

import errno
import os
import platform
from collections.abc import Iterator
from pathlib import Path

import pytest
from cognify_hasher import beneath
from cognify_hasher.beneath import LinkRefused, Opener, closing


@pytest.fixture(params=["openat2", "walk"])
def opener(request: pytest.FixtureRequest) -> Opener:
    return Opener(openat2=request.param == "openat2")


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """root/a/b/file.bin, root/a/link-dir -> outside, root/a/link-file -> outside/secret,
    root/a/inner -> a/b (a link that stays inside)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (root / "a" / "b" / "file.bin").write_bytes(b"inside")
    (outside / "secret").write_bytes(b"outside")
    (root / "a" / "link-dir").symlink_to(outside)
    (root / "a" / "link-file").symlink_to(outside / "secret")
    (root / "a" / "inner").symlink_to(root / "a" / "b")
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    with closing(fd):
        yield root, fd


def _read(fd: int) -> bytes:
    with closing(fd):
        return os.read(fd, 100)


def test_openat2_is_used_where_the_kernel_has_it() -> None:
    major, minor = (int(x) for x in platform.release().split(".")[:2])
    if platform.system() == "Linux" and (major, minor) >= (5, 6):
        assert beneath.openat2_works(), "this kernel has openat2: it must be used"
        assert Opener().openat2


def test_a_plain_path_opens(opener: Opener, tree: tuple[Path, int]) -> None:
    _, fd = tree
    assert _read(opener.open(fd, "a/b/file.bin", os.O_RDONLY)) == b"inside"
    with closing(opener.open(fd, "a/b", os.O_RDONLY | os.O_DIRECTORY)) as d:
        assert os.listdir(d) == ["file.bin"]


@pytest.mark.parametrize(
    ("rel", "component"),
    [
        ("a/link-file", "a/link-file"),  # the leaf
        ("a/link-dir/secret", "a/link-dir"),  # a directory in the middle
        ("a/link-dir", "a/link-dir"),  # the target itself
        ("a/inner/file.bin", "a/inner"),  # even a link that stays below the root
    ],
)
def test_a_link_anywhere_on_the_path_is_refused(
    opener: Opener, tree: tuple[Path, int], rel: str, component: str
) -> None:
    _, fd = tree
    with pytest.raises(LinkRefused) as info:
        opener.open(fd, rel, os.O_RDONLY)
    assert info.value.component == component
    assert info.value.errno == errno.ELOOP


def test_a_root_that_is_a_link_is_refused(opener: Opener, tree: tuple[Path, int]) -> None:
    root, _ = tree
    with closing(opener.open_root(str(root / "a" / "b"))) as fd:
        assert os.fstat(fd).st_ino == os.stat(root / "a" / "b").st_ino
    with pytest.raises(LinkRefused) as info:
        opener.open_root(str(root / "a" / "link-dir"))
    assert info.value.component == f"{root}/a/link-dir"
    with pytest.raises(LinkRefused):
        opener.open_root(str(root / "a" / "link-dir" / "deeper"))


def test_missing_and_non_directories_raise_the_usual_errors(
    opener: Opener, tree: tuple[Path, int]
) -> None:
    _, fd = tree
    with pytest.raises(FileNotFoundError):
        opener.open(fd, "a/nothing", os.O_RDONLY)
    with pytest.raises(NotADirectoryError):
        opener.open(fd, "a/b/file.bin/x", os.O_RDONLY)


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.EPERM])
def test_without_openat2_the_walk_is_chosen(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """ENOSYS (an old kernel) or EPERM (a seccomp filter): the opener falls back to the
    walk, it does not fail."""

    def missing(*_: object) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(beneath, "_openat2", missing)
    beneath.openat2_works.cache_clear()
    try:
        assert Opener().openat2 is False
    finally:
        beneath.openat2_works.cache_clear()
