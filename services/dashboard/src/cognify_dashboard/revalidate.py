"""Answers the services gave the dashboard, kept to revalidate (pure: no I/O).

The services answer their cacheable reads (lineage's runs list and lineage graph) with a
strong ETag and a 304 to a matching `If-None-Match`, after checking the key and recording
the read. The dashboard keeps the last such answer per API key and path: the next GET of
that path asks the service with the stored ETag, and on 304 answers the stored body, so an
unchanged 0.9 MB graph is not sent across again (bench/dashboard.py). The service decides
every time: a revoked key gets its 401, a change its new answer; nothing here is answered
without the service's word. Entries are per API key (its SHA-256: a key's answers never
serve another key), bounded by bytes, least recently used first out.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRY = 8 * 1024 * 1024


@dataclass(frozen=True)
class Kept:
    etag: str
    headers: dict[str, str]
    body: bytes


def key_of(api_key: str, service: str, path: str, query: bytes, gzip: bool = False) -> str:
    """The entry of one key's GET of a path, in one representation (gzip or not)."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    return f"{digest} {'gzip' if gzip else 'identity'} {service} {path}?{query.decode('latin-1')}"


def strong(etag: str | None) -> bool:
    """Whether a service's ETag is one to revalidate with: strong and quoted."""
    return etag is not None and etag.startswith('"') and etag.endswith('"') and len(etag) > 2


@dataclass
class Revalidation:
    max_bytes: int = MAX_BYTES
    max_entry: int = MAX_ENTRY
    _entries: OrderedDict[str, Kept] = field(default_factory=OrderedDict)
    _bytes: int = 0

    def get(self, key: str) -> Kept | None:
        kept = self._entries.get(key)
        if kept is not None:
            self._entries.move_to_end(key)
        return kept

    def put(self, key: str, kept: Kept) -> None:
        self.drop(key)
        if len(kept.body) > self.max_entry:
            return
        self._entries[key] = kept
        self._bytes += len(kept.body)
        while self._bytes > self.max_bytes:
            self.drop(next(iter(self._entries)))

    def drop(self, key: str) -> None:
        kept = self._entries.pop(key, None)
        if kept is not None:
            self._bytes -= len(kept.body)

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
