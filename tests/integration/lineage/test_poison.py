"""A poison message on the canonical topic is dead-lettered alone; lineage folds what is
behind it (issue 12: "poison pills stop every tenant")."""

from __future__ import annotations

import json

import asyncpg
import cognify_events as ev
from cognify_events import DeadLetter
from cognify_events.deadletter import letter_id
from cognify_kafka import KafkaSettings, producer
from prometheus_client import REGISTRY

from tests.unit.lineage.script import Script

from .harness import Stack, eventually, stack

# A trigger of the test's own database: the store refuses one event, as it would refuse
# any value it cannot hold. A real server-side failure, raised inside lineage's transaction.
TRIGGER = """
CREATE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_id = '{event_id}' THEN
        RAISE EXCEPTION 'the store refuses event %', NEW.event_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_refuse_one BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION test_refuse_one();
"""


def _with(event: ev.Event, **changes: object) -> bytes:
    """The event's bytes with members replaced, whatever the contract would say of them."""
    doc = json.loads(ev.encode(event))
    for path, value in changes.items():
        target = doc
        *parents, name = path.split("__")
        for parent in parents:
            target = target[parent]
        target[name] = value
    return json.dumps(doc).encode()


def _poisoned() -> float:
    """cognify_lineage_poison_total, all reasons together (lineage runs in this process)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "cognify_lineage_poison"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


async def _stored(s: Stack, run_id: str) -> int:
    return int(await s.pool.fetchval("SELECT count(*) FROM events WHERE run_id = $1", run_id))


async def test_a_poison_event_is_dead_lettered_alone_and_the_runs_behind_it_are_folded(
    kafka: KafkaSettings, unique: str
) -> None:
    ws = f"ws-{unique}"
    a, b = Script(ws, f"run-a-{unique}"), Script(ws, f"run-b-{unique}")
    a_events: list[ev.Event] = [a.started(), *(a.metrics(i, 1.0 / (i + 1)) for i in range(20))]
    b_events: list[ev.Event] = [b.started(), *(b.metrics(i, 2.0 / (i + 1)) for i in range(20))]
    refused = b_events[10]
    # Two events the store cannot hold, whatever the contract admits (if it refuses them,
    # they are dead-lettered as "not an event" instead: either way, alone).
    too_big = _with(Script(ws, f"run-p-{unique}").started(), seq=2**63)
    nul = _with(Script(ws, f"run-n-{unique}").started(), payload__tags={"team": "a\u0000b"})
    messages: list[bytes] = []
    for i in range(21):
        messages += [ev.encode(a_events[i]), ev.encode(b_events[i])]
        if i == 5:
            messages.append(too_big)
        if i == 15:
            messages.append(nul)
    poison_at = {
        messages.index(ev.encode(refused)): "the store refuses event",
        messages.index(too_big): "",
        messages.index(nul): "",
    }
    before = _poisoned()

    async with stack(kafka, ingest=False) as s:
        await s.pool.execute(TRIGGER.format(event_id=refused.event_id))
        prod = producer(kafka)
        await prod.start()
        try:  # one partition, one poll batch: the poison sits in the middle of it
            sent = [await prod.send(s.topics.events, m, partition=0) for m in messages]
            for future in sent:
                await future
        finally:
            await prod.stop()

        async def all_folded() -> bool:
            return await _stored(s, a.run_id) == 21 and await _stored(s, b.run_id) == 20

        await eventually(all_folded, "the valid events of both runs to be stored", 60)
        letters = await eventually(lambda: _letters(s, len(poison_at)), "three dead letters", 30)
        stored = await s.pool.fetchval(
            "SELECT next_offset FROM consumer_offsets WHERE topic = $1 AND partition = 0",
            s.topics.events,
        )
        runs = await s.runs(a.run_id, b.run_id)
        assert await _stored(s, f"run-p-{unique}") == 0
        assert await _stored(s, f"run-n-{unique}") == 0

    # Each poison message alone, with its reason and a letter id of its own position.
    assert sorted(letter.offset or 0 for letter in letters) == sorted(poison_at)
    for letter in letters:
        assert letter.rejected_by == "lineage"
        assert letter.source_topic == s.topics.events and letter.partition == 0
        assert letter.original == messages[letter.offset or 0]
        assert letter.letter_id == letter_id(s.topics.events, 0, letter.offset or 0)
        assert poison_at[letter.offset or 0] in letter.reason and letter.reason
    # The partition moved on past all of them: its stored offset is the end of the topic,
    # so a restarted lineage does not fold or dead-letter any of them again.
    assert stored == len(messages)
    assert runs[a.run_id].status == runs[b.run_id].status == "running"
    assert _poisoned() - before >= 1  # at least the trigger's refusal went through the loop


async def _letters(s: Stack, n: int) -> list[DeadLetter] | None:
    records = await s.read_topic(s.topics.dlq)
    letters = [DeadLetter.model_validate_json(v) for _, v in records]
    return letters if len(letters) >= n else None


async def test_a_database_outage_mid_stream_is_waited_out_and_nothing_is_dead_lettered(
    kafka: KafkaSettings, unique: str
) -> None:
    ws = f"ws-{unique}"
    scripts = [Script(ws, f"run-{i}-{unique}") for i in range(3)]
    events: list[ev.Event] = []
    for s_ in scripts:
        events += [s_.started(), *(s_.metrics(i, 1.0 / (i + 1)) for i in range(400))]
    retried_before = _retries()

    async with stack(kafka, ingest=False) as s:
        admin = await asyncpg.connect(s.dsn)
        try:
            # Hold lineage's transaction at its first statement, then cut its connection:
            # twice, so the retry itself meets the outage too.
            killed = 0
            lock = admin.transaction()
            await lock.start()
            await admin.execute("LOCK TABLE consumer_offsets IN ACCESS EXCLUSIVE MODE")
            await s.send_events(events)
            cut: set[int] = set()

            async def waiting() -> list[int]:
                # Inside the lock's transaction the statistics are a snapshot: clear it.
                await admin.execute("SELECT pg_stat_clear_snapshot()")
                rows = await admin.fetch(
                    """SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                       AND datname = current_database() AND pid <> pg_backend_pid()"""
                )
                return [r["pid"] for r in rows if r["pid"] not in cut]

            for _ in range(2):
                for pid in await eventually(waiting, "lineage's transaction to wait on the lock"):
                    cut.add(pid)
                    killed += int(await admin.fetchval("SELECT pg_terminate_backend($1)", pid))
            await lock.commit()

            async def stored() -> bool:
                n = await admin.fetchval("SELECT count(*) FROM events")
                return bool(n == len(events))

            await eventually(stored, "every event stored after the outages", 90)
            letters = await s.read_topic(s.topics.dlq)
        finally:
            await admin.close()

    assert killed >= 2
    assert letters == []  # an outage is never the data's fault
    assert _retries() > retried_before


def _retries() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "cognify_lineage_transient_retries"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
