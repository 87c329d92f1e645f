"""Opening a path below a directory without following a symbolic link anywhere on the way.

Where the kernel has openat2 (Linux 5.6+), one call does it: `RESOLVE_BENEATH` keeps the
lookup below the directory and `RESOLVE_NO_SYMLINKS` fails it (ELOOP) on any link, the
last component included, with no window between check and use. Where it has not (ENOSYS,
or a seccomp filter answering EPERM), the path is walked a component at a time from the
directory's descriptor: each directory opened `O_PATH | O_DIRECTORY | O_NOFOLLOW` relative
to the previous one, the last component `O_NOFOLLOW`. Either way a link swapped in at any
moment fails the open instead of being followed: the descriptor that comes back is of a
file or directory that was, when opened, below the directory through directories only.

Callers pass plain relative paths (no `..`, `.` or empty component; tenancy checked them).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import platform
import stat
from collections.abc import Callable, Iterator
from typing import cast

# linux/openat2.h; 437 is openat2 in the unified syscall table (x86_64 and arm64 alike).
_SYS_OPENAT2 = 437
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_WALK_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LinkRefused(OSError):
    """A symbolic link (or a way out of the directory) on the path; `component` is the
    relative path up to the offending component, when it could be told."""

    def __init__(self, component: str | None) -> None:
        super().__init__(errno.ELOOP, "symbolic link on the path")
        self.component = component


class _OpenHow(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    ]


@functools.cache
def _syscall() -> Callable[..., int] | None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return None
    call = ctypes.CDLL(None, use_errno=True).syscall
    call.restype = ctypes.c_long
    return cast(Callable[..., int], call)


def _openat2(dir_fd: int, rel: str, flags: int) -> int:
    call = _syscall()
    if call is None:
        raise OSError(errno.ENOSYS, "openat2 is not available here")
    how = _OpenHow(flags | os.O_CLOEXEC, 0, _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS)
    path = os.fsencode(rel)
    while True:
        fd = call(
            _SYS_OPENAT2,
            ctypes.c_int(dir_fd),
            ctypes.c_char_p(path),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
        if fd >= 0:
            return int(fd)
        code = ctypes.get_errno()
        if code != errno.EINTR:
            raise OSError(code, os.strerror(code), rel)


@functools.cache
def openat2_works() -> bool:
    """True when openat2 answers here (the kernel has it and no filter forbids it)."""
    try:
        root = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.close(_openat2(root, ".", os.O_PATH | os.O_DIRECTORY))
        return True
    except OSError as exc:
        if exc.errno in (errno.ENOSYS, errno.EPERM, errno.EINVAL, errno.E2BIG):
            return False
        raise
    finally:
        os.close(root)


class Opener:
    """Opens paths below a directory descriptor, never through a link. `openat2` None:
    use it when the kernel has it; False forces the walk (tests run both)."""

    def __init__(self, openat2: bool | None = None) -> None:
        self.openat2 = openat2_works() if openat2 is None else openat2

    def open(self, dir_fd: int, rel: str, flags: int) -> int:
        """A descriptor of `rel` below `dir_fd`, opened with `flags`. Raises LinkRefused on
        a link anywhere on the path, else the OSError of the open (FileNotFoundError...)."""
        rel = rel.strip("/") or "."
        if self.openat2:
            try:
                return _openat2(dir_fd, rel, flags)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.EXDEV):
                    raise LinkRefused(_first_link(dir_fd, rel)) from None
                raise
        return self._walk(dir_fd, rel, flags)

    def open_root(self, path: str) -> int:
        """An O_PATH descriptor of an absolute directory reached with no link on the way
        (its own name included)."""
        with closing(os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)) as slash:
            try:
                return self.open(slash, path.lstrip("/"), os.O_PATH | os.O_DIRECTORY)
            except LinkRefused as exc:
                raise LinkRefused("/" + (exc.component or path.lstrip("/"))) from None

    def _walk(self, dir_fd: int, rel: str, flags: int) -> int:
        parts = rel.split("/")
        current = os.dup(dir_fd)
        try:
            for index, part in enumerate(parts[:-1]):
                try:
                    following = os.open(part, _WALK_DIR, dir_fd=current)
                except NotADirectoryError:  # a link (O_NOFOLLOW | O_DIRECTORY) or a file
                    if _is_link(current, part):
                        raise LinkRefused("/".join(parts[: index + 1])) from None
                    raise
                os.close(current)
                current = following
            try:
                return os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=current)
            except OSError as exc:
                if exc.errno == errno.ELOOP or (
                    exc.errno == errno.ENOTDIR and _is_link(current, parts[-1])
                ):
                    raise LinkRefused(rel) from None
                raise
        finally:
            os.close(current)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _first_link(dir_fd: int, rel: str) -> str | None:
    """Which component of `rel` is a link (for the message only: it may have changed)."""
    parts = rel.split("/")
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        if _is_link(dir_fd, prefix):
            return prefix
    return None


@contextlib.contextmanager
def closing(fd: int) -> Iterator[int]:
    """Close a descriptor when the block ends."""
    try:
        yield fd
    finally:
        os.close(fd)
