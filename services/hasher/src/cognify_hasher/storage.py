"""Where hash jobs read from: local paths under the allowed roots, and s3:// objects.

A local path is accepted only when it lies under one of the configured roots both as
written (after resolving `..`) and after following symbolic links; the real path is what
gets hashed, so a link swapped afterwards changes nothing. Objects are streamed through
SHA-256 in 8 MiB pieces; an s3:// dataset is streamed to a spool file first (Parquet and
Arrow readers need to seek), never held in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

from cognify_hashing import ManifestEntry, ManifestError
from cognify_hashing.filesystem import READ_SIZE
from cognify_hashing.manifest import check_relative_path
from cognify_objectstore import ObjectStore, ObjectStoreError

from .jobs import FailureKind, JobFailure
from .progress import Progress

T = TypeVar("T")
_GONE = ("NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound")
_DENIED = ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId")


@dataclass(frozen=True)
class LocalPath:
    path: Path  # the real path, every link resolved

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


Location = LocalPath | S3Object


def _refused(reason: str) -> JobFailure:
    return JobFailure(FailureKind.REFUSED, f"path refused: {reason}")


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class Storage:
    def __init__(
        self,
        allowed_roots: Sequence[Path],
        allowed_buckets: Sequence[str] = ("*",),
        store: ObjectStore | None = None,
        spool_dir: Path | None = None,
    ) -> None:
        self.roots = [Path(os.path.normpath(r)) for r in allowed_roots]
        self.real_roots = [Path(os.path.realpath(r)) for r in allowed_roots]
        self.buckets = tuple(allowed_buckets)
        self.store = store
        self.spool_dir = spool_dir

    # ---- where --------------------------------------------------------------------------

    def locate(self, uri: str) -> Location:
        """The source a job names, or JobFailure(REFUSED) saying why it may not be read."""
        if uri.startswith("s3://"):
            return self._s3(uri)
        raw = uri.removeprefix("file://")
        if "://" in raw:
            raise _refused(f"{uri!r} is neither a local path nor an s3:// object")
        return LocalPath(self.confine(raw))

    def confine(self, raw: str) -> Path:
        shown = ":".join(map(str, self.roots)) or "none"
        if not self.roots:
            raise _refused(
                f"{raw} is a local path and no allowed roots are configured "
                "(COGNIFY_HASHER_ALLOWED_ROOTS)"
            )
        if "\x00" in raw or not os.path.isabs(raw):
            raise _refused(f"{raw!r} is not an absolute path")
        lexical = Path(os.path.normpath(raw))
        real = Path(os.path.realpath(raw))
        if any(_under(real, root) for root in self.real_roots):
            return real
        if not any(_under(lexical, r) for r in [*self.roots, *self.real_roots]):
            if ".." in Path(raw).parts:
                raise _refused(
                    f"{raw} escapes the allowed roots ({shown}) through '..': it names {lexical}"
                )
            raise _refused(f"{raw} is outside the allowed roots ({shown})")
        raise _refused(
            f"{raw} resolves through a symbolic link to {real}, outside the allowed roots ({shown})"
        )

    def _s3(self, uri: str) -> S3Object:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not bucket or not key or ".." in PurePosixPath(key).parts:
            raise _refused(f"{uri!r} is not of the form s3://bucket/key")
        if "*" not in self.buckets and bucket not in self.buckets:
            raise _refused(f"bucket {bucket!r} is not one of the allowed buckets {self.buckets}")
        if self.store is None:
            raise _refused(f"{uri}: this hasher has no object store configured")
        return S3Object(bucket, key)

    # ---- checkpoints --------------------------------------------------------------------

    def list_files(self, where: Location) -> list[tuple[str, int]]:
        """(relative path, size) of every file of a checkpoint directory or S3 prefix."""
        if isinstance(where, S3Object):
            prefix = where.key.rstrip("/") + "/"
            objects = self._s3_call(where, lambda s: s.list_sizes(prefix, bucket=where.bucket))
            if not objects:
                raise JobFailure(
                    FailureKind.MISSING,
                    f"no objects under {where}/: the checkpoint was rotated away "
                    "(save_total_limit) or deleted before it was hashed",
                )
            return [(self._relative(key[len(prefix) :]), size) for key, size in objects]
        if not where.path.exists():
            raise JobFailure(
                FailureKind.MISSING,
                f"checkpoint directory {where} does not exist: rotated away "
                "(save_total_limit) or deleted before it was hashed",
            )
        if not where.path.is_dir():
            raise JobFailure(FailureKind.INVALID, f"{where} is not a directory")
        try:
            return sorted(_walk(where.path, ""), key=lambda f: f[0].encode())
        except ManifestError as exc:
            raise JobFailure(FailureKind.INVALID, f"no version-1 manifest: {exc}") from None
        except FileNotFoundError as exc:
            raise JobFailure(
                FailureKind.MISSING, f"{where} disappeared while it was listed: {exc}"
            ) from None
        except OSError as exc:
            raise JobFailure(FailureKind.UNREADABLE, f"unreadable: {exc}") from None

    def hash_files(
        self, where: Location, files: Sequence[tuple[str, int]], progress: Progress, threads: int
    ) -> list[ManifestEntry]:
        """SHA-256 of the given files, `threads` at a time (hashlib drops the GIL)."""

        def one(item: tuple[str, int]) -> ManifestEntry:
            rel = self._relative(item[0])
            size, hexdigest = self._hash_one(where, rel, progress)
            return ManifestEntry(path=rel, size=size, sha256=hexdigest)

        if threads > 1 and len(files) > 1:
            with ThreadPoolExecutor(max_workers=min(threads, len(files))) as pool:
                return list(pool.map(one, files))
        return [one(item) for item in files]

    def _hash_one(self, where: Location, rel: str, progress: Progress) -> tuple[int, str]:
        if isinstance(where, S3Object):
            key = where.key.rstrip("/") + "/" + rel
            return self._s3_call(
                where, lambda s: _digest(s.stream(key, bucket=where.bucket), progress)
            )
        path = where.path / rel
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                raise JobFailure(FailureKind.INVALID, f"{rel!r} is no longer a regular file")
            return hash_local_file(path, progress)
        except FileNotFoundError:
            raise JobFailure(
                FailureKind.MISSING,
                f"file {rel!r} of {where} disappeared before it was hashed: the checkpoint was "
                "rotated away (save_total_limit) or deleted",
            ) from None
        except OSError as exc:
            raise JobFailure(FailureKind.UNREADABLE, f"unreadable: {exc}") from None

    # ---- datasets -----------------------------------------------------------------------

    @contextlib.contextmanager
    def dataset_path(self, where: Location) -> Iterator[Path]:
        """A local path to read the dataset from: the path itself, or a spooled copy of the
        object (or of every object under the prefix: a `save_to_disk` directory)."""
        if isinstance(where, LocalPath):
            if not where.path.exists():
                raise JobFailure(
                    FailureKind.MISSING,
                    f"dataset {where} does not exist: moved or deleted before it was hashed",
                )
            yield where.path
            return
        with tempfile.TemporaryDirectory(prefix="cognify-hasher-", dir=self.spool_dir) as tmp:
            yield self._spool(where, Path(tmp))

    def _spool(self, where: S3Object, tmp: Path) -> Path:
        size = self._s3_call(where, lambda s: s.size(where.key, bucket=where.bucket))
        if size is not None:
            target = tmp / PurePosixPath(where.key).name
            self._download(where, where.key, target)
            return target
        prefix = where.key.rstrip("/") + "/"
        objects = self._s3_call(where, lambda s: s.list_sizes(prefix, bucket=where.bucket))
        if not objects:
            raise JobFailure(FailureKind.MISSING, f"no object or prefix {where}: deleted?")
        root = tmp / "dataset"
        for key, _ in objects:
            target = root / self._relative(key[len(prefix) :])
            target.parent.mkdir(parents=True, exist_ok=True)
            self._download(where, key, target)
        return root

    def _download(self, where: S3Object, key: str, target: Path) -> None:
        def copy(store: ObjectStore) -> None:
            with target.open("wb") as out:
                for piece in store.stream(key, bucket=where.bucket):
                    out.write(piece)

        self._s3_call(where, copy)

    # ---- helpers ------------------------------------------------------------------------

    def _relative(self, rel: str) -> str:
        try:
            return check_relative_path(rel)
        except ManifestError as exc:
            raise JobFailure(FailureKind.INVALID, f"no version-1 manifest: {exc}") from None

    def _s3_call(self, where: S3Object, call: Callable[[ObjectStore], T]) -> T:
        assert self.store is not None
        try:
            return call(self.store)
        except ObjectStoreError as exc:
            if exc.code in _GONE:
                raise JobFailure(
                    FailureKind.MISSING, f"{where}: {exc.code} (deleted before it was hashed?)"
                ) from None
            if exc.code in _DENIED:
                raise JobFailure(FailureKind.UNREADABLE, f"{where}: {exc.code}") from None
            raise


def hash_local_file(path: Path, progress: Progress) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file read in 8 MiB pieces into one reused buffer."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as handle:
        expected = os.fstat(handle.fileno()).st_size
        buffer = bytearray(max(1, min(READ_SIZE, expected)))
        view = memoryview(buffer)
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            size += count
            progress.add(count)
    return size, digest.hexdigest()


def _digest(pieces: Iterator[bytes], progress: Progress) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for piece in pieces:
        digest.update(piece)
        size += len(piece)
        progress.add(len(piece))
    return size, digest.hexdigest()


def _walk(directory: Path, prefix: str) -> Iterator[tuple[str, int]]:
    """Regular files below `directory` (spec v1: links and special files are refused)."""
    with os.scandir(directory) as listing:
        children = list(listing)
    for child in children:
        rel = check_relative_path(prefix + child.name)
        info = child.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise ManifestError(f"symbolic link inside the checkpoint: {rel!r}")
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(Path(child.path), rel + "/")
        elif stat.S_ISREG(info.st_mode):
            yield rel, info.st_size
        else:
            raise ManifestError(f"not a regular file or directory: {rel!r}")
