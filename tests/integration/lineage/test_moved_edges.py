"""An evaluation's checkpoint edge that moves when its own step's checkpoint arrives later
(docs/spec/lineage.md) moves in PostgreSQL too: the old row is deleted, the tables equal
the fold, in any batch split."""

from __future__ import annotations

from cognify_lineage import dag, projection
from cognify_lineage.postgres import create_pool

from tests.unit.lineage.script import Script
from tests.unit.lineage.test_evaluated_checkpoint import trainer_run

from .harness import fresh_database
from .test_store import fold_through_the_store


async def test_a_moved_eval_edge_is_moved_in_the_tables(unique: str) -> None:
    for batch in (1, 3, 100):  # each in its own database: fold_through_the_store's offsets
        async with fresh_database() as dsn:
            pool = await create_pool(dsn)
            try:
                s = Script(f"ws-{unique}", f"run-{unique}")
                events = trainer_run(s)
                await fold_through_the_store(pool, events, batch=batch)
                async with pool.acquire() as conn:
                    loaded = await projection.load(conn, {s.run_id}, full=True)
                assert loaded == dag.fold_all(events).runs
                rows = await pool.fetch(
                    "SELECT from_id FROM lineage_edges WHERE run_id = $1 AND to_id = $2",
                    s.run_id,
                    "eval_trainer_step_20",
                )
                assert [r["from_id"] for r in rows] == ["ckpt_step_20"]
            finally:
                await pool.close()
