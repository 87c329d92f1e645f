"""Which version of an s3:// dataset a chunked job was planned from (pure: no I/O).

The planner reads the whole source once; the version it read (taken from the GET
response, never from a separate stat that could race) is written into every chunk request
as `source_version`, in one of three forms:

- `version-id:<VersionId>`: one object of a versioned bucket. A chunk's reads are GETs of
  that version id.
- `etag:<ETag>`: one object the store names no version of (a bucket without versioning).
  A chunk's reads are GETs of the current object with `If-Match` on that ETag.
- `objects-sha256:<hex>`: a prefix of several objects (a `save_to_disk` directory).
  SHA-256 of the JSON array of `[relative key, version]` pairs, in key order, each version
  in one of the two forms above; a chunk compares it with the objects it read.

A chunk whose version is gone or no longer current fails (`changed`): its records would
not be those of the plan, and a root mixing two versions matches no version of the data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cognify_objectstore import StoredObject

Kind = Literal["version-id", "etag", "objects-sha256"]
VERSION_ID: Kind = "version-id"
ETAG: Kind = "etag"
OBJECTS: Kind = "objects-sha256"
_KINDS: tuple[Kind, ...] = (VERSION_ID, ETAG, OBJECTS)


@dataclass(frozen=True)
class Pin:
    kind: Kind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Pin:
        kind, _, value = text.partition(":")
        for known in _KINDS:
            if kind == known and value:
                return cls(known, value)
        raise ValueError(f"not a source version: {text!r}")

    @property
    def version_id(self) -> str | None:
        """What a GET of the pinned object asks for: this version id ..."""
        return self.value if self.kind == VERSION_ID else None

    @property
    def if_match(self) -> str | None:
        """... or the current object while its ETag is this one."""
        return self.value if self.kind == ETAG else None

    def shown(self) -> str:
        return f"version {self.value}" if self.kind == VERSION_ID else f"ETag {self.value}"


def of_object(read: StoredObject) -> Pin | None:
    """The pin of the version a GET read: its version id, else its ETag (None when the
    store named neither: nothing can be pinned)."""
    if read.version_id:
        return Pin(VERSION_ID, read.version_id)
    if read.etag:
        return Pin(ETAG, read.etag)
    return None


def of_objects(read: Sequence[tuple[str, Pin | None]]) -> Pin:
    """The pin of the objects read under a prefix: (relative key, its pin) of each."""
    pairs = sorted(([rel, str(pin) if pin else None] for rel, pin in read), key=_key_bytes)
    body = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return Pin(OBJECTS, hashlib.sha256(body.encode()).hexdigest())


def stale(pin: Pin, current: StoredObject) -> str | None:
    """Why the object's current version is not the pinned one, or None when it is."""
    if pin.kind == OBJECTS:
        return "it was planned from the objects under a prefix and is now one object"
    if pin.kind == VERSION_ID and current.version_id != pin.value:
        now = current.version_id or "unversioned"
        return f"version {pin.value} is no longer current; it is now {now}"
    if pin.kind == ETAG and current.etag != pin.value:
        return f"ETag {pin.value} is no longer current; it is now {current.etag}"
    return None


def changed(where: object, detail: str) -> str:
    """The reason a chunk of a changed source fails with."""
    return f"{where} changed after the job was planned ({detail})"


def _key_bytes(pair: list[str | None]) -> bytes:
    return (pair[0] or "").encode()
