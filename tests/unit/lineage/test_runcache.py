"""Folded runs and chain verdicts kept between requests (pure): a run is answered only under
the version it was loaded at, its digest computed once; a verdict only under its version and
for at most its age, with the pages answered with it; all within their bounds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cognify_lineage import dag, graph
from cognify_lineage.runcache import Flights, RunCache, Verdicts

from .script import Script, hash_results, training


def _run(run_id: str = "run-1", hashed: bool = False) -> Any:
    s = Script("ws-1", run_id)
    events = [*training(s), *(hash_results(s) if hashed else [])]
    return dag.fold_all(events).runs[run_id]


def test_a_run_is_answered_only_under_its_own_version() -> None:
    cache = RunCache()
    run = _run()
    kept = cache.put("run-1", (15, "completed"), run)
    assert cache.get("run-1", (15, "completed")) is kept and kept.run is run
    assert cache.get("run-1", (16, "completed")) is None  # the chain grew
    assert cache.get("run-1", (15, "abandoned")) is None  # the sweep changed its status
    assert cache.get("run-2", (15, "completed")) is None


def test_the_digest_is_the_runs_and_computed_once() -> None:
    cache = RunCache()
    before, after = _run(), _run(hashed=True)
    kept = cache.put("run-1", (15,), before)
    assert kept.digest == graph.digest(before)
    kept.run = after  # what a second computation would see: none happens
    assert kept.digest == graph.digest(before) != graph.digest(after)
    newer = cache.put("run-1", (19,), after)
    assert cache.get("run-1", (15,)) is None
    assert newer.digest == graph.digest(after)
    assert graph.summary(after, newer.digest) == graph.summary(after)


def test_the_least_recently_used_runs_leave_first_within_the_bound() -> None:
    cache = RunCache(max_runs=2)
    run = _run()
    cache.put("a", (1,), run)
    cache.put("b", (1,), run)
    assert cache.get("a", (1,)) is not None  # a is now the most recently used
    cache.put("c", (1,), run)
    assert cache.get("b", (1,)) is None
    assert cache.get("a", (1,)) is not None and cache.get("c", (1,)) is not None
    assert len(cache) == 2
    assert RunCache(max_runs=0).put("a", (1,), run).run is run  # keeps nothing, still answers


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verdict_is_kept_for_its_age_under_its_version_only() -> None:
    clock = Clock()
    verdicts = Verdicts(max_age_s=15, clock=clock)
    status = {"valid": True, "length": 15}
    verdicts.put("run-1", (15,), status, at=clock())
    clock.now += 15
    kept = verdicts.get("run-1", (15,))
    assert kept is not None and kept.status is status
    assert verdicts.get("run-1", (16,)) is None  # a new event: verified again
    assert verdicts.get("run-2", (15,)) is None
    clock.now += 0.001
    assert verdicts.get("run-1", (15,)) is None  # too old: verified again
    # The age counts from when the verification began, not when it was stored.
    verdicts.put("run-1", (15,), status, at=clock() - 14.5)
    clock.now += 0.6
    assert verdicts.get("run-1", (15,)) is None


def test_pages_are_kept_with_their_verdict_and_go_with_it() -> None:
    clock = Clock()
    verdicts = Verdicts(clock=clock)
    first = verdicts.put("run-1", (15,), {"valid": True}, at=clock())
    first.keep_page(200, 0, b"page 1")
    first.keep_page(200, 200, b"page 2")
    kept = verdicts.get("run-1", (15,))
    assert kept is not None and kept.page(200, 0) == b"page 1" and kept.page(100, 0) is None
    # A fresh verification (GET .../chain) replaces the verdict and drops its pages.
    verdicts.put("run-1", (15,), {"valid": False}, at=clock())
    kept = verdicts.get("run-1", (15,))
    assert kept is not None and kept.status == {"valid": False} and kept.page(200, 0) is None
    for n in range(10):  # a bounded number of pages per verdict, the oldest out first
        kept.keep_page(10, n * 10, b"%d" % n)
    assert kept.page(10, 0) is None and kept.page(10, 90) == b"9" and len(kept.pages) == 8


def test_verdicts_are_bounded() -> None:
    clock = Clock()
    verdicts = Verdicts(max_runs=2, clock=clock)
    for run in ("a", "b", "c"):
        verdicts.put(run, (1,), {"run": run}, at=clock())
    assert verdicts.get("a", (1,)) is None
    for run in ("b", "c"):
        kept = verdicts.get(run, (1,))
        assert kept is not None and kept.status == {"run": run}


def test_an_older_verification_does_not_replace_a_newer_one() -> None:
    clock = Clock()
    verdicts = Verdicts(clock=clock)
    fresh = verdicts.put("run-1", (15,), {"valid": False}, at=clock())
    assert verdicts.put("run-1", (15,), {"valid": True}, at=clock() - 1) is fresh
    kept = verdicts.get("run-1", (15,))
    assert kept is not None and kept.status == {"valid": False}
    newer = verdicts.put("run-1", (16,), {"valid": True}, at=clock() - 1)  # another version
    assert verdicts.get("run-1", (16,)) is newer


async def test_callers_asking_at_once_wait_for_one_build() -> None:
    flights = Flights()
    calls: list[str] = []
    gate = asyncio.Event()

    async def build(what: str) -> str:
        calls.append(what)
        await gate.wait()
        return f"built {what}"

    waiting = [asyncio.create_task(flights.run(("run-1", 7), lambda: build("a"))) for _ in range(5)]
    other = asyncio.create_task(flights.run(("run-1", 8), lambda: build("b")))
    await asyncio.sleep(0)
    waiting[0].cancel()  # a caller that goes away stops neither the build nor the others
    gate.set()
    assert [await t for t in waiting[1:]] == ["built a"] * 4
    assert await other == "built b"
    assert sorted(calls) == ["a", "b"] and len(flights) == 0
    # Done: the next caller builds again (what is kept is the caches' business).
    assert await flights.run(("run-1", 7), lambda: build("c")) == "built c"


async def test_a_failed_build_fails_every_waiter_and_is_not_kept() -> None:
    flights = Flights()
    gate = asyncio.Event()

    async def fails() -> str:
        await gate.wait()
        raise LookupError("no such run")

    waiting = [asyncio.create_task(flights.run("k", fails)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    for task in waiting:
        with pytest.raises(LookupError):
            await task

    async def works() -> str:
        return "now"

    assert await flights.run("k", works) == "now"
