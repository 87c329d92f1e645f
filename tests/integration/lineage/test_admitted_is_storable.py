"""What ingest admits, lineage can store (issue 12): a property over events generated from
the published schemas, against the real PostgreSQL; and the front door refusing, with the
reason, what the store could not hold.

Every event `decode_strict` accepts (edge values included: the largest integers, the
longest strings in astral characters, free-form JSON nested as deep as allowed, non-finite
numbers by name) is read by lineage's own decoder and applied through `apply_batch`, the
path its Kafka worker takes, without an error: it ends up stored in the event store (or,
after its run's seal, recorded as refused), and the runs it touched load back. Every
hostile variant (one value anywhere made one an event may not hold) is refused with a
reason naming the problem. At the end, a rebuild of the projection from the store gives
the very tables the live fold wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from pathlib import Path
from typing import Any

import cognify_events as ev
import pytest
from cognify_events.codec import InvalidEvent, decode_strict
from cognify_kafka import KafkaSettings
from cognify_lineage import projection
from cognify_lineage.postgres import (
    Decoded,
    Message,
    Pool,
    apply_batch,
    create_pool,
    decode,
    rebuild,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.unit.events.schema_strategies import HOSTILE, event_objects, hostile, schemas
from tests.unit.lineage.script import Script

from .harness import eventually, fresh_database, http, make_workspace, signed, stack
from .test_store import dump

GOLDEN = Path(__file__).resolve().parents[2] / "unit/events/golden"

# What each kind of hostile value is refused for, wherever it stands in the event.
REASONS = {
    "nul": "contains U+0000",
    "lone-surrogate": "contains a lone surrogate",
    "too-big": "is outside the integers an event may hold",
    "too-small": "is outside the integers an event may hold",
    "nan": "NaN is not a JSON number",
    "infinity": "-Infinity is not a JSON number",
    "overflow": "inf is not a finite number",
    "too-deep": "nested deeper than 32 levels",
}
KINDS = sorted(HOSTILE)
assert set(REASONS) == set(KINDS)

PER_TYPE = 2  # examples led by each event type (the first: every member at its edge)


class Store:
    """One scratch database for the whole property, on a loop of its own (hypothesis calls
    the test body synchronously), with a message offset that only moves forward."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.stack = contextlib.AsyncExitStack()
        self.offset = 0
        self.examples = 0
        self.stored = 0
        self.refused: dict[str, int] = {}
        self.pool: Pool = self.run(self._open())

    async def _open(self) -> Pool:
        dsn = await self.stack.enter_async_context(fresh_database())
        pool = await create_pool(dsn)
        self.stack.push_async_callback(pool.close)
        return pool

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.close()


def _isolated(obj: dict[str, Any], example: int, n: int) -> dict[str, Any]:
    """The event with a run and an event id of this example's own: examples share one
    database, and a run id or event id drawn again by another example would make its
    events duplicates or sequence conflicts instead of new facts. The drawn run id keeps
    its length (up to the 128 characters an identifier may have)."""
    out = dict(obj)
    if isinstance(out.get("run_id"), str):
        out["run_id"] = f"x{example:x}-{out['run_id']}"[:128]
    out["event_id"] = str(uuid.UUID(int=(example << 16) | n))
    return out


Example = tuple[list[dict[str, Any]], bool, int]
TYPES = sorted(schemas())


@st.composite
def examples(draw: st.DrawFn, lead: str) -> Example:
    """An event of type `lead` and up to three more of any type, often of one run (so the
    fold links them); where to put a hostile value in the first one."""
    events = [draw(event_objects([lead])), *draw(st.lists(event_objects(), max_size=3))]
    if draw(st.booleans()):
        run = next((e["run_id"] for e in events if e.get("run_id")), None)
        events = [{**e, "run_id": run} if e.get("run_id") else e for e in events]
    return events, draw(st.booleans()), draw(st.integers(0, 10_000))


def test_every_event_decode_strict_accepts_is_stored_and_folded() -> None:
    store = Store()
    try:
        for lead in TYPES:  # every type leads in turn, drawn with all its edges

            @settings(
                max_examples=PER_TYPE,
                deadline=None,
                database=None,  # no example database: nothing replayed from an earlier run
                # No shrinking: each step applies to PostgreSQL, and minutes of it would
                # blow the time bound; a failing example is printed as drawn.
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(examples(lead))
            def admitted_is_stored(example: Example) -> None:
                _one_example(store, *example)

            admitted_is_stored()
        assert store.examples >= PER_TYPE * len(TYPES) and store.stored > store.examples
        assert set(store.refused) == set(KINDS), store.refused  # every kind was tried
        store.run(_rebuild_gives_the_same_tables(store))
    finally:
        store.close()


def _one_example(store: Store, objects: list[dict[str, Any]], ascii_only: bool, where: int) -> None:
    store.examples += 1
    kind = KINDS[store.examples % len(KINDS)]  # each kind in turn, at a drawn place
    objects = [_isolated(o, store.examples, n) for n, o in enumerate(objects)]
    bodies = [json.dumps(o, ensure_ascii=ascii_only).encode() for o in objects]
    accepted = [decode_strict(body) for body in bodies]  # generated from the schema: all pass
    with pytest.raises(InvalidEvent) as refused:
        decode_strict(hostile(dict(objects[0]), where, kind))
    assert REASONS[kind] in str(refused.value), refused.value.problems
    store.refused[kind] = store.refused.get(kind, 0) + 1
    store.run(_apply_and_check(store, bodies, accepted))


async def _rebuild_gives_the_same_tables(store: Store) -> None:
    """The live projection is the fold of the store: rebuilding it from the stored events
    reproduces every table exactly."""
    before = await dump(store.pool)
    assert before["runs"], "the property stored runs to compare"
    assert await rebuild(store.pool) == store.stored
    assert await dump(store.pool) == before


async def _apply_and_check(store: Store, bodies: list[bytes], accepted: list[ev.Event]) -> None:
    items: list[tuple[Message, Decoded | None]] = []
    for body, event in zip(bodies, accepted, strict=True):
        decoded = decode(body)  # lineage's own (tolerant) reader agrees with the gate
        assert decoded.event == event
        items.append((Message("canonical", 0, store.offset, body), decoded))
        store.offset += 1
    applied = await apply_batch(store.pool, "property", "canonical", {0: items})
    ids = [e.event_id for e in accepted]
    found = await store.pool.fetch(
        """SELECT event_id, true AS stored FROM events WHERE event_id = ANY($1::uuid[])
           UNION ALL
           SELECT event_id, false FROM refused_events WHERE event_id = ANY($1::uuid[])""",
        ids,
    )
    stored = {r["event_id"] for r in found if r["stored"]}
    refused = {r["event_id"] for r in found if not r["stored"]}
    assert applied.stored == len(stored) and set(ids) == stored | refused, (ids, applied)
    store.stored += len(stored)
    runs = {  # access records are the workspace's, whatever run they name
        e.run_id
        for e in accepted
        if e.run_id is not None and e.event_id in stored and e.type != "access.recorded"
    }
    async with store.pool.acquire() as conn:
        loaded = await projection.load(conn, runs, full=True)
    assert set(loaded) == runs


async def test_a_dataset_with_the_longest_source_the_contract_allows_is_stored() -> None:
    """`source_uri` may have 4,096 characters: 16 KiB of UTF-8 in astral characters, more
    than a btree index entry holds (2,704 bytes), and the dataset's root is keyed by it.
    Found by the property above: such an event stopped lineage's consumer for good."""
    rng = random.Random(12)
    source = "".join(chr(rng.randrange(0x10000, 0x110000)) for _ in range(4_096))
    async with fresh_database() as dsn:
        pool = await create_pool(dsn)
        try:
            for n, (run, root) in enumerate([("run-a", "ab"), ("run-b", "cd")]):
                raw = json.loads((GOLDEN / "dataset.registered.v1.json").read_text())
                raw["event_id"] = str(uuid.UUID(int=n + 1))
                raw["run_id"] = run
                raw["payload"].update(source_uri=source, merkle_root="sha256:" + root * 32)
                body = json.dumps(raw, ensure_ascii=False).encode()
                assert decode_strict(body).payload.source_uri == source  # type: ignore[union-attr]
                message = Message("canonical", 0, n, body)
                await apply_batch(pool, "g", "canonical", {0: [(message, decode(body))]})
            async with pool.acquire() as conn:
                runs = await projection.load(conn, ["run-b"])
            # The second registration of the same name and source with another root is
            # compared with the first: the dataset changed.
            (finding,) = [f for f in runs["run-b"].findings.values() if f.kind == "dataset-changed"]
            assert finding.detail["source_uri"] == source
            assert finding.detail["previous_root"] == "sha256:" + "ab" * 32
        finally:
            await pool.close()


async def test_the_front_door_refuses_what_the_store_cannot_hold_and_the_rest_moves_on(
    kafka: KafkaSettings, unique: str
) -> None:
    """The poison pills of issue 12, through the real ingest (HTTP and the raw topic): each
    is refused with its reason (a 422, a dead letter), and a valid run sent after them is
    projected."""
    ws = f"ws-{unique}"
    hostile_run, good = Script(ws, f"run-{unique}-bad"), Script(ws, f"run-{unique}")
    big_seq = hostile_run.started().model_copy(update={"seq": 2**63})
    nul_tag = hostile_run.started()
    nul_tag = nul_tag.model_copy(
        update={"payload": nul_tag.payload.model_copy(update={"tags": {"a\x00b": "x"}})}
    )
    deep = b'{"type": "run.started", "payload": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    async with stack(kafka) as s:
        keys = await make_workspace(s.dsn, ws)
        pills = [signed(big_seq, keys.writer)[1], signed(nul_tag, keys.writer)[1], deep]
        reasons = [
            "seq: 9223372036854775808 is outside the integers",
            "payload.tags.a\\u0000b: the name contains U+0000",
            "event: nested deeper than 32 levels",
        ]
        for body, reason in zip(pills, reasons, strict=True):
            status, answer = await http("POST", f"{s.ingest_url}/v1/events", keys.writer, raw=body)
            assert status == 422 and reason in answer["error"], (status, answer)

        await s.send_raw([(hostile_run.run_id.encode(), body) for body in pills])
        await s.send_raw([signed(e, keys.writer) for e in (good.started(), good.metrics(1, 0.5))])

        async def dead_letters() -> list[ev.DeadLetter] | None:
            found = [
                ev.DeadLetter.model_validate_json(v) for _, v in await s.read_topic(s.topics.dlq)
            ]
            raw = [d for d in found if d.source_topic == s.topics.raw]  # not the HTTP refusals
            return raw if len(raw) >= len(pills) else None

        letters = await eventually(dead_letters, "a dead letter for each pill")
        for reason, body in zip(reasons, pills, strict=True):
            (letter,) = [d for d in letters if d.original == body]
            assert reason in letter.reason, letter.reason

        async def projected() -> bool:
            run = (await s.runs(good.run_id)).get(good.run_id)
            return run is not None and ("loss", 1) in run.metrics

        await eventually(projected, "the valid run behind the pills")
        assert await s.runs(hostile_run.run_id) == {}
