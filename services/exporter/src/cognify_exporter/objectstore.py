"""Packages on WORM storage: each package and its DSSE envelope written once, locked in
COMPLIANCE mode until the workspace's retention ends (cognify_objectstore does the S3).

The put is conditional, so an existing package is never overwritten: a second export of
the same sealed run renders the same bytes, and finds them already there."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from cognify_objectstore import ObjectStore, ObjectStoreError, RetentionRefused

from .encryption import Reading
from .package import Package, envelope_key


class PackageStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.bucket = store.bucket

    async def write(self, key: str, package: Package, content_type: str, until: datetime) -> bool:
        """Write package and envelope; False when they were already there (not replaced)."""

        def put() -> bool:
            written = True
            for k, data, kind in (
                (key, package.data, content_type),
                (envelope_key(key), package.envelope_data, "application/json"),
            ):
                try:
                    self.store.put(k, data, kind, retain_until=until)
                except RetentionRefused:
                    written = False  # already stored, and locked: what is there stays
            return written

        return await asyncio.to_thread(put)

    async def put(self, key: str, data: bytes, content_type: str, until: datetime) -> None:
        """One object, written once and locked until `until`; RetentionRefused when the key
        is already there (the stored object stays)."""
        await asyncio.to_thread(self.store.put, key, data, content_type, retain_until=until)

    async def stored(self, key: str) -> bytes | None:
        """The package an earlier attempt stored under `key` (locked there for good), or
        None."""

        def get() -> bytes | None:
            return self.store.get(key) if self.store.exists(key) else None

        return await asyncio.to_thread(get)

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.store.get, key)

    async def encryption(self, buckets: Mapping[str, str]) -> list[Reading]:
        """GetBucketEncryption of each bucket (name -> what it holds of the run), asked now
        with the exporter's credentials; a refusal is recorded with its code, never taken
        for "not encrypted" (encryption.py)."""

        def ask() -> list[Reading]:
            out = []
            for bucket, holds in sorted(buckets.items()):
                now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                reading = Reading(bucket, holds, now)
                try:
                    found = self.store.default_encryption(bucket=bucket)
                except ObjectStoreError as exc:
                    reading = replace(reading, error=exc.code or str(exc)[:200])
                else:
                    if found is not None:
                        reading = replace(
                            reading, algorithm=found.algorithm, kms_key_id=found.kms_key_id
                        )
                out.append(reading)
            return out

        return await asyncio.to_thread(ask)
