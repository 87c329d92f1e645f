"""The exporter reads a run's chain while lineage appends to it: what it verifies must be
one moment of the store. Read as two queries (the events, then the recorded head), a head
committed in between is newer than the events read, and an intact chain was reported
"broken ... the recorded head does not match the end of the chain (events removed)": the
seal was refused in silence for a chain that was fine (issue 12)."""

from __future__ import annotations

import asyncio

from cognify_exporter import postgres

from tests.integration.lineage.test_after_seal import fed
from tests.unit.lineage.script import training


async def test_a_chain_read_while_lineage_appends_is_always_intact(unique: str) -> None:
    async with fed(unique) as (pool, s, feed):
        await feed.send(list(training(s)))
        await feed.send([s.metrics(1_000 + i, 0.5) for i in range(300)])
        appending = True
        broken: list[str] = []
        reads = 0

        async def append() -> None:
            nonlocal appending
            try:
                for step in range(2_000, 2_150):
                    await feed.send([s.metrics(step, 0.25)])
            finally:
                appending = False

        async def verify() -> None:
            nonlocal reads
            while appending:
                found = await postgres.verified_chain(pool, s.run_id)
                reads += 1
                if not found.valid:
                    broken.append(found.describe())

        await asyncio.gather(append(), verify())
        assert reads > 10, "the chain was read too few times to race the appends"
        assert broken == [], f"{len(broken)} of {reads} reads reported a broken chain: {broken[0]}"
        final = await postgres.verified_chain(pool, s.run_id)
        assert final.valid and final.length == len(training(s)) + 300 + 150
