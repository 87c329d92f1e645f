"""Where hash jobs read from: local paths under the allowed roots, and s3:// objects.

A local path is accepted only when it lies under one of the configured roots both as
written (after resolving `..`) and after following symbolic links; the real path is what
gets hashed, so a link swapped afterwards changes nothing. Objects are streamed through
SHA-256 in 8 MiB pieces; an s3:// dataset is streamed to a spool file first (Parquet and
Arrow readers need to seek), never held in memory.

A chunk of a split s3:// dataset reads only its byte range, with ranged GETs: the spool file
is sparse, with the object's bytes at their own offsets where the chunk's reader will look
and a hole everywhere else. For JSON Lines, the bytes from the chunk's `byte_offset` (less
the newline before it, which the reader checks) to the end of its last record, fetched a
window at a time; for Parquet, the footer and the span of the row groups holding the
chunk's records. Other layouts (Arrow, a prefix of several objects) are spooled whole.

Every read of a chunk asks for the version of the source its job was planned from (see
`pins`): a GET of that version id, or of the current object with If-Match on that ETag; a
prefix's objects are compared with the plan's once read. A chunk of a source that changed
meanwhile fails (`FailureKind.CHANGED`) rather than hash records of another version.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
from cognify_hashing import ManifestEntry, ManifestError
from cognify_hashing.filesystem import READ_SIZE
from cognify_hashing.manifest import check_relative_path
from cognify_hashing.sources import _JSONL, _PARQUET
from cognify_objectstore import ObjectStore, ObjectStoreError, ObjectStream, StoredObject

from . import pins
from .jobs import FailureKind, JobFailure
from .pins import Pin
from .progress import Progress

T = TypeVar("T")
_GONE = ("NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound")
_DENIED = ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId")
_CHANGED = ("NoSuchVersion", "PreconditionFailed")  # a pinned read of a changed source


@dataclass(frozen=True)
class LocalPath:
    path: Path  # the real path, every link resolved

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    pin: Pin | None = None  # the version every read asks for (a chunk's), None: current

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


Location = LocalPath | S3Object

RANGE_WINDOW = 8 * 1024 * 1024  # one ranged GET of a JSON Lines chunk
_PARQUET_TAIL = 64 * 1024  # the first read of a Parquet footer (most fit)
_PARQUET_MAGIC = b"PAR1"
# Parquet readers may read a little past a column chunk (old parquet-mr files whose sizes
# leave out the dictionary page header: Arrow pads its reads by up to 100 bytes for them).
_PARQUET_PAD = 100
# Lines that are not records (JsonLinesFile skips a line whose bytes.strip() is empty).
_BLANK_LINE = re.compile(rb"^[ \t\r\x0b\x0c]*\n", re.MULTILINE)


@dataclass(frozen=True)
class DatasetRead:
    """Where a dataset can be read locally, and which version of an s3:// source that is
    (the text of a `pins.Pin`; None for a local path)."""

    path: Path
    version: str | None = None


@dataclass(frozen=True)
class Span:
    """The records a chunk reads: [record_offset, record_offset + record_count), starting
    at byte `byte_offset` of a JSON Lines file when known."""

    record_offset: int
    record_count: int
    byte_offset: int | None = None


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
        range_window: int = RANGE_WINDOW,
    ) -> None:
        self.roots = [Path(os.path.normpath(r)) for r in allowed_roots]
        self.real_roots = [Path(os.path.realpath(r)) for r in allowed_roots]
        self.buckets = tuple(allowed_buckets)
        self.store = store
        self.spool_dir = spool_dir
        self.range_window = range_window

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
    ) -> tuple[list[ManifestEntry], dict[str, str]]:
        """SHA-256 of the given files, `threads` at a time (hashlib drops the GIL), and the
        version of each file read from an S3 prefix, by relative path (each file is one GET,
        its version taken from that GET's response; `pins.Pin` text); none for a local
        directory."""

        def one(item: tuple[str, int]) -> tuple[ManifestEntry, Pin | None]:
            rel = self._relative(item[0])
            size, hexdigest, pin = self._hash_one(where, rel, progress)
            return ManifestEntry(path=rel, size=size, sha256=hexdigest), pin

        if threads > 1 and len(files) > 1:
            with ThreadPoolExecutor(max_workers=min(threads, len(files))) as pool:
                done = list(pool.map(one, files))
        else:
            done = [one(item) for item in files]
        return [entry for entry, _ in done], {e.path: str(pin) for e, pin in done if pin}

    def _hash_one(
        self, where: Location, rel: str, progress: Progress
    ) -> tuple[int, str, Pin | None]:
        if isinstance(where, S3Object):
            key = where.key.rstrip("/") + "/" + rel

            def hash_object(store: ObjectStore) -> tuple[int, str, Pin | None]:
                with self._stream(store, where, key) as pieces:
                    size, hexdigest = _digest(pieces, progress)
                    return size, hexdigest, pins.of_object(pieces.version)

            return self._s3_call(where, hash_object)
        path = where.path / rel
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                raise JobFailure(FailureKind.INVALID, f"{rel!r} is no longer a regular file")
            return (*hash_local_file(path, progress), None)
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
    def dataset(
        self,
        where: Location,
        *,
        record_offset: int | None = None,
        record_count: int | None = None,
        byte_offset: int | None = None,
        version: str | None = None,
    ) -> Iterator[DatasetRead]:
        """A local path to read the dataset from: the path itself, or a spooled copy of the
        object (or of every object under the prefix: a `save_to_disk` directory), with the
        version of it that was read. With a chunk's record range (and JSON Lines byte
        offset), a single JSON Lines or Parquet object is spooled sparse: only the bytes that
        range's reader reads are fetched. With a `version` (a chunk's `source_version`),
        exactly that version is read, or the chunk fails: the source changed."""
        if isinstance(where, LocalPath):
            if not where.path.exists():
                raise JobFailure(
                    FailureKind.MISSING,
                    f"dataset {where} does not exist: moved or deleted before it was hashed",
                )
            yield DatasetRead(where.path)
            return
        if version is not None:
            try:
                where = replace(where, pin=Pin.parse(version))
            except ValueError as exc:
                raise JobFailure(FailureKind.INVALID, f"{where}: {exc}") from None
        span = None
        if record_count is not None:
            span = Span(record_offset or 0, record_count, byte_offset)
        with tempfile.TemporaryDirectory(prefix="cognify-hasher-", dir=self.spool_dir) as tmp:
            path, pin = self._spool(where, Path(tmp), span)
            yield DatasetRead(path, None if pin is None else str(pin))

    def _spool(self, where: S3Object, tmp: Path, span: Span | None) -> tuple[Path, Pin | None]:
        """The spooled copy and the version it is of: the pinned one, else the one read."""
        current = self._s3_call(where, lambda s: s.stat(where.key, bucket=where.bucket))
        if current is not None:
            if where.pin is not None and (stale := pins.stale(where.pin, current)):
                raise JobFailure(FailureKind.CHANGED, pins.changed(where, stale))
            target = tmp / PurePosixPath(where.key).name
            if span is not None and self._spool_span(where, target, current.size or 0, span):
                return target, where.pin
            version = self._download(where, where.key, target)
            return target, where.pin or pins.of_object(version)
        prefix = where.key.rstrip("/") + "/"
        objects = self._s3_call(where, lambda s: s.list_sizes(prefix, bucket=where.bucket))
        if not objects:
            raise JobFailure(FailureKind.MISSING, f"no object or prefix {where}: deleted?")
        if where.pin is not None and where.pin.kind != pins.OBJECTS:
            stale = "it was planned from one object and is now a prefix"
            raise JobFailure(FailureKind.CHANGED, pins.changed(where, stale))
        root = tmp / "dataset"
        read: list[tuple[str, Pin | None]] = []
        for key, _ in objects:
            rel = self._relative(key[len(prefix) :])
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            read.append((rel, pins.of_object(self._download(where, key, target))))
        got = pins.of_objects(read)
        if where.pin is not None and got != where.pin:
            stale = (
                f"its objects are not those planned from: {where.pin.value} then, {got.value} now"
            )
            raise JobFailure(FailureKind.CHANGED, pins.changed(where, stale))
        return root, got

    def _download(self, where: S3Object, key: str, target: Path) -> StoredObject:
        """The whole object, into `target`; returns the version read."""
        with target.open("wb") as out:
            return self._s3_call(where, lambda s: self._copy(s, where, out, key))

    # ---- one chunk's byte range ---------------------------------------------------------

    def _spool_span(self, where: S3Object, target: Path, size: int, span: Span) -> bool:
        """Spool only what the chunk's reader reads; False when the layout has no such
        range (the caller then spools the whole object)."""
        suffix = PurePosixPath(where.key).suffix.lower()
        if suffix in _JSONL and span.byte_offset is not None:
            self._spool_jsonl(where, target, size, span.byte_offset, span.record_count)
            return True
        if suffix in _PARQUET:
            return self._spool_parquet(where, target, size, span)
        return False

    def _spool_jsonl(
        self, where: S3Object, target: Path, size: int, start: int, count: int
    ) -> None:
        """Bytes [start - 1, end of the `count`-th record from `start`) at their offsets,
        fetched `range_window` bytes at a time; the file ends after the last record."""
        position = max(0, start - 1)  # the newline before `start`: the reader checks it
        skip = start - position  # ... and it is not part of the chunk's first line
        found, content = 0, False
        with target.open("wb") as out:
            out.seek(position)
            while position < size and found < count:
                length = min(self.range_window, size - position)
                data = self._read(where, position, length)
                if len(data) != length:
                    raise JobFailure(
                        FailureKind.MISSING, f"{where} changed while it was read (short read)"
                    )
                found, content, end = _records_in(data, skip, found, content, count)
                out.write(data if end is None else data[:end])
                position += length
                skip = 0

    def _spool_parquet(self, where: S3Object, target: Path, size: int, span: Span) -> bool:
        """The footer and the span of the row groups that hold the chunk's records."""
        tail_start = max(0, size - _PARQUET_TAIL)
        tail = self._read(where, tail_start, size - tail_start)
        if len(tail) < 12 or tail[-4:] != _PARQUET_MAGIC:
            return False  # not plain Parquet (or encrypted): the reader says what it is
        footer_start = size - 8 - int.from_bytes(tail[-8:-4], "little")
        if footer_start < 4:
            return False
        with target.open("wb") as out:
            out.truncate(size)
            if footer_start < tail_start:
                out.seek(footer_start)
                out.write(self._read(where, footer_start, tail_start - footer_start))
            out.seek(tail_start)
            out.write(tail)
        try:
            metadata = pq.read_metadata(target)
        except (pa.ArrowException, OSError):
            return False
        first, last, position = size, 0, 0
        end_record = span.record_offset + span.record_count
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)
            if position < end_record and position + group.num_rows > span.record_offset:
                for column in range(group.num_columns):
                    chunk = group.column(column)
                    begin = chunk.data_page_offset
                    if chunk.has_dictionary_page and chunk.dictionary_page_offset:
                        begin = min(begin, chunk.dictionary_page_offset)
                    first = min(first, begin)
                    last = max(last, begin + chunk.total_compressed_size + _PARQUET_PAD)
            position += group.num_rows
        last = min(last, footer_start)
        if first < last:
            with target.open("r+b") as out:
                out.seek(first)
                self._s3_call(where, lambda s: self._copy(s, where, out, None, first, last - first))
        return True

    def _read(self, where: S3Object, offset: int, length: int) -> bytes:
        def read(store: ObjectStore) -> bytes:
            with self._stream(store, where, offset=offset, length=length) as pieces:
                return b"".join(pieces)

        return self._s3_call(where, read)

    @staticmethod
    def _stream(
        store: ObjectStore,
        where: S3Object,
        key: str | None = None,
        offset: int = 0,
        length: int | None = None,
    ) -> ObjectStream:
        """A GET of `key` (default: the object itself), of its pinned version if any."""
        pin = where.pin
        return store.stream(
            key or where.key,
            bucket=where.bucket,
            offset=offset,
            length=length,
            version_id=pin.version_id if pin else None,
            if_match=pin.if_match if pin else None,
        )

    def _copy(
        self,
        store: ObjectStore,
        where: S3Object,
        out: BinaryIO,
        key: str | None = None,
        offset: int = 0,
        length: int | None = None,
    ) -> StoredObject:
        """Write a GET (`_stream`'s arguments) to `out`; returns the version read."""
        with self._stream(store, where, key, offset, length) as pieces:
            for piece in pieces:
                out.write(piece)
            return pieces.version

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
            if exc.code in _CHANGED:
                pin = where.pin.shown() if where.pin else "the version planned from"
                stale = (
                    f"{pin} no longer exists"
                    if exc.code == "NoSuchVersion"
                    else f"precondition failed: {pin} is no longer current"
                )
                raise JobFailure(FailureKind.CHANGED, pins.changed(where, stale)) from None
            if exc.code in _GONE:
                raise JobFailure(
                    FailureKind.MISSING, f"{where}: {exc.code} (deleted before it was hashed?)"
                ) from None
            if exc.code in _DENIED:
                raise JobFailure(FailureKind.UNREADABLE, f"{where}: {exc.code}") from None
            raise


def hash_local_file(path: Path, progress: Progress) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file read in READ_SIZE pieces into one reused buffer."""
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


def _records_in(
    data: bytes, skip: int, found: int, content: bool, count: int
) -> tuple[int, bool, int | None]:
    """Count JSON Lines records in `data` (from index `skip`), going on from `found`
    records and a current line that has `content` (non-blank bytes) or not. Returns the new
    count and state, and the index just past the newline of record `count` once reached.
    A record is a line whose bytes.strip() is not empty, as JsonLinesFile reads them."""
    first = data.find(b"\n", skip)
    if first < 0:
        return found, content or bool(data[skip:].strip()), None
    # The line that began before `data` (or at `skip`), then whole lines at C speed.
    if content or data[skip:first].strip():
        found += 1
        if found == count:
            return found, False, first + 1
    last = data.rfind(b"\n")
    lines = data.count(b"\n", first + 1)
    records = lines - len(_BLANK_LINE.findall(data, first + 1, last + 1))
    content = bool(data[last + 1 :].strip())
    if found + records < count:
        return found + records, content, None
    position = first + 1  # record `count` ends in this piece: find exactly where
    while True:
        newline = data.find(b"\n", position)
        if data[position:newline].strip():
            found += 1
            if found == count:
                return found, False, newline + 1
        position = newline + 1


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
