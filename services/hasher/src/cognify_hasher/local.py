"""The local-filesystem adapter of the reader port: a file or directory below an allowed
root, read without following a symbolic link anywhere below that root.

Every read starts again from the root: the root is opened from `/` with no link on the way
(its own name included), the target and every file below it through `beneath.Opener`
(openat2 `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or an `O_NOFOLLOW` walk). A checkpoint
is listed through directory descriptors, each subdirectory opened `O_NOFOLLOW` from its
parent's, and each file is opened again from the root when it is hashed: a directory
swapped for a link between the listing and the read fails that open, and the job is
refused instead of reading where the link points. A FIFO or device is never read (opened
non-blocking, refused by its type).

Dataset readers (`cognify_hashing.sources`) take paths, so a dataset is handed to them as a
view: a private directory in the spool directory whose entries are links to
`/proc/self/fd/N`, the descriptors of the dataset's files opened here. Whatever happens to
the tree afterwards, the readers read exactly the files that were opened below the root.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cognify_hashing import ManifestError
from cognify_hashing.filesystem import READ_SIZE
from cognify_hashing.manifest import check_relative_path

from .beneath import LinkRefused, Opener, closing
from .jobs import FailureKind, JobFailure
from .progress import Progress
from .source import DatasetRead, Span

_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY  # a FIFO must not block the open
# A dataset directory's files are all held open while it is read; a sane cap on that.
MAX_DATASET_FILES = 10_000


class LocalSource:
    """`rel` below the allowed root `root` (both as tenancy checked them)."""

    def __init__(self, root: str, rel: str, opener: Opener, spool_dir: Path | None = None) -> None:
        self.root = root
        self.rel = rel
        self.opener = opener
        self.spool_dir = spool_dir
        self.shown = os.path.join(root, rel) if rel else root

    # ---- the port -----------------------------------------------------------------------

    def files(self) -> list[tuple[str, int]]:
        missing = (
            f"checkpoint directory {self.shown} does not exist: rotated away "
            "(save_total_limit) or deleted before it was hashed"
        )
        with self._open("", missing) as fd:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise JobFailure(FailureKind.INVALID, f"{self.shown} is not a directory")
            try:
                found = list(self._walk(fd, ""))
            except FileNotFoundError as exc:
                raise JobFailure(
                    FailureKind.MISSING, f"{self.shown} disappeared while it was listed: {exc}"
                ) from None
            except ManifestError as exc:
                raise JobFailure(FailureKind.INVALID, f"no version-1 manifest: {exc}") from None
            except OSError as exc:
                raise JobFailure(FailureKind.UNREADABLE, f"unreadable: {exc}") from None
        return sorted(found, key=lambda f: f[0].encode())

    def hash_file(self, rel: str, progress: Progress) -> tuple[int, str, str | None]:
        missing = (
            f"file {rel!r} of {self.shown} disappeared before it was hashed: the checkpoint "
            "was rotated away (save_total_limit) or deleted"
        )
        with self._open(rel, missing) as fd:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise JobFailure(FailureKind.INVALID, f"{rel!r} is no longer a regular file")
            try:
                return (*hash_descriptor(fd, progress), None)
            except OSError as exc:
                raise JobFailure(FailureKind.UNREADABLE, f"unreadable: {exc}") from None

    @contextlib.contextmanager
    def dataset(
        self, span: Span | None = None, version: str | None = None
    ) -> Iterator[DatasetRead]:
        """A view of the dataset (see the module docstring); `span` and `version` do not
        apply to local files (a chunk reads its range from the whole file)."""
        missing = f"dataset {self.shown} does not exist: moved or deleted before it was hashed"
        with contextlib.ExitStack() as held:
            fd = held.enter_context(self._open("", missing))
            mode = os.fstat(fd).st_mode
            if stat.S_ISREG(mode):
                members = [(os.path.basename(self.shown), fd)]
            elif stat.S_ISDIR(mode):
                members = self._members(fd, held)
            else:
                raise JobFailure(FailureKind.INVALID, f"{self.shown} is not a file or directory")
            view = Path(held.enter_context(_view_dir(self.spool_dir)))
            for name, member in members:
                (view / name).symlink_to(f"/proc/self/fd/{member}")
            yield DatasetRead(view / members[0][0] if stat.S_ISREG(mode) else view)

    # ---- below the root -----------------------------------------------------------------

    @contextlib.contextmanager
    def _open(self, rel: str, missing: str) -> Iterator[int]:
        """A descriptor of `rel` below the target, or the JobFailure saying why not."""
        path = "/".join(p for p in (self.rel, rel) if p)
        try:
            with closing(self.opener.open_root(self.root)) as root:
                fd = self.opener.open(root, path, _READ)
        except LinkRefused as exc:
            raise JobFailure(FailureKind.REFUSED, self._link(exc)) from None
        except FileNotFoundError:
            raise JobFailure(FailureKind.MISSING, missing) from None
        except NotADirectoryError:
            raise JobFailure(
                FailureKind.MISSING, f"{missing} (a parent is not a directory)"
            ) from None
        except OSError as exc:
            raise JobFailure(FailureKind.UNREADABLE, f"unreadable: {exc}") from None
        with closing(fd):
            yield fd

    def _link(self, exc: LinkRefused) -> str:
        if exc.component and exc.component.startswith("/"):
            where = f"the allowed root {self.root} is reached through a symbolic link"
        else:
            where = f"{os.path.join(self.root, exc.component or self.rel)} is a symbolic link"
        return f"path refused: {self.shown}: {where}; no link is followed below an allowed root"

    def _walk(self, fd: int, prefix: str) -> Iterator[tuple[str, int]]:
        """Regular files below the directory `fd` (spec v1: links and special files are
        refused), each subdirectory opened from its parent's descriptor."""
        with os.scandir(fd) as listing:
            names = [entry.name for entry in listing]
        for name in names:
            rel = check_relative_path(prefix + name)
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise self._inside_link(rel)
            if stat.S_ISDIR(info.st_mode):
                try:
                    child = os.open(name, _READ | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped meanwhile
                        raise self._inside_link(rel) from None
                    raise
                with closing(child):
                    yield from self._walk(child, rel + "/")
            elif stat.S_ISREG(info.st_mode):
                yield rel, info.st_size
            else:
                raise ManifestError(f"not a regular file or directory: {rel!r}")

    def _inside_link(self, rel: str) -> JobFailure:
        return JobFailure(
            FailureKind.REFUSED,
            f"path refused: symbolic link inside the checkpoint: {rel!r} "
            "(no link is followed below an allowed root)",
        )

    def _members(self, fd: int, held: contextlib.ExitStack) -> list[tuple[str, int]]:
        """The regular files directly in a dataset directory, opened (readers read no
        deeper); a link among them refuses the dataset."""
        with os.scandir(fd) as listing:
            names = sorted(entry.name for entry in listing)
        members: list[tuple[str, int]] = []
        for name in names:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise JobFailure(
                    FailureKind.REFUSED,
                    f"path refused: {self.shown}: {name!r} is a symbolic link; no link is "
                    "followed below an allowed root",
                )
            if not stat.S_ISREG(info.st_mode):
                continue
            if len(members) == MAX_DATASET_FILES:
                raise JobFailure(
                    FailureKind.INVALID,
                    f"{self.shown} holds more than {MAX_DATASET_FILES:,} files",
                )
            try:
                member = os.open(name, _READ | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # swapped for a link since it was listed
                    raise JobFailure(
                        FailureKind.REFUSED,
                        f"path refused: {self.shown}: {name!r} became a symbolic link",
                    ) from None
                raise
            held.callback(os.close, member)
            if stat.S_ISREG(os.fstat(member).st_mode):
                members.append((name, member))
        return members


@contextlib.contextmanager
def _view_dir(spool_dir: Path | None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="cognify-hasher-view-", dir=spool_dir) as tmp:
        yield tmp


def hash_descriptor(fd: int, progress: Progress) -> tuple[int, str]:
    """(size, SHA-256 hex) of an open file, read in READ_SIZE pieces into one buffer."""
    digest = hashlib.sha256()
    size = 0
    expected = os.fstat(fd).st_size
    buffer = bytearray(max(1, min(READ_SIZE, expected)))
    view = memoryview(buffer)
    os.lseek(fd, 0, os.SEEK_SET)
    while count := os.readv(fd, [buffer]):
        digest.update(view[:count])
        size += count
        progress.add(count)
    return size, digest.hexdigest()
