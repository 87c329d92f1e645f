"""Anchoring chain heads in Object Lock storage, and checking the store against them.

`Anchorer.run` is lineage's anchor loop: every `interval_s` seconds, and at once when a
seal was stored (`poke`), it writes one signed segment (anchors.py) for each chain that
grew since its last anchor, locked in COMPLIANCE mode. `check` compares a chain in the
store with all its segments (the read API and `python -m cognify_lineage verify`).

Where a chain's last anchor ends is read from the anchors themselves, never trusted from
the database: this process remembers what it wrote, and otherwise lists the chain's
segments in the store. The `chain_anchors` table (migration 0025) only says which chains
grew since their last anchor, so that a round does not list every chain in the store; a
row removed or rolled back there makes lineage anchor again from the store's last segment,
which changes nothing anchored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cognify_objectstore import ObjectStore, RetentionRefused
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import anchors, chain, metrics
from .postgres import Pool

log = logging.getLogger("cognify_lineage.anchoring")


def trusted_keys(
    signer: Ed25519PrivateKey, previous: Sequence[bytes] = ()
) -> dict[str, Ed25519PublicKey]:
    """The anchor keys a check accepts, by fingerprint: lineage's own and earlier ones."""
    keys = [signer.public_key(), *(Ed25519PublicKey.from_public_bytes(k) for k in previous)]
    return {anchors.key_id(k): k for k in keys}


class AnchorStore:
    """Segments in the object store: `<prefix><chain_id>/<length, 12 digits>.dsse.json`,
    written once (a conditional put) and locked until `retain_days` have passed."""

    def __init__(self, store: ObjectStore, prefix: str, retain_days: int) -> None:
        self.store = store
        self.prefix = prefix
        self.retain_days = retain_days
        self._ready = False

    def key(self, chain_id: str, length: int) -> str:
        return f"{self.prefix}{chain_id}/{length:012d}.dsse.json"

    async def put(self, key: str, data: bytes) -> bool:
        """Write a segment; False when one is already there (never replaced)."""

        def put() -> bool:
            if not self._ready:
                self.store.ensure_bucket()
                self._ready = True
            until = datetime.now(UTC) + timedelta(days=self.retain_days)
            try:
                self.store.put(key, data, "application/json", retain_until=until)
            except RetentionRefused:
                return False
            return True

        return await asyncio.to_thread(put)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.store.get, key)

    async def keys(self, chain_id: str) -> list[str]:
        """The chain's segment keys, in the order of the lengths they anchor."""
        return sorted(await asyncio.to_thread(self.store.list_keys, f"{self.prefix}{chain_id}/"))

    async def chains(self) -> set[str]:
        """Every chain with a segment (a chain removed from the database is still here)."""
        keys = await asyncio.to_thread(self.store.list_keys, self.prefix)
        return {k[len(self.prefix) :].rsplit("/", 1)[0] for k in keys}


@dataclass
class Segments:
    """Reading and checking segments, with the ones already checked kept in memory (an
    object, once written, never changes: its key is never written twice)."""

    store: AnchorStore
    trusted: Mapping[str, Ed25519PublicKey]
    cache: dict[str, anchors.Segment] = field(default_factory=dict)
    max_cached: int = 200_000

    async def read(self, key: str) -> anchors.Segment:
        found = self.cache.get(key)
        if found is None:
            found = anchors.open_envelope(await self.store.get(key), self.trusted)
            if len(self.cache) >= self.max_cached:
                self.cache.clear()
            self.cache[key] = found
        return found

    async def of(self, chain_id: str) -> tuple[list[anchors.Segment], list[str]]:
        """The chain's segments, and one problem per object that is not a trusted segment of
        this chain at the length its key names."""
        segments, problems = [], []
        for key in await self.store.keys(chain_id):
            try:
                seg = await self.read(key)
            except anchors.AnchorInvalid as exc:
                problems.append(f"anchor {key}: {exc}")
                continue
            if seg.chain_id != chain_id or self.store.key(chain_id, seg.length) != key:
                problems.append(f"anchor {key}: names chain {seg.chain_id} at {seg.length}")
                continue
            segments.append(seg)
        return segments, problems

    async def last(self, chain_id: str) -> anchors.Segment | None:
        """The segment anchoring the most of the chain (None: never anchored): the last key
        (keys sort by length), or the one before it when that is not a trusted segment."""
        for key in reversed(await self.store.keys(chain_id)):
            try:
                seg = await self.read(key)
            except anchors.AnchorInvalid:
                log.error("anchor %s is not a trusted segment; skipped", key)
                continue
            if seg.chain_id == chain_id and self.store.key(chain_id, seg.length) == key:
                return seg
        return None


@dataclass(frozen=True)
class Anchored:
    length: int
    head: str


class Anchorer:
    """The anchor loop. Several lineage instances may run it at once: a segment's key is
    its chain and length, so two that anchor the same thing write one object."""

    def __init__(
        self,
        pool: Pool,
        segments: Segments,
        signer: Ed25519PrivateKey,
        interval_s: float,
        clock: type[datetime] = datetime,
        max_segment: int = 50_000,
    ) -> None:
        self.pool = pool
        self.segments = segments
        self.signer = signer
        self.interval_s = interval_s
        self.clock = clock
        # ~3.5 MB of hashes per segment at most, and as many bodies read at once
        self.max_segment = max_segment
        self.anchored: dict[str, Anchored] = {}  # what this process wrote or read back
        self.wake = asyncio.Event()

    def poke(self) -> None:
        """Anchor now (a seal was stored), without waiting for the interval."""
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        metrics.ANCHOR_INTERVAL.set(self.interval_s)
        while not stop.is_set():
            self.wake.clear()
            try:
                with metrics.ANCHOR_SECONDS.time():
                    await self.round()
            except Exception:
                metrics.ANCHOR_FAILURES.inc()
                log.exception("anchoring failed; trying again in %.0f s", self.interval_s)
            waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self.wake.wait())]
            await asyncio.wait(waits, timeout=self.interval_s, return_when="FIRST_COMPLETED")
            for task in waits:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def round(self) -> int:
        """Anchor every chain that grew since its last anchor; returns how many segments
        were written. Sets the last-anchor time only when every chain was anchored."""
        rows = await self.pool.fetch(
            """SELECT h.chain_id, h.workspace_id, h.length FROM chain_heads h
               LEFT JOIN chain_anchors a USING (chain_id)
               WHERE a.chain_id IS NULL OR a.length < h.length ORDER BY h.chain_id"""
        )
        written = 0
        for r in rows:
            written += await self.anchor(r["chain_id"], r["workspace_id"], r["length"])
        metrics.ANCHOR_LAST.set(time.time())
        return written

    async def _last(self, chain_id: str) -> Anchored:
        known = self.anchored.get(chain_id)
        if known is None:
            seg = await self.segments.last(chain_id)
            known = Anchored(seg.length, seg.head) if seg else Anchored(0, chain.GENESIS)
        return known

    async def anchor(self, chain_id: str, workspace_id: str, length: int) -> int:
        """Anchor one chain up to `length` events, in segments of at most `max_segment`
        events (a chain anchored for the first time may be long); returns how many
        segments were written."""
        last = await self._last(chain_id)
        if last.length >= length:
            await self._record(chain_id, workspace_id, last, None)
            return 0
        written = 0
        while last.length < length:
            done = await self._segment(
                chain_id, workspace_id, last, min(length, last.length + self.max_segment)
            )
            if done is None:
                break
            last, written = done, written + 1
        return written

    async def _segment(
        self, chain_id: str, workspace_id: str, last: Anchored, upto: int
    ) -> Anchored | None:
        """Write the segment of events `last.length` .. `upto - 1` (None: none written)."""
        rows = await self.pool.fetch(
            """SELECT chain_index, prev_hash, body FROM events
               WHERE chain_id = $1 AND chain_index >= $2 AND chain_index < $3
               ORDER BY chain_index""",
            chain_id,
            last.length,
            upto,
        )
        rows = [r for i, r in enumerate(rows) if r["chain_index"] == last.length + i]
        if not rows:
            log.error(
                "chain %s: events from #%d are missing; nothing anchored", chain_id, last.length
            )
            metrics.ANCHOR_CONFLICTS.inc()
            return None
        if rows[0]["prev_hash"] != last.head:
            # The store no longer continues what was anchored: history before the anchor
            # was rewritten. The segment continues the anchor all the same (what was anchored
            # stays the reference); `check` names the event that differs.
            log.error(
                "chain %s: event #%d does not continue the anchored head %s: the store was "
                "rewritten after it was anchored",
                chain_id,
                last.length,
                last.head,
            )
            metrics.ANCHOR_CONFLICTS.inc()
        # Hashing and signing a long segment takes a while: not on the consume loop's thread.
        seg = await asyncio.to_thread(
            anchors.extend,
            chain_id,
            workspace_id,
            last.length,
            last.head,
            [r["body"] for r in rows],
            self.clock.now(UTC),
        )
        key = self.segments.store.key(chain_id, seg.length)
        envelope = await asyncio.to_thread(anchors.sign, seg, self.signer)
        if not await self.segments.store.put(key, envelope):
            there = await self.segments.read(key)  # another instance anchored it first
            if there.head != seg.head:
                log.error("chain %s: the anchor %s disagrees with the store", chain_id, key)
                metrics.ANCHOR_CONFLICTS.inc()
            seg = there
        else:
            metrics.ANCHORS.inc()
        done = Anchored(seg.length, seg.head)
        self.anchored[chain_id] = done
        await self._record(chain_id, workspace_id, done, key)
        return done

    async def _record(
        self, chain_id: str, workspace_id: str, done: Anchored, key: str | None
    ) -> None:
        await self.pool.execute(
            """INSERT INTO chain_anchors (chain_id, workspace_id, length, head_hash, object_key)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (chain_id) DO UPDATE SET length = EXCLUDED.length,
                   head_hash = EXCLUDED.head_hash,
                   object_key = COALESCE(EXCLUDED.object_key, chain_anchors.object_key),
                   anchored_at = now()""",
            chain_id,
            workspace_id,
            done.length,
            done.head,
            key,
        )


@dataclass(frozen=True)
class Verdict:
    """A chain's anchor check, with the stored event it names (the first that differs)."""

    check: anchors.AnchorCheck
    event: dict[str, Any] | None = None  # event_id, seq, type of the first that differs

    def json(self) -> dict[str, Any]:
        c, d = self.check, self.check.difference
        first = None
        if d is not None:
            first = {
                "index": d.index,
                "exact": d.exact,
                "last_agreeing_index": d.after,
                "anchored_at": anchors.iso(d.anchored_at),
                "reason": d.reason,
                **(self.event or {"event_id": None, "seq": None, "type": None}),
            }
        return {
            "checked": True,
            "valid": c.valid,
            "segments": c.segments,
            "anchored_length": c.anchored_length,
            "anchored_head": c.anchored_head,
            "last_anchored_at": anchors.iso(c.last_anchored_at) if c.last_anchored_at else None,
            "first_difference": first,
            "problems": list(c.problems),
            "message": self.describe(),
        }

    def describe(self) -> str:
        c, d = self.check, self.check.difference
        if d is not None:
            e = self.event or {}
            what = f"event #{d.index}" + (
                f" (seq {e.get('seq')}, {e.get('type')}, event_id {e.get('event_id')})" if e else ""
            )
            where = "" if d.exact else f", at or before it and after event #{d.after}"
            return (
                f"chain {c.chain_id}: rewritten after it was anchored: first difference at "
                f"{what}{where}: {d.reason}"
            )
        if c.problems:
            return f"chain {c.chain_id}: the anchors do not hold: {'; '.join(c.problems)}"
        if not c.segments:
            return f"chain {c.chain_id}: not anchored yet"
        return (
            f"chain {c.chain_id}: as anchored ({c.anchored_length} events in {c.segments} "
            f"anchors, the last of {anchors.iso(c.last_anchored_at or datetime.now(UTC))})"
        )


def unchecked(reason: str) -> dict[str, Any]:
    """The read API's anchor status when the anchors could not be read."""
    return {
        "checked": False,
        "valid": None,
        "segments": 0,
        "anchored_length": 0,
        "anchored_head": None,
        "last_anchored_at": None,
        "first_difference": None,
        "problems": [],
        "message": f"the anchors could not be read: {reason}",
    }


def recomputed(links: Sequence[chain.StoredLink], verified: chain.Verification) -> list[str]:
    """The chain's hashes recomputed from its stored bytes: for a chain `chain.verify` found
    intact, its stored hashes (verify compared each with its recomputation), so they are not
    computed twice; for a broken one, computed again from the bytes (never the stored column)."""
    if verified.valid:
        return [link.hash for link in links]
    return anchors.recompute(link.body for link in links)


async def check(pool: Pool, segments: Segments, chain_id: str, hashes: Sequence[str]) -> Verdict:
    """The chain in the store (`hashes`: its chain hashes recomputed from the stored bytes,
    `recomputed`) against all its segments."""
    found, problems = await segments.of(chain_id)
    result = anchors.compare(chain_id, hashes, found)
    if problems:
        result = replace(result, problems=(*problems, *result.problems))
    event = None
    if result.difference is not None:
        row = await pool.fetchrow(
            """SELECT event_id, seq, type FROM events
               WHERE chain_id = $1 AND chain_index = $2""",
            chain_id,
            result.difference.index,
        )
        if row is not None:
            event = {"event_id": str(row["event_id"]), "seq": row["seq"], "type": row["type"]}
    return Verdict(result, event)
