"""Every refused event lands in the dead-letter topic with its reason; nothing else changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cognify_events as ev
from cognify_kafka import KafkaSettings
from cognify_lineage import chain
from cognify_lineage.model import Run
from cognify_lineage.postgres import chain_rows

from tests.integration.lineage.harness import Stack, eventually, make_workspace, signed, stack
from tests.unit.lineage.script import Script


async def _snapshot(s: Stack, *run_ids: str) -> tuple[dict[str, Run], int]:
    runs = await s.runs(*run_ids)
    stored: int = await s.pool.fetchval(
        "SELECT count(*) FROM events WHERE run_id = ANY($1)", list(run_ids)
    )
    return runs, stored


async def test_refused_events_land_in_the_dead_letter_topic_and_change_nothing(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka, state_ttl_s=0.0) as s:
        a, b = f"ws-a{unique}", f"ws-b{unique}"
        keys_a, keys_b = await make_workspace(s.dsn, a), await make_workspace(s.dsn, b)
        live, sealed = Script(a, f"run-live-{unique}"), Script(a, f"run-sealed-{unique}")
        await s.send_raw(
            [signed(live.started(), keys_a.writer), signed(sealed.started(), keys_a.writer)]
        )
        await eventually(lambda: s.run_status(live.run_id), "the live run")
        await eventually(lambda: s.run_status(sealed.run_id), "the run to be sealed")
        # The exporter seals a run by publishing run.sealed, naming the run's chain head, to
        # the canonical topic (lineage refuses a seal that does not name the head).
        links, head = await chain_rows(s.pool, sealed.run_id)
        verified = chain.verify(sealed.run_id, links, head)
        await s.send_events([sealed.sealed(verified.head, verified.length)])
        await eventually(
            lambda: s.pool.fetchval("SELECT sealed_at FROM runs WHERE run_id = $1", sealed.run_id),
            "the seal in the projection",
        )
        before = await _snapshot(s, live.run_id, sealed.run_id)

        forged = signed(live.heartbeat(1), "cgk_000000000000_" + "A" * 43)
        intruder = signed(
            Script(b, live.run_id).heartbeat(1), keys_b.writer
        )  # B writes into A's run
        malformed = (live.run_id.encode(), b'{"type": "run.heartbeat", "payload": ')
        unknown = (
            live.run_id.encode(),
            json.dumps({"type": "run.teleported", "workspace_id": a}).encode(),
        )
        after_seal = signed(sealed.heartbeat(2), keys_a.writer)
        by_reviewer = signed(live.heartbeat(3), keys_a.reviewer)
        refused = [forged, intruder, malformed, unknown, after_seal, by_reviewer]
        await s.send_raw(refused)

        async def letters() -> list[ev.DeadLetter] | None:
            found = [
                ev.DeadLetter.model_validate_json(v) for _, v in await s.read_topic(s.topics.dlq)
            ]
            return found if len(found) >= len(refused) else None

        dead = {letter.original: letter for letter in await eventually(letters, "six dead letters")}
        reasons = {value: dead[value].reason for _, value in refused}
        assert reasons[forged[1]].startswith("signature: does not verify")
        assert reasons[intruder[1]] == f"run_id: run {live.run_id!r} belongs to another workspace"
        assert reasons[malformed[1]].startswith("event: not valid UTF-8 JSON")
        assert reasons[unknown[1]] == "type: unknown event type 'run.teleported'"
        assert "is sealed (AUDIT_SEALED)" in reasons[after_seal[1]]
        assert reasons[by_reviewer[1]].startswith("type: a reviewer key may not write")
        letter = dead[forged[1]]
        assert letter.source_topic == s.topics.raw and letter.offset is not None
        assert letter.rejected_at <= datetime.now(UTC)

        # A good event after the refused ones, on the same partition: once it is folded,
        # everything before it has been through ingest, and none of it reached lineage.
        await s.send_raw([signed(live.heartbeat(4), keys_a.writer)])

        async def beat() -> bool:
            run = (await s.runs(live.run_id, full=False))[live.run_id]
            return run.info.get("step") == 4

        await eventually(beat, "the good heartbeat")
        after = await _snapshot(s, live.run_id, sealed.run_id)
        assert after[1] == before[1] + 1  # the good heartbeat only
        runs_before, runs_after = before[0], after[0]
        assert isinstance(runs_before, dict) and isinstance(runs_after, dict)
        assert runs_after[sealed.run_id] == runs_before[sealed.run_id]
        # The refused events of the live run (seq 1 and 2) are a visible gap, not a silence.
        assert runs_after[live.run_id].seq_high == 3
        assert runs_after[live.run_id].gaps == ((1, 2),)
