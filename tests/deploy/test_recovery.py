"""Disaster recovery, PostgreSQL lost (docs/operations.md): lineage started on an empty
database refolds the canonical topic from Kafka, and the projection and the hash chain
heads equal those of the database that was lost, and match the heads anchored in Object
Lock storage before the loss (docs/spec/anchors.md).
"""

from __future__ import annotations

import asyncio
import json
import uuid

from cognify_kafka import KafkaSettings
from cognify_lineage import anchors, projection
from cognify_lineage.anchoring import Anchorer, check
from cognify_lineage.app import anchor_segments, anchor_signer
from cognify_lineage.app import serve as serve_lineage
from cognify_lineage.postgres import Pool, chain_rows, create_pool, sweep
from cognify_lineage.settings import LineageSettings

from tests.integration.lineage.harness import (
    as_role,
    eventually,
    free_port,
    fresh_database,
    stack,
)
from tests.integration.lineage.test_store import dump, history

ABANDON_AFTER = LineageSettings().abandon_after


async def _stored(pool: Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def _heads(pool: Pool) -> list[str]:
    rows = await pool.fetch("SELECT * FROM chain_heads")
    return sorted(json.dumps(dict(r), sort_keys=True, default=str) for r in rows)


async def test_a_lost_database_is_refolded_from_kafka_into_the_same_projection() -> None:
    kafka = KafkaSettings()
    events = history(f"ws-dr-{uuid.uuid4().hex[:8]}")
    async with stack(kafka, ingest=False) as before:
        await before.send_events(events)
        await eventually(lambda: _count_is(before.pool, len(events)), "lineage to store it all")
        # The periodic sweep (abandoned runs) is part of the projection: run it on both.
        await sweep(before.pool, ABANDON_AFTER)
        lost_projection, lost_heads = await dump(before.pool), await _heads(before.pool)
        assert lost_heads, "the runs have chain heads to compare"
        assert all(lost_projection[t] for t in projection.TABLES), "every table has rows"
        # What lineage anchors outside the database, as its anchor loop would (same prefix
        # and key as the stack's lineage): every chain, before the loss.
        anchoring = LineageSettings(
            kafka=kafka, anchor_prefix=f"test-anchors/{before.prefix}", anchor_retain_days=1
        )
        segments = anchor_segments(anchoring)
        await Anchorer(before.pool, segments, anchor_signer(anchoring), 60).round()
        chains = [
            r["chain_id"] for r in await before.pool.fetch("SELECT chain_id FROM chain_heads")
        ]

        # The database is gone: a new, empty one, and lineage (a new group: the old group's
        # positions lived in the lost database) folds the canonical topic from its start.
        async with fresh_database() as dsn:
            pool = await create_pool(dsn)
            stop = asyncio.Event()
            settings = LineageSettings(
                kafka=kafka,
                postgres=as_role(dsn, "lineage"),
                events_topic=before.topics.events,
                dlq_topic=before.topics.dlq,
                group_id=f"recovery-{uuid.uuid4().hex[:8]}",
                http_port=free_port(),
                migrate=False,
                # the rebuilt lineage continues the same anchors (and never writes ten-year
                # objects under the stack's own prefix)
                anchor_prefix=anchoring.anchor_prefix,
                anchor_retain_days=1,
            )
            task = asyncio.create_task(serve_lineage(settings, stop))
            try:
                await eventually(lambda: _count_is(pool, len(events)), "the refold", 120)
                await sweep(pool, ABANDON_AFTER)
                assert await _heads(pool) == lost_heads
                refolded = await dump(pool)
                assert _order_free(refolded) == _order_free(lost_projection)
                assert _cross_run(refolded) == _cross_run(lost_projection)
                # The rebuilt chains are the anchored ones, event for event.
                for chain_id in chains:
                    links, _ = await chain_rows(pool, chain_id)
                    hashes = anchors.recompute(link.body for link in links)
                    verdict = await check(pool, segments, chain_id, hashes)
                    assert verdict.check.valid and verdict.check.segments, verdict.describe()
            finally:
                stop.set()
                await task
                await pool.close()


def _order_free(dumped: dict[str, list[str]]) -> dict[str, list[str]]:
    """The projection without what depends on the order in which lineage folded different
    runs: a refold reads the canonical topic's partitions in another interleaving than the
    live fold did, so when two runs register one dataset (name and source) with different
    roots, which of them carries the dataset-changed finding, and which root is the latest
    known, can differ (docs/operations.md, "Disaster recovery"). Everything else must be
    equal, row for row."""
    out = {t: rows for t, rows in dumped.items() if t != "dataset_roots"}
    out["findings"] = [r for r in dumped["findings"] if json.loads(r)["kind"] != "dataset-changed"]
    return out


def _cross_run(dumped: dict[str, list[str]]) -> tuple[object, ...]:
    """What a refold keeps of the cross-run dataset comparison whatever the order: the same
    datasets known, and each change found once, between the same two roots."""
    known = sorted(
        (d["workspace_id"], d["name"], d["source"])
        for d in map(json.loads, dumped["dataset_roots"])
    )
    changes = sorted(
        (
            f["detail"]["name"],
            f["detail"]["source_uri"],
            *sorted((f["detail"]["previous_root"], f["detail"]["new_root"])),
        )
        for f in map(json.loads, dumped["findings"])
        if f["kind"] == "dataset-changed"
    )
    return tuple(known), tuple(changes)


async def _count_is(pool: Pool, n: int) -> bool:
    return await _stored(pool) == n
