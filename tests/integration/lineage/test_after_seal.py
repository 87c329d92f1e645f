"""A sealed run is read-only in lineage too: an event that reaches the canonical topic after
the run's `run.sealed` (ingest decides from a cache, so one can slip through) is neither
chained nor folded; it is refused, once, in the transaction of the batch's offsets."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import cognify_events as ev
from cognify_kafka import KafkaSettings
from cognify_lineage import chain, dag, projection, sealing
from cognify_lineage.model import Run
from cognify_lineage.postgres import (
    Applied,
    Decoded,
    Message,
    Pool,
    apply_batch,
    chain_rows,
    create_pool,
    decode,
)

from tests.unit.lineage.script import EXPORTER, Script, hash_results, root, training

from .harness import (
    eventually,
    fresh_database,
    http,
    make_workspace,
    metrics_text,
    signed,
    stack,
)

TOPIC = "cognify.events"
ACCESS = ev.Producer(kind=ev.ProducerKind.API, id="lineage-1")


class Feed:
    """One partition of the canonical topic, applied batch by batch as the worker does."""

    def __init__(self, pool: Pool) -> None:
        self.pool, self.next = pool, 0

    def items(self, events: list[Any]) -> list[tuple[Message, Decoded | None]]:
        bodies = [ev.encode(e) for e in events]
        out: list[tuple[Message, Decoded | None]] = [
            (Message(TOPIC, 0, self.next + i, b), decode(b)) for i, b in enumerate(bodies)
        ]
        self.next += len(bodies)
        return out

    async def apply(self, items: list[tuple[Message, Decoded | None]]) -> Applied:
        return await apply_batch(self.pool, "lineage", TOPIC, {0: items})

    async def send(self, events: list[Any]) -> Applied:
        return await self.apply(self.items(events))


@contextlib.asynccontextmanager
async def fed(unique: str) -> AsyncIterator[tuple[Pool, Script, Feed]]:
    """A database of the test's own, its pool, a run's script and a feed of its partition."""
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            yield pool, Script(f"ws-{unique}", f"run-{unique}"), Feed(pool)
        finally:
            await pool.close()


def export(s: Script) -> ev.ExportCompleted:
    return ev.ExportCompleted(
        **s.env(EXPORTER, numbered=False),
        payload=ev.ExportCompletedPayload(
            format=ev.ExportFormat.JSON,
            template=ev.ExportTemplate.DEFAULT,
            bucket="cognify-audit",
            object_key=f"ws/{s.run_id}.audit.json",
            package_hash=root(42),
            size=1234,
        ),
    )


def read(s: Script) -> ev.AccessRecorded:
    return ev.AccessRecorded(
        workspace_id=s.workspace,
        project="workspace",
        run_id=None,
        producer=ACCESS,
        payload=ev.AccessRecordedPayload(
            actor="auditor", role="reviewer", action="run.read", object_id=f"run:{s.run_id}"
        ),
    )


async def verified(pool: Pool, chain_id: str) -> chain.Verification:
    links, head = await chain_rows(pool, chain_id)
    return chain.verify(chain_id, links, head)


async def chain_types(pool: Pool, chain_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT type FROM events WHERE chain_id = $1 ORDER BY chain_index", chain_id
    )
    return [r["type"] for r in rows]


async def load(pool: Pool, run_id: str) -> Run:
    async with pool.acquire() as conn:
        return (await projection.load(conn, [run_id], full=True))[run_id]


async def refused_rows(pool: Pool, run_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT * FROM refused_events WHERE run_id = $1 ORDER BY position", run_id
    )
    return [dict(r) for r in rows]


async def sealed_run(feed: Feed, s: Script) -> list[Any]:
    """A trained, hashed run, then its seal with the chain head and length as the exporter
    reads them: the events stored, in order."""
    events: list[Any] = [*training(s), *hash_results(s)]
    await feed.send(events)
    head = await verified(feed.pool, s.run_id)
    seal = s.sealed(head.head, head.length)
    applied = await feed.send([seal])
    assert applied.stored == 1 and applied.refused == []
    return [*events, seal]


async def test_an_event_after_the_seal_in_a_later_batch_is_refused_once(unique: str) -> None:
    async with fed(unique) as (pool, s, feed):
        stored = await sealed_run(feed, s)
        before_chain = await verified(pool, s.run_id)
        before_run = await load(pool, s.run_id)
        assert before_run.status == "AUDIT_SEALED"

        late: list[Any] = [s.metrics(300, 0.01), s.ended(ev.RunStatus.FAILED)]
        batch = feed.items(late)
        applied = await feed.apply(batch)
        assert (applied.stored, applied.duplicates) == (0, 0)
        assert [r.event.event_id for r in applied.refused] == [e.event_id for e in late]

        after_chain = await verified(pool, s.run_id)
        assert after_chain.valid, after_chain.describe()
        assert (after_chain.length, after_chain.head) == (
            before_chain.length,
            before_chain.head,
        )
        after_run = await load(pool, s.run_id)
        assert after_run == before_run
        assert after_run.status == "AUDIT_SEALED" and ("loss", 300) not in after_run.metrics
        assert after_run == dag.fold_all([*stored, *late]).runs[s.run_id]

        rows = await refused_rows(pool, s.run_id)
        assert [(r["event_id"], r["type"]) for r in rows] == [(e.event_id, e.type) for e in late]
        first = rows[0]
        assert bytes(first["body"]) == batch[0][0].value
        assert (first["source_topic"], first["source_partition"], first["source_offset"]) == (
            TOPIC,
            0,
            batch[0][0].offset,
        )
        assert (first["workspace_id"], first["producer"], first["seq"]) == (
            s.workspace,
            "sdk",
            late[0].seq,
        )
        assert first["reason"] == (
            f"run_id: run {s.run_id!r} is sealed (AUDIT_SEALED); "
            "a metrics.logged event may not be added after the seal"
        )

        # Replayed (a crash after the commit, a rebalance): below the stored offset.
        replay = await feed.apply(batch)
        assert replay.replayed == 2 and replay.refused == [] and replay.stored == 0
        # Forwarded again at new offsets: refused before, not recorded twice.
        again = await feed.send(late)
        assert again.refused == [] and again.duplicates == 2
        # A redelivery of events stored before the seal (the seal included) is a
        # duplicate, never a refusal.
        redelivered = await feed.send([stored[6], stored[-1]])
        assert redelivered.refused == [] and redelivered.duplicates == 2
        assert len(await refused_rows(pool, s.run_id)) == 2
        assert await verified(pool, s.run_id) == after_chain
        assert await load(pool, s.run_id) == before_run


async def test_a_seal_and_a_late_event_in_the_same_batch(unique: str) -> None:
    """The batch's own run.sealed closes the run for the events after it; services' facts
    about the sealed run (export.completed) and workspace reads are still stored."""
    async with fed(unique) as (pool, s, feed):
        events: list[Any] = [*training(s), *hash_results(s)]
        await feed.send(events)
        head = await verified(pool, s.run_id)
        before = s.metrics(250, 0.2)  # before the seal in the partition: stored
        # ... and covered by the seal, which names the chain head just before it.
        seal = s.sealed(chain.link(head.head, ev.encode(before)), head.length + 1)
        late: list[Any] = [s.metrics(300, 0.01), s.ended(ev.RunStatus.FAILED)]
        packaged, looked = export(s), read(s)
        batch = feed.items([before, seal, late[0], packaged, looked, late[1]])
        applied = await feed.apply(batch)
        assert applied.stored == 4 and applied.duplicates == 0
        assert [r.event.event_id for r in applied.refused] == [e.event_id for e in late]

        verdict = await verified(pool, s.run_id)
        assert verdict.valid, verdict.describe()
        assert verdict.length == head.length + 3
        types = await chain_types(pool, s.run_id)
        assert types[head.length :] == ["metrics.logged", "run.sealed", "export.completed"]
        workspace = f"workspace:{s.workspace}"
        assert (await verified(pool, workspace)).length == 1
        assert await pool.fetchval(
            "SELECT count(*) FROM access_log WHERE event_id = $1", looked.event_id
        )

        run = await load(pool, s.run_id)
        assert run.status == "AUDIT_SEALED" and run.info["end"]["status"] == "completed"
        assert ("loss", 250) in run.metrics and ("loss", 300) not in run.metrics
        assert len(run.info["exports"]) == 1
        expected = dag.fold_all([*events, before, seal, *late, packaged, looked])
        assert run == expected.runs[s.run_id]

        rows = await refused_rows(pool, s.run_id)
        assert [r["source_offset"] for r in rows] == [batch[2][0].offset, batch[5][0].offset]
        assert (await feed.apply(batch)).replayed == len(batch)
        assert len(await refused_rows(pool, s.run_id)) == 2
        assert await verified(pool, s.run_id) == verdict


async def test_an_event_that_slips_past_ingest_after_the_seal_is_refused_and_shown(
    kafka: KafkaSettings, unique: str
) -> None:
    """The race for real: ingest trusts "not sealed" from its cache (a long TTL here), so a
    late SDK event reaches the canonical topic after run.sealed. Lineage's worker refuses
    it, dead-letters it, counts it and shows it as a finding of the run."""
    async with stack(kafka, state_ttl_s=60.0) as s:
        keys = await make_workspace(s.dsn, f"ws-{unique}")
        script = Script(f"ws-{unique}", f"run-{unique}")
        await s.send_raw([signed(e, keys.writer) for e in training(script)])

        async def folded() -> chain.Verification | None:
            found = await verified(s.pool, script.run_id)
            return found if found.length == 15 + 4 else None  # SDK events, ingest's hash jobs

        head = await eventually(folded, "the run and its hash jobs stored")
        await s.send_events([script.sealed(head.head, head.length)])
        await eventually(lambda: _status_is(s.run_status(script.run_id), "AUDIT_SEALED"), "seal")
        sealed = await load(s.pool, script.run_id)

        late = script.metrics(300, 0.01)
        await s.send_raw([signed(late, keys.writer)])  # ingest still believes it unsealed
        await s.send_events([export(script)])

        async def letters() -> list[ev.DeadLetter] | None:
            found = [
                ev.DeadLetter.model_validate_json(v) for _, v in await s.read_topic(s.topics.dlq)
            ]
            mine = [d for d in found if d.rejected_by == "lineage"]
            return mine or None

        (letter,) = await eventually(letters, "lineage's dead letter for the late event")
        assert json.loads(letter.original)["event_id"] == str(late.event_id)
        assert letter.source_topic == s.topics.events and letter.offset is not None
        assert "is sealed (AUDIT_SEALED)" in letter.reason

        async def exported() -> bool:
            run = await load(s.pool, script.run_id)
            return len(run.info.get("exports", [])) == 1

        await eventually(exported, "the export after the seal folded")
        verdict = await verified(s.pool, script.run_id)
        assert verdict.valid and verdict.length == head.length + 2  # the seal, the export
        run = await load(s.pool, script.run_id)
        assert run.metrics == sealed.metrics and run.status == "AUDIT_SEALED"

        for path in ("/findings", ""):
            status, body = await http(
                "GET", f"{s.lineage_url}/v1/runs/{script.run_id}{path}", keys.reviewer
            )
            assert status == 200, body
            (finding,) = [f for f in body["findings"] if f["kind"] == "event-after-seal"]
            assert finding["id"] == f"event-after-seal:{late.event_id}"
            assert finding["detail"]["type"] == "metrics.logged"
            assert finding["detail"]["producer"] == "sdk"
            assert finding["detail"]["offset"] == letter.offset
            assert finding["detail"]["body_sha256"].startswith("sha256:")
            assert "may not be added after the seal" in finding["detail"]["reason"]

        text = await metrics_text(f"{s.lineage_url}/metrics")
        assert (
            'cognify_lineage_refused_after_seal_total{type="metrics.logged",why="after-seal"}'
            in text
        )


async def _status_is(probe: Any, wanted: str) -> bool:
    return bool(await probe == wanted)


REVIEWER = ev.Producer(kind=ev.ProducerKind.API, id="ingest-1")


def note(s: Script, text: str) -> ev.AnnotationAdded:
    return ev.AnnotationAdded(
        **s.env(REVIEWER, numbered=False),
        payload=ev.AnnotationAddedPayload(
            annotation_id=f"note-{text}",
            node_id=s.run_id,
            author=ev.Reviewer(name="Dana Reyes", role="compliance-officer"),
            text=text,
        ),
    )


def stale_reason(seal: ev.RunSealed, length: int, head: str) -> str:
    return (
        f"run.sealed names chain head {seal.payload.chain_head} ({seal.payload.event_count} "
        f"events) but the run's chain has {length} events ending in {head}: the seal is stale"
    )


async def test_a_stale_seal_is_refused_and_the_run_stays_open(unique: str) -> None:
    """The exporter read the chain, then a reviewer's annotation was stored, then its seal
    arrived: the seal does not name the chain it follows. Refused and recorded; the run is
    not sealed, so what follows is stored; a seal of the real head is accepted."""
    async with fed(unique) as (pool, s, feed):
        events: list[Any] = [*training(s), *hash_results(s)]
        await feed.send(events)
        read_by_exporter = await verified(pool, s.run_id)
        first = note(s, "first")
        assert (await feed.send([first])).stored == 1
        moved = await verified(pool, s.run_id)
        assert moved.length == read_by_exporter.length + 1

        stale = s.sealed(read_by_exporter.head, read_by_exporter.length)
        batch = feed.items([stale])
        applied = await feed.apply(batch)
        assert (applied.stored, applied.duplicates) == (0, 0)
        (refusal,) = applied.refused
        assert refusal.event.event_id == stale.event_id
        assert refusal.reason == stale_reason(stale, moved.length, moved.head)
        assert await verified(pool, s.run_id) == moved  # not chained
        run = await load(pool, s.run_id)
        assert run.status == "completed" and run.sealed_at is None  # not folded
        (row,) = await refused_rows(pool, s.run_id)
        assert (row["event_id"], row["type"], row["producer"]) == (
            stale.event_id,
            "run.sealed",
            "exporter",
        )
        assert row["reason"] == refusal.reason
        assert bytes(row["body"]) == batch[0][0].value
        assert row["source_offset"] == batch[0][0].offset

        # The run is not sealed: an event after the refused seal is stored, not refused.
        second = note(s, "second")
        after = await feed.send([second])
        assert after.stored == 1 and after.refused == []
        head = await verified(pool, s.run_id)
        assert head.valid and head.length == moved.length + 1

        seal = s.sealed(head.head, head.length)
        accepted = await feed.send([seal])
        assert accepted.stored == 1 and accepted.refused == []
        run = await load(pool, s.run_id)
        assert run.status == "AUDIT_SEALED"
        assert run.info["seal"]["chain_head"] == head.head
        assert {a.text for a in run.annotations.values()} == {"first", "second"}
        assert run == dag.fold_all([*events, first, second, seal]).runs[s.run_id]
        sealed_chain = await verified(pool, s.run_id)
        assert sealed_chain.valid and sealed_chain.length == head.length + 1

        # Replayed below the stored offset: nothing; forwarded again at a new offset
        # (now after the accepted seal): refused before, not recorded twice.
        assert (await feed.apply(batch)).replayed == 1
        again = await feed.send([stale])
        assert again.refused == [] and again.duplicates == 1 and again.stored == 0
        assert len(await refused_rows(pool, s.run_id)) == 1
        assert await verified(pool, s.run_id) == sealed_chain
        assert (await load(pool, s.run_id)) == run


async def test_a_seal_refused_before_its_head_existed_stays_refused(unique: str) -> None:
    """A seal naming the head the chain reaches only after the next annotation arrives
    first: refused as stale. Delivered again once the annotation is stored (its head now
    matches), it is refused again, not chained: a refusal is final. Nothing is recorded or
    dead-lettered twice, and the run stays open for the real seal."""
    async with fed(unique) as (pool, s, feed):
        await feed.send([*training(s), *hash_results(s)])
        now = await verified(pool, s.run_id)
        coming = note(s, "coming")
        early = s.sealed(chain.link(now.head, ev.encode(coming)), now.length + 1)
        (refusal,) = (await feed.send([early])).refused
        assert sealing.is_stale_seal("run.sealed", refusal.reason)

        assert (await feed.send([coming])).stored == 1
        grown = await verified(pool, s.run_id)
        assert (grown.head, grown.length) == (early.payload.chain_head, now.length + 1)
        again = await feed.send([early])
        assert (again.stored, again.duplicates, again.refused) == (0, 1, [])  # seen before
        assert await verified(pool, s.run_id) == grown  # not chained
        assert (await load(pool, s.run_id)).sealed_at is None
        assert len(await refused_rows(pool, s.run_id)) == 1

        seal = s.sealed(grown.head, grown.length)  # the exporter's next seal: exact
        assert (await feed.send([seal])).stored == 1
        assert (await load(pool, s.run_id)).status == "AUDIT_SEALED"


async def test_a_stale_seal_and_the_event_it_missed_in_the_same_batch(unique: str) -> None:
    """The annotation the seal missed, the stale seal, and the exporter's next seal in one
    batch: the annotation moves the head the seal must name (taken into account before it is
    stored); the stale seal is refused; the exact one is accepted and closes the run."""
    async with fed(unique) as (pool, s, feed):
        events: list[Any] = [*training(s), *hash_results(s)]
        await feed.send(events)
        read = await verified(pool, s.run_id)
        missed = note(s, "missed")
        stale = s.sealed(read.head, read.length)
        moved = chain.link(read.head, ev.encode(missed))
        exact = s.sealed(moved, read.length + 1)
        late = s.metrics(300, 0.01)
        other = Script(f"ws-{unique}", f"run-{unique}-b")
        noise = other.started()
        packaged = export(s)
        batch = feed.items([missed, noise, stale, exact, late, packaged])
        applied = await feed.apply(batch)
        assert applied.stored == 4 and applied.duplicates == 0
        assert [(r.event.event_id, r.reason) for r in applied.refused] == [
            (stale.event_id, stale_reason(stale, read.length + 1, moved)),
            (late.event_id, sealing_reason(s, "metrics.logged")),
        ]
        verdict = await verified(pool, s.run_id)
        assert verdict.valid and verdict.length == read.length + 3
        types = await chain_types(pool, s.run_id)
        assert types[read.length :] == ["annotation.added", "run.sealed", "export.completed"]
        run = await load(pool, s.run_id)
        assert run.status == "AUDIT_SEALED"
        assert (run.info["seal"]["chain_head"], run.info["seal"]["event_count"]) == (
            moved,
            read.length + 1,
        )
        assert run == dag.fold_all([*events, missed, exact, packaged]).runs[s.run_id]
        assert len(run.annotations) == 1 and ("loss", 300) not in run.metrics
        rows = await refused_rows(pool, s.run_id)
        assert [(r["event_id"], r["source_offset"]) for r in rows] == [
            (stale.event_id, batch[2][0].offset),
            (late.event_id, batch[4][0].offset),
        ]

        # A stale seal alone in a batch, with the missed event a redelivery (already
        # stored): the redelivery does not move the head twice.
        t = Script(f"ws-{unique}", f"run-{unique}-c")
        await feed.send([*training(t), *hash_results(t)])
        read = await verified(pool, t.run_id)
        missed = note(t, "missed")
        await feed.send([missed])
        head = await verified(pool, t.run_id)
        exact = t.sealed(head.head, head.length)
        redelivered = await feed.send([missed, t.sealed(read.head, read.length), exact])
        assert redelivered.duplicates == 1 and redelivered.stored == 1
        assert [r.event.type for r in redelivered.refused] == ["run.sealed"]
        assert (await load(pool, t.run_id)).info["seal"]["chain_head"] == head.head

        assert (await feed.apply(batch)).replayed == len(batch)
        assert len(await refused_rows(pool, s.run_id)) == 2


def sealing_reason(s: Script, type_: str) -> str:
    return (
        f"run_id: run {s.run_id!r} is sealed (AUDIT_SEALED); "
        f"a {type_} event may not be added after the seal"
    )
