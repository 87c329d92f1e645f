"""A run's sequence numbers are claimed once, in PostgreSQL too: a second event claiming a
number (a new event id, other content) is refused in the batch's transaction, never
chained nor folded over the first, and a redelivery of the first stays a duplicate."""

from __future__ import annotations

import uuid
from typing import Any

import cognify_events as ev
from cognify_lineage import queries, sequence
from cognify_lineage.postgres import Pool, rebuild

from tests.unit.lineage.script import hash_results, training

from .test_after_seal import chain_types, fed, load, refused_rows, verified
from .test_store import LOCAL


def rival(first: ev.MetricsLogged, loss: float) -> ev.MetricsLogged:
    payload = first.payload.model_copy(update={"metrics": {**first.payload.metrics, "loss": loss}})
    return first.model_copy(update={"event_id": uuid.uuid4(), "payload": payload})


async def test_a_second_claim_of_a_seq_is_refused_and_the_first_stands(unique: str) -> None:
    async with fed(unique) as (pool, s, feed):
        await feed.send([*training(s), *hash_results(s)])
        first = s.metrics(1, 1.5)
        await feed.send([first])
        before = await verified(pool, s.run_id)

        second = rival(first, 77.0)
        applied = await feed.send([second])
        assert (applied.stored, applied.duplicates) == (0, 0)
        assert [(r.event.event_id, r.reason) for r in applied.refused] == [
            (second.event_id, sequence.conflict_reason(second))
        ]
        run = await load(pool, s.run_id)
        assert run.metrics[("loss", 1)].value == 1.5
        assert await verified(pool, s.run_id) == before  # not chained
        (row,) = await refused_rows(pool, s.run_id)
        assert (row["event_id"], row["seq"], row["body"]) == (
            second.event_id,
            first.seq,
            ev.encode(second),
        )

        # The same event again is a duplicate; the refused one again is no second refusal.
        again = await feed.send([first, second])
        assert (again.stored, again.duplicates, again.refused) == (0, 2, [])
        assert len(await refused_rows(pool, s.run_id)) == 1

        (finding,) = [
            f for f in await queries.run_findings(pool, run) if f["kind"] == "sequence-conflict"
        ]
        assert finding["id"] == f"sequence-conflict:{second.event_id}"
        assert finding["detail"]["reason"] == sequence.conflict_reason(second)
        assert finding["resolved_at"] is None

        # Rebuilt from the store, the projection is the same: the refused claim is not there.
        tables = await _tables(pool)
        await rebuild(pool)
        assert await _tables(pool) == tables


async def test_a_conflict_in_the_batch_of_a_seal_is_not_part_of_the_sealed_chain(
    unique: str,
) -> None:
    async with fed(unique) as (pool, s, feed):
        await feed.send([*training(s), *hash_results(s)])
        head = await verified(pool, s.run_id)
        first = training(type(s)(s.workspace, s.run_id))[6]  # metrics(10, 1.5), as stored
        assert isinstance(first, ev.MetricsLogged)
        second = rival(first, 77.0)
        seal = s.sealed(head.head, head.length)
        applied = await feed.send([second, seal])
        assert [r.event.event_id for r in applied.refused] == [second.event_id]
        assert applied.stored == 1
        assert (await load(pool, s.run_id)).status == "AUDIT_SEALED"
        assert (await chain_types(pool, s.run_id))[-1] == "run.sealed"


async def _tables(pool: Pool) -> dict[str, list[Any]]:
    out = {}
    for table in ("runs", "metric_points", "findings", "lineage_nodes"):
        rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
        out[table] = [
            {k: v for k, v in dict(r).items() if k not in ("updated_at", *LOCAL)} for r in rows
        ]
    return out
