"""Folded runs kept between requests (pure: no I/O).

The run page reads one run five ways at once (summary, findings, approvals, chain, graph),
and reviewers open the same runs again and again. Loading a 2,000-checkpoint run from the
projection tables and computing its lineage digest took most of each of those requests
(85 to 117 ms alone; bench/dashboard.py). A run is kept under the same `Version` the graph
is (graphcache.py: its chain's length, status, last event and seal, read in one indexed row
before anything else), so a kept run is the run the fold would load again; the digest is
computed once per kept run, when first asked for.

Bounded by count (a folded run of that size is a few megabytes of Python objects), least
recently used first out. A version read before the run is loaded can only be older than the
run kept with it, so a stale run is never answered: at worst the next request loads it
again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cognify_lineage_model import graph
from cognify_lineage_model.model import Run

from .graphcache import Version

MAX_RUNS = 16
T = TypeVar("T")


@dataclass
class Folded:
    """A run as loaded, and what is computed from it once."""

    run: Run
    _digest: str | None = None

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = graph.digest(self.run)
        return self._digest


@dataclass
class RunCache:
    max_runs: int = MAX_RUNS
    _entries: OrderedDict[str, tuple[Version, Folded]] = field(default_factory=OrderedDict)

    def get(self, run_id: str, version: Version) -> Folded | None:
        entry = self._entries.get(run_id)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(run_id)
        return entry[1]

    def put(self, run_id: str, version: Version, run: Run) -> Folded:
        folded = Folded(run)
        self._entries.pop(run_id, None)
        if self.max_runs > 0:
            self._entries[run_id] = (version, folded)
            while len(self._entries) > self.max_runs:
                self._entries.popitem(last=False)
        return folded

    def __len__(self) -> int:
        return len(self._entries)


VERDICT_S = 15.0


@dataclass
class Verdict:
    """A chain's verification, and the pages of events answered with it (encoded)."""

    version: Version
    at: float  # the clock when the verification began
    status: dict[str, Any]
    pages: OrderedDict[tuple[int, int], bytes] = field(default_factory=OrderedDict)

    def page(self, limit: int, offset: int) -> bytes | None:
        return self.pages.get((limit, offset))

    def keep_page(self, limit: int, offset: int, body: bytes, most: int = 8) -> None:
        self.pages[(limit, offset)] = body
        while len(self.pages) > most:
            self.pages.popitem(last=False)


@dataclass
class Verdicts:
    """Chain verifications kept for at most `max_age_s` under the run's version, with the
    pages of events answered with them.

    The run page asks for its first events with the chain's verification, which reads and
    hashes every stored event of the run (thousands for a large one): the same answer,
    recomputed for every reviewer who opens the page. A verdict kept here answers those
    pages for `max_age_s` while the run does not change; the answer says when it was
    computed (`checked_at`). `GET /v1/runs/{id}/chain` always verifies afresh and keeps
    what it found (the pages kept with the verdict before go with it). What this gives up,
    and only for the page: a stored event altered in place by someone with write access to
    PostgreSQL shows on the page at most `max_age_s` later (the seal and every export
    verify afresh; docs/spec/lineage.md, "How fresh").
    """

    max_age_s: float = VERDICT_S
    max_runs: int = 256
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[str, Verdict] = field(default_factory=OrderedDict)

    def get(self, run_id: str, version: Version) -> Verdict | None:
        entry = self._entries.get(run_id)
        if entry is None or entry.version != version or self.clock() - entry.at > self.max_age_s:
            return None
        return entry

    def put(self, run_id: str, version: Version, status: dict[str, Any], at: float) -> Verdict:
        """`at`: the clock when the verification began (its rows were read after it). A
        verification that began before the one kept for the same version (a slow one that
        ends after a fresh `/chain` read) keeps the newer."""
        kept = self._entries.get(run_id)
        if kept is not None and kept.version == version and kept.at > at:
            return kept
        self._entries.pop(run_id, None)
        entry = self._entries[run_id] = Verdict(version, at, status)
        while len(self._entries) > self.max_runs:
            self._entries.popitem(last=False)
        return entry


class Flights:
    """One computation at a time per key: callers asking for the same thing (the same run
    under the same version) while it is being built wait for that one build, rather than
    each building it again. A live run page reloads its reads on every new event; with 20
    reviewers on a large running run, each miss was built 20 times at once.

    The build runs as a task of its own, so a caller that goes away (a closed connection)
    cancels neither it nor the others' wait; its outcome, answer or error, is every
    waiter's."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(build())
            self._running[key] = running

            def done(_: asyncio.Future[Any], key: Hashable = key, task: Any = running) -> None:
                if self._running.get(key) is task:
                    del self._running[key]

            running.add_done_callback(done)
        result: T = await asyncio.shield(running)
        return result

    def __len__(self) -> int:
        return len(self._running)
