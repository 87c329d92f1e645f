"""The S3 adapter of the reader port: an object, or every object under a prefix, in a bucket
the job's workspace may read (tenancy checked the place before this was built).

Objects are streamed through SHA-256 in 8 MiB pieces; an s3:// dataset is streamed to a
spool file first (Parquet and Arrow readers need to seek), never held in memory, and a
chunk of a single JSON Lines or Parquet object spools only its byte range (`spans`).

Every read of a chunk asks for the version of the source its job was planned from (see
`pins`): a GET of that version id, or of the current object with If-Match on that ETag; a
prefix's objects are compared with the plan's once read. A chunk of a source that changed
meanwhile fails (`FailureKind.CHANGED`) rather than hash records of another version.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, TypeVar

from cognify_objectstore import ObjectStore, ObjectStoreError, ObjectStream, StoredObject

from . import pins
from .jobs import FailureKind, JobFailure
from .pins import Pin
from .progress import Progress
from .source import DatasetRead, Span, relative
from .spans import RANGE_WINDOW, spool_span

T = TypeVar("T")
_GONE = ("NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound")
_DENIED = ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId")
_CHANGED = ("NoSuchVersion", "PreconditionFailed")  # a pinned read of a changed source


class S3Source:
    """s3://`bucket`/`key`; every read asks for `pin`'s version when there is one."""

    def __init__(
        self,
        store: ObjectStore,
        bucket: str,
        key: str,
        spool_dir: Path | None = None,
        range_window: int = RANGE_WINDOW,
        pin: Pin | None = None,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.key = key
        self.spool_dir = spool_dir
        self.range_window = range_window
        self.pin = pin

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    # ---- the port -----------------------------------------------------------------------

    def files(self) -> list[tuple[str, int]]:
        prefix = self.key.rstrip("/") + "/"
        objects = self._call(lambda s: s.list_sizes(prefix, bucket=self.bucket))
        if not objects:
            raise JobFailure(
                FailureKind.MISSING,
                f"no objects under {self}/: the checkpoint was rotated away "
                "(save_total_limit) or deleted before it was hashed",
            )
        return [(relative(key[len(prefix) :]), size) for key, size in objects]

    def hash_file(self, rel: str, progress: Progress) -> tuple[int, str, str | None]:
        key = self.key.rstrip("/") + "/" + rel

        def hash_object(store: ObjectStore) -> tuple[int, str, str | None]:
            with self._stream(store, key) as pieces:
                size, hexdigest = _digest(pieces, progress)
                pin = pins.of_object(pieces.version)
                return size, hexdigest, None if pin is None else str(pin)

        return self._call(hash_object)

    @contextlib.contextmanager
    def dataset(
        self, span: Span | None = None, version: str | None = None
    ) -> Iterator[DatasetRead]:
        """A spooled copy of the object (or of every object under the prefix: a
        `save_to_disk` directory), with the version of it that was read. With a chunk's
        `span`, a single JSON Lines or Parquet object is spooled sparse: only the bytes that
        range's reader reads are fetched. With a `version` (a chunk's `source_version`),
        exactly that version is read, or the chunk fails: the source changed."""
        source = self
        if version is not None:
            try:
                pin = Pin.parse(version)
            except ValueError as exc:
                raise JobFailure(FailureKind.INVALID, f"{self}: {exc}") from None
            source = S3Source(
                self.store, self.bucket, self.key, self.spool_dir, self.range_window, pin
            )
        with tempfile.TemporaryDirectory(prefix="cognify-hasher-", dir=self.spool_dir) as tmp:
            path, read = source._spool(Path(tmp), span)
            yield DatasetRead(path, None if read is None else str(read))

    # ---- spooling -----------------------------------------------------------------------

    def _spool(self, tmp: Path, span: Span | None) -> tuple[Path, Pin | None]:
        """The spooled copy and the version it is of: the pinned one, else the one read."""
        current = self._call(lambda s: s.stat(self.key, bucket=self.bucket))
        if current is not None:
            if self.pin is not None and (stale := pins.stale(self.pin, current)):
                raise JobFailure(FailureKind.CHANGED, pins.changed(self, stale))
            target = tmp / PurePosixPath(self.key).name
            if span is not None and spool_span(
                str(self),
                target,
                current.size or 0,
                span,
                self._read,
                self._copy_range,
                self.range_window,
            ):
                return target, self.pin
            version = self._download(self.key, target)
            return target, self.pin or pins.of_object(version)
        prefix = self.key.rstrip("/") + "/"
        objects = self._call(lambda s: s.list_sizes(prefix, bucket=self.bucket))
        if not objects:
            raise JobFailure(FailureKind.MISSING, f"no object or prefix {self}: deleted?")
        if self.pin is not None and self.pin.kind != pins.OBJECTS:
            stale = "it was planned from one object and is now a prefix"
            raise JobFailure(FailureKind.CHANGED, pins.changed(self, stale))
        root = tmp / "dataset"
        read: list[tuple[str, Pin | None]] = []
        for key, _ in objects:
            rel = relative(key[len(prefix) :])
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            read.append((rel, pins.of_object(self._download(key, target))))
        got = pins.of_objects(read)
        if self.pin is not None and got != self.pin:
            stale = (
                f"its objects are not those planned from: {self.pin.value} then, {got.value} now"
            )
            raise JobFailure(FailureKind.CHANGED, pins.changed(self, stale))
        return root, got

    def _download(self, key: str, target: Path) -> StoredObject:
        """The whole object, into `target`; returns the version read."""
        with target.open("wb") as out:
            return self._call(lambda s: self._copy(s, out, key))

    def _read(self, offset: int, length: int) -> bytes:
        def read(store: ObjectStore) -> bytes:
            with self._stream(store, offset=offset, length=length) as pieces:
                return b"".join(pieces)

        return self._call(read)

    def _copy_range(self, out: BinaryIO, offset: int, length: int) -> None:
        self._call(lambda s: self._copy(s, out, None, offset, length))

    def _stream(
        self, store: ObjectStore, key: str | None = None, offset: int = 0, length: int | None = None
    ) -> ObjectStream:
        """A GET of `key` (default: the object itself), of the pinned version if any."""
        pin = self.pin
        return store.stream(
            key or self.key,
            bucket=self.bucket,
            offset=offset,
            length=length,
            version_id=pin.version_id if pin else None,
            if_match=pin.if_match if pin else None,
        )

    def _copy(
        self,
        store: ObjectStore,
        out: BinaryIO,
        key: str | None = None,
        offset: int = 0,
        length: int | None = None,
    ) -> StoredObject:
        """Write a GET (`_stream`'s arguments) to `out`; returns the version read."""
        with self._stream(store, key, offset, length) as pieces:
            for piece in pieces:
                out.write(piece)
            return pieces.version

    def _call(self, call: Callable[[ObjectStore], T]) -> T:
        """The store's errors about the target as JobFailures; others propagate (retried)."""
        try:
            return call(self.store)
        except ObjectStoreError as exc:
            if exc.code in _CHANGED:
                pin = self.pin.shown() if self.pin else "the version planned from"
                stale = (
                    f"{pin} no longer exists"
                    if exc.code == "NoSuchVersion"
                    else f"precondition failed: {pin} is no longer current"
                )
                raise JobFailure(FailureKind.CHANGED, pins.changed(self, stale)) from None
            if exc.code in _GONE:
                raise JobFailure(
                    FailureKind.MISSING, f"{self}: {exc.code} (deleted before it was hashed?)"
                ) from None
            if exc.code in _DENIED:
                raise JobFailure(FailureKind.UNREADABLE, f"{self}: {exc.code}") from None
            raise


def _digest(pieces: Iterator[bytes], progress: Progress) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for piece in pieces:
        digest.update(piece)
        size += len(piece)
        progress.add(len(piece))
    return size, digest.hexdigest()
