"""Local files to hashes: stream a file through SHA-256, scan a checkpoint into a Manifest.

Files are read in 1 MiB `readinto` calls on one reused buffer, so memory stays flat however
large a shard is, and hashlib drops the GIL on such updates (threads hash files in parallel).
1 MiB is large enough that the syscalls cost nothing, and small enough that the piece just
copied from the page cache is still in the core's L2 cache when SHA-256 reads it: with every
core hashing, 8 MiB pieces (read back from memory) were 3-4% slower (bench/hashing.py).
Symbolic links and special files inside a checkpoint are refused (spec v1): a link's target
may lie outside the checkpoint or change after hashing, so there is no honest hash for it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cognify_hashing.manifest import Manifest, ManifestEntry, ManifestError, check_relative_path

__all__ = ["READ_SIZE", "hash_file", "scan_checkpoint"]

READ_SIZE = 1024 * 1024


def hash_file(path: str | os.PathLike[str]) -> tuple[int, str]:
    """(size in bytes, SHA-256 lowercase hex) of a file, read in a streamed fashion."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as handle:
        expected = os.fstat(handle.fileno()).st_size
        buffer = bytearray(max(1, min(READ_SIZE, expected)))
        view = memoryview(buffer)
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            size += count
    return size, digest.hexdigest()


def scan_checkpoint(root: str | os.PathLike[str], *, workers: int = 1) -> Manifest:
    """The manifest of every regular file under `root` (empty directories leave no trace).

    Raises ManifestError on a symbolic link, a special file or an unlistable file name.
    `workers` > 1 hashes files on that many threads.
    """
    base = Path(root)
    if not base.is_dir():
        raise ManifestError(f"checkpoint directory not found: {base}")
    files = sorted(_regular_files(base, ""), key=lambda rel: rel.encode("utf-8"))

    def entry(rel: str) -> ManifestEntry:
        size, hexdigest = hash_file(base / rel)
        return ManifestEntry(path=rel, size=size, sha256=hexdigest)

    if workers > 1 and len(files) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            entries = list(pool.map(entry, files))
    else:
        entries = [entry(rel) for rel in files]
    return Manifest.from_entries(entries)


def _regular_files(directory: Path, prefix: str) -> Iterator[str]:
    with os.scandir(directory) as listing:
        children = list(listing)
    for child in children:
        rel = check_relative_path(prefix + child.name)
        mode = child.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            raise ManifestError(f"symbolic link inside the checkpoint: {rel!r}")
        if stat.S_ISDIR(mode):
            yield from _regular_files(Path(child.path), rel + "/")
        elif stat.S_ISREG(mode):
            yield rel
        else:
            raise ManifestError(f"not a regular file or directory: {rel!r}")
