"""The run page's reads of one run are answered from the run loaded once per version
(runcache.RunCache) and the chain's verification kept a few seconds (runcache.Verdicts),
against the real services: never stale across a change of the run, never another
workspace's, and an event altered in place is named by `GET .../chain` at once and by the
events page from then on."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from cognify_kafka import KafkaSettings
from cognify_lineage import metrics

from tests.unit.lineage.script import Script, hash_results, training

from .harness import Keys, Stack, eventually, http, make_workspace, signed, stack


async def trained(s: Stack, unique: str) -> tuple[Keys, Script, str]:
    """A workspace whose writer sent a complete training run: its keys, the run, and the
    run's read API address."""
    ws = f"ws-{unique}"
    keys = await make_workspace(s.dsn, ws)
    script = Script(ws, f"run-{unique}")
    await s.send_raw([signed(e, keys.writer) for e in training(script)])
    return keys, script, f"{s.lineage_url}/v1/runs/{script.run_id}"


def _run_hits() -> float:
    return float(metrics.RUN_CACHE.labels("hit")._value.get())


async def test_a_kept_run_answers_until_the_run_changes(kafka: KafkaSettings, unique: str) -> None:
    async with stack(kafka) as s:
        keys, script, base = await trained(s, unique)

        async def ended() -> Any:
            status, summary = await http("GET", base, keys.reviewer)
            return summary if status == 200 and summary["status"] == "completed" else None

        first = await eventually(ended, "the run folded")
        hits = _run_hits()
        for path in ("", "/approvals", "/findings", "/lineage"):
            status, _ = await http("GET", base + path, keys.reviewer)
            assert status == 200, path
        # The summary, approvals and findings came from the kept run, and the graph, built
        # for this version for the first time, was built from it.
        assert _run_hits() == hits + 4
        _, again = await http("GET", base, keys.reviewer)
        assert again == first
        _, approvals = await http("GET", base + "/approvals", keys.reviewer)
        assert approvals["lineage_digest"] == first["lineage_digest"]

        await s.send_events(hash_results(script)[1:2])  # ckpt_step_100 hashed: a new graph

        async def changed() -> Any:
            _, summary = await http("GET", base, keys.reviewer)
            return summary if summary["lineage_digest"] != first["lineage_digest"] else None

        summary = await eventually(changed, "the hash result in the summary's digest")
        _, approvals = await http("GET", base + "/approvals", keys.reviewer)
        assert approvals["lineage_digest"] == summary["lineage_digest"]
        _, graph = await http("GET", base + "/lineage", keys.reviewer)
        node = next(n for n in graph["nodes"] if n["id"] == "ckpt_step_100")
        assert node["hash_status"] == "computed"

        # Kept or not, another workspace's key and no key get their refusals.
        other = (await make_workspace(s.dsn, f"ws-o{unique}")).reviewer
        for path in ("", "/approvals", "/findings", "/events"):
            assert (await http("GET", base + path, other))[0] == 404, path
            assert (await http("GET", base + path, None))[0] == 401, path


async def test_an_event_altered_in_place_is_named_by_chain_and_then_by_the_page(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        keys, script, base = await trained(s, unique)
        events = f"{base}/events?limit=5"

        seen: list[int] = []

        async def settled() -> Any:
            # The run's own events and the hash requests ingest adds to its chain: stored
            # when two reads a second apart find the same number.
            status, page = await http("GET", events, keys.reviewer)
            if status != 200:
                return None
            seen.append(page["total"])
            if len(seen) > 1 and seen[-2] == seen[-1] >= len(training(script)):
                return page
            await asyncio.sleep(1)
            return None

        page = await eventually(settled, "the run stored")
        verified = page["chain"]
        assert verified["valid"] and verified["checked_at"]
        assert [e["index"] for e in page["events"]] == [0, 1, 2, 3, 4]

        # The owner of the database alters a stored event, hashes untouched.
        owner = await asyncpg.connect(s.dsn)
        try:
            async with owner.transaction():
                await owner.execute("ALTER TABLE events DISABLE TRIGGER events_insert_only")
                # A space after the JSON: the same event to a parser, other bytes to a hash.
                await owner.execute(
                    """UPDATE events SET body = body || '\x20'::bytea
                       WHERE chain_id = $1 AND chain_index = 3""",
                    script.run_id,
                )
                await owner.execute("ALTER TABLE events ENABLE TRIGGER events_insert_only")
        finally:
            await owner.close()

        # The page keeps the verdict it had (for at most 15 s, and says when it was made);
        # its rows are read afresh.
        _, kept = await http("GET", events, keys.reviewer)
        assert kept["chain"] == verified
        assert kept["events"] == page["events"]

        # GET .../chain verifies afresh, names the event, and the page says so from then on.
        status, fresh = await http("GET", f"{base}/chain", keys.reviewer)
        assert status == 200 and not fresh["chain"]["valid"]
        assert fresh["chain"]["broken_index"] == 3 and "altered" in fresh["chain"]["reason"]
        assert fresh["chain"]["checked_at"] >= verified["checked_at"]
        _, after = await http("GET", events, keys.reviewer)
        assert after["chain"] == fresh["chain"]
        assert after["total"] == page["total"]
