"""The on-disk spool: an append-only, fsynced, crash-safe log of encoded events.

Every event the SDK emits is appended here before it is sent, and the position up to which
the broker acknowledged it is stored beside it. So a broker outage, a slow broker or a
`kill -9` loses nothing: whatever was not acknowledged is sent again, in order, by this
process when the broker is back, by the next process that uses the SDK, or by `cognify sync`.

Each process owns one segment (`<id>.seg`, held with an exclusive `flock`) and its ack file
(`<id>.ack`). A segment whose lock can be taken belongs to a process that is gone: an orphan,
which any other process may adopt and drain.

Record framing: 4-byte big-endian length, 4-byte big-endian CRC-32 of the data, the data. A
torn record at the tail (a crash mid-write) fails its length or CRC check and marks the end.
The ack file holds the acknowledged end offset (8 bytes) and its CRC-32 (4 bytes).
"""

from __future__ import annotations

import fcntl
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct(">II")
_ACK = struct.Struct(">QI")
ROTATE_BYTES = 16 << 20  # a fully acknowledged segment larger than this starts over


@dataclass(frozen=True)
class Record:
    end: int  # offset just past this record: acknowledging it means ack(end)
    data: bytes


def frame(data: bytes) -> bytes:
    return _HEADER.pack(len(data), zlib.crc32(data)) + data


def read_records(fd: int, start: int, limit: int, max_bytes: int = 8 << 20) -> list[Record]:
    """Up to `limit` whole records from `start`; stops at end of file or at a torn record."""
    out: list[Record] = []
    pos, budget = start, max_bytes
    while len(out) < limit and budget > 0:
        header = os.pread(fd, _HEADER.size, pos)
        if len(header) < _HEADER.size:
            break
        length, crc = _HEADER.unpack(header)
        data = os.pread(fd, length, pos + _HEADER.size)
        if len(data) < length or zlib.crc32(data) != crc:
            break
        pos += _HEADER.size + length
        budget -= length
        out.append(Record(pos, data))
    return out


class Segment:
    """One process's log: append, read from the acknowledged position, acknowledge."""

    def __init__(self, path: Path, fd: int | None = None, *, adopt: bool = False) -> None:
        self.path = path
        self.ack_path = path.with_suffix(".ack")
        self._fd = _open_locked(path) if fd is None else fd
        self._ack_fd = os.open(self.ack_path, os.O_RDWR | os.O_CREAT, 0o600)
        self.acked = self._read_ack()
        # Records appended and not yet acknowledged: kept as a count (heartbeats report it)
        # so that nobody has to read the log to know it. A new segment starts empty; an
        # adopted one is counted by the scan that finds its valid end.
        self.pending_records = 0
        self.size = self._valid_end() if adopt else os.fstat(self._fd).st_size
        if adopt and self.size < os.fstat(self._fd).st_size:
            os.truncate(path, self.size)  # drop a torn tail left by a crash

    @classmethod
    def create(cls, directory: Path) -> Segment:
        """A new segment, locked before it becomes visible under its `.seg` name, so that no
        adopter can mistake it for an orphan."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.seg"
        hidden = path.with_suffix(".new")
        fd = _open_locked(hidden)
        hidden.rename(path)
        return cls(path, fd)

    def _read_ack(self) -> int:
        raw = os.pread(self._ack_fd, _ACK.size, 0)
        if len(raw) == _ACK.size:
            offset, crc = _ACK.unpack(raw)
            if zlib.crc32(offset.to_bytes(8, "big")) == crc:
                return int(offset)
        return 0  # no valid ack: resend everything (a duplicate id is harmless, a loss is not)

    def _valid_end(self) -> int:
        pos = self.acked
        while batch := read_records(self._fd, pos, 10_000):
            pos = batch[-1].end
            self.pending_records += len(batch)
        return pos

    def append(self, records: list[bytes]) -> None:
        """Append and fsync: when this returns, the records survive a crash."""
        if not records:
            return
        blob = b"".join(frame(r) for r in records)
        os.write(self._fd, blob)
        os.fsync(self._fd)
        self.size += len(blob)
        self.pending_records += len(records)

    def unacked(self, limit: int = 1_000) -> list[Record]:
        return read_records(self._fd, self.acked, limit)

    def iter_unacked(self, batch: int = 1_000) -> Iterator[list[Record]]:
        pos = self.acked
        while records := read_records(self._fd, pos, batch):
            yield records
            pos = records[-1].end

    @property
    def pending_bytes(self) -> int:
        return self.size - self.acked

    def ack(self, end: int, count: int | None = None) -> None:
        """Acknowledge up to `end`: `count` records (the caller sent them, so it knows; when
        it does not say, they are counted here by reading their headers)."""
        if count is None:
            count, pos = 0, self.acked
            while pos < end and (batch := read_records(self._fd, pos, 10_000)):
                inside = [r for r in batch if r.end <= end]
                count += len(inside)
                if len(inside) < len(batch) or not inside:
                    break
                pos = inside[-1].end
        self.pending_records = max(0, self.pending_records - count)
        if end == self.size:
            self.pending_records = 0
        self.acked = end
        if end == self.size and self.size > ROTATE_BYTES:
            os.ftruncate(self._fd, 0)
            self.size = self.acked = 0
            end = 0
        os.pwrite(self._ack_fd, _ACK.pack(end, zlib.crc32(end.to_bytes(8, "big"))), 0)
        os.fsync(self._ack_fd)

    def close(self, *, remove_if_drained: bool = True) -> None:
        drained = self.pending_bytes == 0
        if drained and remove_if_drained:
            self.path.unlink(missing_ok=True)
            self.ack_path.unlink(missing_ok=True)
        os.close(self._ack_fd)
        os.close(self._fd)  # releases the lock


def _open_locked(path: Path, *, create: bool = True) -> int:
    flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise
    return fd


def adopt_orphans(directory: Path) -> list[Segment]:
    """Segments left by processes that are gone (their lock is free), opened and locked."""
    if not directory.is_dir():
        return []
    adopted = []
    for path in sorted(directory.glob("*.seg")):
        try:
            adopted.append(Segment(path, _open_locked(path, create=False), adopt=True))
        except (BlockingIOError, FileNotFoundError):
            continue  # a live process holds it, or it was just drained by another adopter
    return adopted
