"""Finding the one message a batch fails on, by splitting the batch (no I/O of its own).

A batch is processed whole, because one transaction or one produce request per poll is what
makes the services fast. When it fails deterministically, `isolate` splits it in two halves
and processes the first, then the second, halving again whichever fails, until a single
message fails alone: that one is handed to `poison` (the consume loop dead-letters it) and
every other message is processed. Order is kept: each part is processed after everything
before it, so a partition's messages are still applied in offset order. A batch with one
poison message of n costs about 2·log2(n) extra attempts; a batch that only fails as a
whole (two messages that conflict) is processed in parts and nothing is poison.

`attempt` must retry transient failures itself (the loop's does, for as long as they last):
whatever it raises is taken as the data's fault, except the `passthrough` exceptions (the
loop stopping, a handler that moved the consumer's positions), which end the batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

__all__ = ["isolate"]

T = TypeVar("T")


async def isolate(
    items: Sequence[T],
    attempt: Callable[[Sequence[T]], Awaitable[None]],
    poison: Callable[[T, Exception], Awaitable[None]],
    passthrough: tuple[type[BaseException], ...] = (),
) -> int:
    """Process `items` in order, isolating the ones that fail alone; returns how many did."""
    if not items:
        return 0
    try:
        await attempt(items)
        return 0
    except passthrough:
        raise
    except Exception as exc:  # noqa: BLE001 (the data's fault: see the module docstring)
        if len(items) == 1:
            await poison(items[0], exc)
            return 1
    middle = len(items) // 2
    first = await isolate(items[:middle], attempt, poison, passthrough)
    return first + await isolate(items[middle:], attempt, poison, passthrough)
