"""The reader port: what the hasher needs from wherever a job's target lives.

`Storage.open` checks the job's workspace may read the place (tenancy) and hands `Work` a
`Source` bound to that one target; `Work` never sees paths, buckets or clients.

Writing an adapter (see `local.LocalSource` and `s3.S3Source`):

- `files()` lists a checkpoint: (relative path, size) of every regular file, paths checked
  with `cognify_hashing.manifest.check_relative_path`, in UTF-8 byte order. A target that
  is gone is `JobFailure(MISSING)`, one that is not a directory or prefix `INVALID`.
- `hash_file(rel, progress)` streams one of those files through SHA-256 (call
  `progress.add` per piece) and returns (size, hex digest, version read or None). It may
  run on several threads at once.
- `dataset(span, version)` is a context manager yielding a `DatasetRead`: a local path the
  `cognify_hashing.sources` readers can open (a spooled copy or a view of the target),
  valid until the block ends. `span` says which records a chunk reads (an adapter may
  fetch only their bytes); `version` is the pin a chunk was planned from (fail with
  `CHANGED` when that version is no longer what would be read).
- Never read outside the place the source was opened for; turn the store's own errors into
  `JobFailure` (refused, missing, changed, unreadable) with a reason a user can act on, and
  let anything else (the network) propagate: the worker retries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cognify_hashing import ManifestEntry, ManifestError
from cognify_hashing.manifest import check_relative_path

from .jobs import FailureKind, JobFailure
from .progress import Progress


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


class Source(Protocol):
    """One job's target, in the place its workspace may read."""

    def files(self) -> list[tuple[str, int]]: ...

    def hash_file(self, rel: str, progress: Progress) -> tuple[int, str, str | None]: ...

    def dataset(
        self, span: Span | None = None, version: str | None = None
    ) -> AbstractContextManager[DatasetRead]: ...


def hash_files(
    source: Source, files: Sequence[tuple[str, int]], progress: Progress, threads: int
) -> tuple[list[ManifestEntry], dict[str, str]]:
    """SHA-256 of the given files, `threads` at a time (hashlib drops the GIL), and the
    version of each file read where the store has versions, by relative path."""

    def one(item: tuple[str, int]) -> tuple[ManifestEntry, str | None]:
        rel = relative(item[0])
        size, hexdigest, version = source.hash_file(rel, progress)
        return ManifestEntry(path=rel, size=size, sha256=hexdigest), version

    if threads > 1 and len(files) > 1:
        with ThreadPoolExecutor(max_workers=min(threads, len(files))) as pool:
            done = list(pool.map(one, files))
    else:
        done = [one(item) for item in files]
    return [entry for entry, _ in done], {e.path: v for e, v in done if v}


def relative(rel: str) -> str:
    """A file path of a checkpoint as the manifest allows it (version 1), or INVALID."""
    try:
        return check_relative_path(rel)
    except ManifestError as exc:
        raise JobFailure(FailureKind.INVALID, f"no version-1 manifest: {exc}") from None
