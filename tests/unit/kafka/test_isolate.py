"""Bisecting a batch down to the message that fails alone, with a fake process function."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from cognify_kafka.isolate import isolate


class Fake:
    """Processes a batch all or nothing, like one transaction; fails on any poison item."""

    def __init__(self, poison: set[int], conflict: tuple[int, int] | None = None) -> None:
        self.poison = poison
        self.conflict = conflict
        self.processed: list[int] = []
        self.isolated: list[tuple[int, str]] = []
        self.attempts = 0

    async def attempt(self, items: Sequence[int]) -> None:
        self.attempts += 1
        bad = self.poison.intersection(items)
        if bad:
            raise OverflowError(f"item {min(bad)} does not fit")
        if self.conflict and set(self.conflict) <= set(items):
            raise ValueError("these two conflict only together")
        self.processed.extend(items)

    async def poison_item(self, item: int, exc: Exception) -> None:
        self.isolated.append((item, f"{type(exc).__name__}: {exc}"))


def run(fake: Fake, items: list[int]) -> int:
    return asyncio.run(isolate(items, fake.attempt, fake.poison_item))


def test_a_poison_message_in_the_middle_goes_alone_and_the_rest_is_processed_in_order() -> None:
    fake = Fake(poison={37})
    assert run(fake, list(range(100))) == 1
    assert fake.isolated == [(37, "OverflowError: item 37 does not fit")]
    assert fake.processed == [i for i in range(100) if i != 37]  # offset order kept
    assert fake.attempts <= 2 * 7 + 1  # about 2·log2(n)


def test_several_poison_messages_each_go_alone() -> None:
    fake = Fake(poison={0, 50, 51, 99})
    assert run(fake, list(range(100))) == 4
    assert [i for i, _ in fake.isolated] == [0, 50, 51, 99]
    assert fake.processed == [i for i in range(100) if i not in {0, 50, 51, 99}]


def test_a_clean_batch_is_one_attempt() -> None:
    fake = Fake(poison=set())
    assert run(fake, list(range(500))) == 0
    assert fake.attempts == 1 and fake.processed == list(range(500))


def test_a_batch_that_fails_only_as_a_whole_is_processed_in_parts_and_nothing_is_poison() -> None:
    fake = Fake(poison=set(), conflict=(3, 12))
    assert run(fake, list(range(16))) == 0
    assert fake.processed == list(range(16)) and fake.isolated == []


def test_a_passthrough_exception_ends_the_batch_without_isolating() -> None:
    class Stop(Exception):
        pass

    async def attempt(items: Sequence[int]) -> None:
        raise Stop

    async def poison(item: int, exc: Exception) -> None:
        raise AssertionError("nothing may be dead-lettered while stopping")

    with pytest.raises(Stop):
        asyncio.run(isolate([1, 2, 3], attempt, poison, (Stop,)))
