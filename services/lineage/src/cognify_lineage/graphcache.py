"""Encoded lineage graphs kept between requests (pure: no I/O).

A run's graph changes only when the run does: a stored event (its chain grows), the
abandonment sweep (its status), the seal. `Version` is what the API reads in one indexed
row before anything else (`queries.version`); a graph cached under the same version is the
graph the fold would build again, byte for byte. Reviewers open the same runs again and
again (and a page reloads the graph on each live update), so a hit saves loading every node
of the run and encoding it: for a 2,000-checkpoint run, most of the request
(bench/dashboard.py).

Bounded by bytes, least recently used first out. A version read before the graph is built
can only be older than the graph it is stored with, so a stale answer is never served: at
worst the next request builds it again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

Version = tuple[Any, ...]
MAX_BYTES = 64 * 1024 * 1024


@dataclass
class GraphCache:
    max_bytes: int = MAX_BYTES
    _entries: OrderedDict[str, tuple[Version, bytes]] = field(default_factory=OrderedDict)
    _bytes: int = 0

    def get(self, run_id: str, version: Version) -> bytes | None:
        entry = self._entries.get(run_id)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(run_id)
        return entry[1]

    def put(self, run_id: str, version: Version, body: bytes) -> None:
        self._drop(run_id)
        if len(body) > self.max_bytes:
            return
        self._entries[run_id] = (version, body)
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, run_id: str) -> None:
        entry = self._entries.pop(run_id, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    @property
    def size(self) -> int:
        return self._bytes
