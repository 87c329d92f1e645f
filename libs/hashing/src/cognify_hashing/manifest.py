"""Checkpoint manifests and the checkpoint hash (docs/spec/hashing.md, "Checkpoint manifest").

The manifest's canonical bytes are exactly what `sha256sum` prints for the checkpoint's
regular files, sorted by the UTF-8 bytes of their relative POSIX paths:

    <64 lowercase hex>  <path>\\n

so `sha256sum -c` run inside the checkpoint directory checks every file. The checkpoint
hash is "sha256:" + SHA-256 of those bytes. Sizes are recorded alongside (reports, quick
mismatch checks) but are not hashed: each file's digest already binds its length.
Reading the files lives in `cognify_hashing.filesystem`; this module is pure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cognify_hashing.digest import format_digest

__all__ = ["Manifest", "ManifestEntry", "ManifestError", "check_relative_path"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
# sha256sum escapes names holding these (a leading backslash changes the line format).
_UNLISTABLE = ("\n", "\r", "\\")


class ManifestError(ValueError):
    """A checkpoint that has no version-1 manifest (symlink, odd file name, bad entry)."""


def check_relative_path(path: str) -> str:
    """Validate a manifest path: relative POSIX, no '.'/'..'/empty parts, listable UTF-8."""
    if not path or path.startswith("/"):
        raise ManifestError(f"manifest paths are relative and non-empty: {path!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ManifestError(f"manifest path has an empty, '.' or '..' part: {path!r}")
    if any(char in path for char in _UNLISTABLE):
        raise ManifestError(f"file name with newline, carriage return or backslash: {path!r}")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestError(f"file name is not valid UTF-8: {path!r}") from None
    return path


@dataclass(frozen=True)
class ManifestEntry:
    """One regular file of a checkpoint."""

    path: str
    size: int
    sha256: str  # 64 lowercase hex digits

    def __post_init__(self) -> None:
        check_relative_path(self.path)
        if self.size < 0:
            raise ManifestError(f"negative size for {self.path!r}")
        if not _HEX64.fullmatch(self.sha256):
            raise ManifestError(f"not a lowercase hex SHA-256 for {self.path!r}: {self.sha256!r}")

    def line(self) -> str:
        """This file's line in the manifest, as `sha256sum` prints it."""
        return f"{self.sha256}  {self.path}\n"


@dataclass(frozen=True)
class Manifest:
    """All regular files of a checkpoint, sorted by the UTF-8 bytes of their paths."""

    entries: tuple[ManifestEntry, ...]

    @classmethod
    def from_entries(cls, entries: Iterable[ManifestEntry]) -> Manifest:
        ordered = sorted(entries, key=lambda entry: entry.path.encode("utf-8"))
        for before, after in zip(ordered, ordered[1:]):
            if before.path == after.path:
                raise ManifestError(f"path listed twice: {before.path!r}")
        return cls(tuple(ordered))

    def canonical_bytes(self) -> bytes:
        return "".join(entry.line() for entry in self.entries).encode("utf-8")

    @property
    def checkpoint_hash(self) -> str:
        """The checkpoint identity: "sha256:" + SHA-256 of the canonical bytes."""
        return format_digest(hashlib.sha256(self.canonical_bytes()).digest())

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.entries)

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "checkpoint_hash": self.checkpoint_hash,
            "files": [
                {"path": entry.path, "size": entry.size, "sha256": entry.sha256}
                for entry in self.entries
            ],
        }
