"""A poison-pill campaign through the real ingest and lineage processes (issue 12).

Valid events of 20 runs are interleaved with more than 30 kinds of hostile message, written
as an attacker holding one ordinary writer key would write them (each one signed with that
key wherever a signature can be computed, so that the signature check is not what stops
it). Afterwards:

- every valid event is projected by lineage (each run complete, no gap);
- every hostile message is in the dead-letter topic, alone, with a reason naming its problem;
- ingest and lineage are the same processes that started (no restart, no crash);
- both consumers are at the end of their topics (lag 0 on /metrics, offsets at the end).

The campaign has two phases: the first interleaves the first half of every run with what
ingest must refuse; the second interleaves the second half with what only lineage can judge
(a second event claiming a stored `seq`, an event after a seal), aimed at events the first
phase stored.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cognify_events as ev
from aiokafka import AIOKafkaConsumer, TopicPartition
from cognify_events.signing import python_canonical_bytes, signature_of, signing_key
from cognify_kafka import KafkaSettings, consumer
from cognify_lineage import chain
from cognify_lineage.postgres import chain_rows, create_pool

from tests.integration.lineage.harness import (
    Keys,
    Stack,
    eventually,
    free_port,
    fresh_database,
    make_workspace,
    metrics_text,
    own_topics,
    signed,
)
from tests.integration.processes import Service, service, service_env
from tests.unit.lineage.script import Script, training

RUNS = 20
SEED = 12


@dataclass(frozen=True)
class Hostile:
    kind: str
    key: bytes
    value: bytes
    reason: str  # a regular expression the dead letter's reason must match
    event_id: str | None = None  # for what passes ingest: lineage dead-letters its own bytes


def _obj(event: ev.EventBase) -> dict[str, Any]:
    return event.model_dump(mode="json")


def _sign(obj: dict[str, Any], api_key: str) -> dict[str, Any]:
    body = {k: v for k, v in obj.items() if k != "signature"}
    try:
        canonical = python_canonical_bytes(body)
    except UnicodeEncodeError:  # a lone surrogate: signed over the bytes an attacker would
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        canonical = text.encode("utf-8", "surrogatepass")
    return {**body, "signature": signature_of(canonical, signing_key(api_key))}


def _bytes(obj: Any) -> bytes:
    # allow_nan: the attacker writes bare NaN/Infinity tokens on purpose.
    return json.dumps(obj, allow_nan=True).encode()


class Attacker:
    """Hostile messages, each on a run of its own unless it aims at a victim's run."""

    def __init__(self, workspace: str, keys: Keys, other: Keys, unique: str) -> None:
        self.workspace, self.keys, self.other, self.unique = workspace, keys, other, unique
        self.count = 0

    def script(self) -> Script:
        self.count += 1
        return Script(self.workspace, f"run-evil{self.count}-{self.unique}")

    def mutate(
        self,
        kind: str,
        reason: str,
        change: Callable[[dict[str, Any]], None],
        event: ev.EventBase | None = None,
        key: str | None = None,
    ) -> Hostile:
        obj = _obj(event or self.script().started())
        change(obj)
        signed_obj = _sign(obj, key or self.keys.writer)
        return Hostile(kind, str(obj.get("run_id", "x")).encode(), _bytes(signed_obj), reason)

    def raw(self, kind: str, reason: str, value: bytes) -> Hostile:
        return Hostile(kind, f"run-evil-{self.unique}".encode(), value, reason)

    def ingest_refuses(self, victim: Script) -> list[Hostile]:
        w = self.keys.writer
        s = self.script
        nested = b'{"type":"run.started","payload":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
        many = b'{"type":"run.started","payload":[' + b",".join([b"[]"] * 300_000) + b"]}"
        started = _obj(s().started())
        digits = _bytes(started).replace(b'"seq": 0', b'"seq": ' + b"9" * 5_000)

        def tags(value: Any) -> Callable[[dict[str, Any]], None]:
            return lambda o: o["payload"].__setitem__("tags", value)

        def field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
            return lambda o: o.__setitem__(name, value)

        def drop(name: str) -> Callable[[dict[str, Any]], None]:
            return lambda o: o.pop(name)

        eval_event = s().evaluation(10)
        overflow = _bytes(_sign(_obj(eval_event), w)).replace(
            b'"eval_loss": 0.5', b'"eval_loss": 1e400'
        )
        config_event = s().config()
        dataset_event = s().dataset("ds_evil", merkle_root="sha256:" + "0" * 64)
        intruder = Script(f"ws-b{self.unique}", victim.run_id).heartbeat(1)
        return [
            self.mutate("forged signature", r"^signature: ", lambda o: None, key="cgk_" + "A" * 50),
            Hostile(
                "unsigned",
                b"k",
                _bytes({k: v for k, v in started.items() if k != "signature"}),
                r"^signature: ",
            ),
            self.mutate(
                "another workspace's key", r"^signature: ", lambda o: None, key=self.other.writer
            ),
            Hostile(
                "intruder into another workspace's run",
                victim.run_id.encode(),
                _bytes(_sign(_obj(intruder), self.other.writer)),
                r"belongs to another workspace",
            ),
            self.mutate("unknown workspace", r"workspace", field("workspace_id", "ws-nowhere")),
            self.mutate(
                "reviewer key writes",
                r"reviewer key may not write",
                lambda o: None,
                key=self.keys.reviewer,
            ),
            self.raw("truncated JSON", r"not valid UTF-8 JSON|JSON", _bytes(started)[:-20]),
            self.raw("not UTF-8", r"UTF-8", b"\xff\xfe{\x00}"),
            self.raw("UTF-16 JSON", r"UTF-8", json.dumps(started).encode("utf-16")),
            self.raw("empty message", r"JSON|empty", b""),
            self.raw("a JSON array", r"object|JSON", b"[]"),
            self.raw("JSON null", r"object|JSON", b"null"),
            self.mutate(
                "unknown event type", r"unknown event type", field("type", "run.teleported")
            ),
            self.mutate("no run_id", r"run_id", drop("run_id")),
            self.mutate("no event_id", r"event_id", drop("event_id")),
            self.mutate("event_id not a UUID", r"event_id", field("event_id", "not-a-uuid")),
            self.mutate("seq as a string", r"seq", field("seq", "1")),
            self.mutate("seq 2^63", r"seq", field("seq", 2**63)),
            self.mutate("seq 2^53", r"seq", field("seq", 2**53)),
            self.mutate("negative seq", r"seq", field("seq", -1)),
            self.raw("a 5,000-digit seq", r"seq|number|integer|digits", digits),
            self.mutate("NUL in a tag value", r"U\+0000|NUL", tags({"team": "a\u0000b"})),
            self.mutate("NUL in a member name", r"U\+0000|NUL", tags({"te\u0000am": "a"})),
            self.mutate("lone surrogate", r"surrogate", tags({"team": "\ud800"})),
            self.raw("nested 10,000 deep", r"deep|nest", nested),
            self.raw("300,000 arrays", r"arrays and objects|containers|too many", many),
            self.mutate(
                "bare NaN in results",
                r"NaN",
                lambda o: o["payload"]["metrics"].__setitem__("accuracy", float("nan")),
                event=eval_event,
            ),
            self.mutate(
                "bare Infinity in config",
                r"Infinity|NaN",
                lambda o: o["payload"]["training_args"].__setitem__("learning_rate", float("inf")),
                event=config_event,
            ),
            self.raw("1e400", r"finite|infinity|overflow", overflow),
            self.mutate("time in year 0", r"time", field("time", "0001-01-01T00:00:00+01:00")),
            self.mutate("time not a time", r"time", field("time", "yesterday")),
            self.mutate(
                "negative record count",
                r"record_count",
                lambda o: o["payload"].__setitem__("record_count", -5),
                event=dataset_event,
            ),
            self.mutate(
                "payload of another type",
                r"payload",
                lambda o: o.__setitem__("payload", {"step": 1, "metrics": {}}),
                event=s().dataset("ds_x", merkle_root="sha256:" + "1" * 64),
            ),
            self.mutate("run id with a path", r"run_id", field("run_id", "../../etc/passwd")),
            self.mutate(
                "a writer forges a hash result",
                r"may not write|producer|hash",
                lambda o: None,
                event=s().hashed(ev.HashTarget.DATASET, "ds_x", "sha256:" + "2" * 64),
            ),
        ]

    def lineage_refuses(self, victims: list[Script], sealed: Script) -> list[Hostile]:
        """Signed, well-formed events that only lineage can judge."""
        out = []
        for n, victim in enumerate(victims):
            # A metrics event claiming seq 6 (stored in phase 1: `metrics(10, 1.5)`) with
            # another event id and another loss: the silent overwrite of issue 12.
            conflict = victim.metrics(10, 77.0).model_copy(update={"seq": 6})
            out.append(
                Hostile(
                    f"sequence conflict {n}",
                    ev.partition_key(conflict),
                    ev.sign(conflict, self.keys.writer).model_dump_json().encode(),
                    r"^sequence-conflict",
                    str(conflict.event_id),
                )
            )
        late = sealed.heartbeat(999)
        out.append(
            Hostile(
                "event after the seal",
                ev.partition_key(late),
                ev.sign(late, self.keys.writer).model_dump_json().encode(),
                r"sealed",
                str(late.event_id),
            )
        )
        return out


def _interleave(rng: random.Random, runs: list[list[Any]], hostile: list[Any]) -> list[Any]:
    """One stream: each run's events in their order, hostile messages anywhere between."""
    queues = [list(r) for r in runs] + [[h] for h in hostile]
    out: list[Any] = []
    while queues:
        q = rng.choice(queues)
        out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return out


async def _letters(s: Stack) -> list[ev.DeadLetter]:
    return [ev.DeadLetter.model_validate_json(v) for _, v in await s.read_topic(s.topics.dlq)]


def _lags(metrics: str, service: str) -> dict[str, float]:
    line = re.compile(rf'^cognify_{service}_lag{{partition="(\d+)"}} (\S+)$')
    return {m[1]: float(m[2]) for m in filter(None, map(line.match, metrics.splitlines()))}


async def _partitions(cons: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    await cons._client.force_metadata_update()  # as the harness does: no group, no metadata
    return [TopicPartition(topic, p) for p in sorted(cons.partitions_for_topic(topic) or set())]


async def _end_offsets(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    cons = consumer(kafka, group_id=None)
    await cons.start()
    try:
        parts = await _partitions(cons, topic)
        ends = await cons.end_offsets(parts)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await cons.stop()


async def _committed(kafka: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    cons = consumer(kafka, group_id=group)
    await cons.start()
    try:
        parts = await _partitions(cons, topic)
        return {tp.partition: (await cons.committed(tp)) or 0 for tp in parts}
    finally:
        await cons.stop()


async def test_a_poison_pill_campaign_stops_nothing_and_every_pill_is_a_dead_letter(
    kafka: KafkaSettings, unique: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    async with fresh_database() as dsn, own_topics(kafka) as (prefix, topics):
        workspace = f"ws-a{unique}"
        keys, other = (
            await make_workspace(dsn, workspace),
            await make_workspace(dsn, f"ws-b{unique}"),
        )
        scripts = [Script(workspace, f"run-{n:02d}-{unique}") for n in range(RUNS)]
        runs = [training(script) for script in scripts]
        sealed = Script(workspace, f"run-sealed-{unique}")
        sealed_events = training(sealed)
        attacker = Attacker(workspace, keys, other, unique)
        first = attacker.ingest_refuses(scripts[0])
        ports = {"ingest": free_port(), "lineage": free_port()}
        env = service_env(dsn, prefix, ports)
        pool = await create_pool(dsn)
        s = Stack(kafka, dsn, prefix, topics, pool)
        try:
            async with (
                service("lineage", ports["lineage"], env, tmp_path) as lineage,
                service("ingest", ports["ingest"], env, tmp_path) as ingest,
            ):
                processes = (lineage, ingest)
                half = len(runs[0]) // 2
                phase1 = _interleave(
                    rng,
                    [[signed(e, keys.writer) for e in r[:half]] for r in runs]
                    + [[signed(e, keys.writer) for e in sealed_events]],
                    first,
                )
                await s.send_raw([m if isinstance(m, tuple) else (m.key, m.value) for m in phase1])
                await _all_projected(s, scripts, half, sealed, len(sealed_events), processes)
                await _seal(s, sealed)

                second = attacker.lineage_refuses(scripts[:3], sealed)
                phase2 = _interleave(
                    rng, [[signed(e, keys.writer) for e in r[half:]] for r in runs], second
                )
                await s.send_raw([m if isinstance(m, tuple) else (m.key, m.value) for m in phase2])
                await _all_projected(
                    s, scripts, len(runs[0]), sealed, len(sealed_events), processes
                )

                hostile = first + second
                assert len({h.kind for h in hostile}) >= 30 + 3
                letters = await eventually(
                    lambda: _enough(s, len(hostile)), f"{len(hostile)} dead letters", timeout=90
                )
                _every_pill_is_a_letter(hostile, letters)

                # Nothing else moved: the victims keep their first value at step 10.
                for victim in scripts[:3]:
                    loss = await pool.fetchval(
                        "SELECT value FROM metric_points WHERE run_id = $1 AND name = 'loss' "
                        "AND step = 10",
                        victim.run_id,
                    )
                    assert loss == 1.5, (victim.run_id, loss)

                # Both consumers reached the end of their topics, and kept running.
                await eventually(lambda: _caught_up(s, env, ingest, lineage), "lag 0", timeout=60)
                for proc in processes:
                    assert proc.alive(), f"{proc.name} stopped:\n{proc.tail()}"
        finally:
            await pool.close()


async def _enough(s: Stack, count: int) -> list[ev.DeadLetter] | None:
    found = await _letters(s)
    return found if len(found) >= count else None


def _every_pill_is_a_letter(hostile: list[Hostile], letters: list[ev.DeadLetter]) -> None:
    by_bytes: dict[bytes, ev.DeadLetter] = {
        base64.b64decode(letter.original_b64): letter for letter in letters
    }
    by_event: dict[str, ev.DeadLetter] = {}
    for each in letters:
        try:
            by_event[str(json.loads(base64.b64decode(each.original_b64))["event_id"])] = each
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
    problems = []
    for h in hostile:
        letter = by_bytes.get(h.value)
        if letter is None and h.event_id is not None:
            letter = by_event.get(h.event_id)
        if letter is None:
            problems.append(f"{h.kind}: no dead letter")
        else:
            print(f"{h.kind:40} {letter.rejected_by:10} {letter.reason[:110]}")
        if letter is not None and not re.search(h.reason, letter.reason, re.IGNORECASE):
            problems.append(f"{h.kind}: reason {letter.reason[:200]!r} !~ {h.reason!r}")
    assert not problems, "\n".join(problems)
    # Each pill alone: one letter per hostile message, and no valid event among them.
    assert len(letters) == len(hostile), [letter.reason[:80] for letter in letters]


async def _all_projected(
    s: Stack,
    scripts: list[Script],
    count: int,
    sealed: Script,
    sealed_count: int,
    processes: tuple[Service, ...],
) -> None:
    """Every valid event so far is stored: each run's seq 0..count-1, no gap."""

    async def done() -> bool:
        for proc in processes:
            assert proc.alive(), f"{proc.name} stopped:\n{proc.tail()}"
        runs = await s.runs(*[x.run_id for x in scripts], sealed.run_id, full=False)
        want = {x.run_id: count for x in scripts} | {sealed.run_id: sealed_count}
        return all(
            r in runs and runs[r].seq_high == n - 1 and runs[r].gaps == () for r, n in want.items()
        )

    await eventually(done, f"{len(scripts)} runs projected up to seq {count - 1}", timeout=120)


async def _seal(s: Stack, sealed: Script) -> None:
    """Seal as the exporter does: run.sealed naming the run's chain head."""
    links, head = await chain_rows(s.pool, sealed.run_id)
    verified = chain.verify(sealed.run_id, links, head)
    await s.send_events([sealed.sealed(verified.head, verified.length)])
    await eventually(
        lambda: s.pool.fetchval("SELECT sealed_at FROM runs WHERE run_id = $1", sealed.run_id),
        "the seal in the projection",
    )


async def _caught_up(s: Stack, env: dict[str, str], ingest: Service, lineage: Service) -> bool:
    ingest_lag = _lags(await metrics_text(f"{ingest.url}/metrics"), "ingest")
    lineage_lag = _lags(await metrics_text(f"{lineage.url}/metrics"), "lineage")
    if not ingest_lag or not lineage_lag or any(ingest_lag.values()) or any(lineage_lag.values()):
        return False
    raw_end = await _end_offsets(s.kafka, s.topics.raw)
    committed = await _committed(s.kafka, env["COGNIFY_INGEST_GROUP"], s.topics.raw)
    events_end = await _end_offsets(s.kafka, s.topics.events)
    stored: dict[int, int] = dict(
        await s.pool.fetch(  # type: ignore[arg-type]
            "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 "
            "AND topic = $2",
            env["COGNIFY_LINEAGE_GROUP"],
            s.topics.events,
        )
    )
    return committed == raw_end and all(stored.get(p, 0) == n for p, n in events_end.items() if n)
