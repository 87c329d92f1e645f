"""The seal is exact: a reviewer's annotation that reaches lineage after the exporter read
the run's chain but before its `run.sealed` makes that seal stale. Lineage refuses it; the
exporter reads the chain again and seals what is really there, and the package includes the
annotation. Everything real: ingest, lineage, the exporter's workflow, Kafka, PostgreSQL,
MinIO; only the exporter's publish is wrapped, to put the annotation in at that moment."""

from __future__ import annotations

import json
from typing import Any

import cognify_events as ev
import pytest
from cognify_exporter import postgres
from cognify_exporter.kafka import Publisher
from cognify_exporter.objectstore import PackageStore
from cognify_exporter.settings import master_key_from_env
from cognify_exporter.workflow import Exporter, StaleSeal
from cognify_kafka import KafkaSettings, producer
from cognify_objectstore import ObjectStore

from tests.integration.lineage.harness import eventually, http, metrics_text

from .conftest import Cluster, approve, cluster, trained

EXPORTER = ev.Producer(kind=ev.ProducerKind.EXPORTER, id="test-exporter", version="0.1.0")


class Racing:
    """The exporter's publish, with a reviewer's annotation put through ingest (and waited
    for in lineage's store) just before each of the first `races` run.sealed events."""

    def __init__(self, c: Cluster, publish: Publisher, races: int) -> None:
        self.c, self.publish, self.races = c, publish, races
        self.seals: list[ev.RunSealed] = []
        self.notes: list[str] = []

    async def __call__(self, *events: ev.Event) -> None:
        for e in events:
            if isinstance(e, ev.RunSealed):
                self.seals.append(e)
                if len(self.notes) < self.races:
                    await self._annotate(e)
        await self.publish(*events)

    async def _annotate(self, seal: ev.RunSealed) -> None:
        assert seal.run_id is not None
        text = f"reviewed while sealing ({len(self.notes) + 1})"
        status, body = await http(
            "POST",
            f"{self.c.s.ingest_url}/v1/runs/{seal.run_id}/annotations",
            self.c.keys.reviewer,
            {"node_id": seal.run_id, "text": text},
        )
        assert status == 201, body
        self.notes.append(text)

        async def stored() -> bool:
            found = await self.c.s.pool.fetchval(
                "SELECT length FROM chain_heads WHERE chain_id = $1", seal.run_id
            )
            return bool(found == seal.payload.event_count + 1)

        await eventually(stored, "the annotation stored by lineage")


async def refused(c: Cluster, seal: ev.RunSealed) -> str | None:
    return await postgres.refusal(c.s.pool, seal.event_id)


async def test_a_seal_made_stale_by_an_annotation_is_sealed_again_and_exported(
    kafka: KafkaSettings, unique: str, store: ObjectStore
) -> None:
    async with cluster(kafka, unique) as c:
        prod = producer(kafka)
        await prod.start()
        try:
            publish = Publisher(prod, c.s.topics.events)
            run_id = f"run-{unique}"
            await trained(c, run_id)
            await approve(c, run_id)
            racing = Racing(c, publish, races=1)
            exporter = Exporter(
                c.s.pool, PackageStore(store), racing, EXPORTER, master_key_from_env(), 30.0
            )
            result = await exporter.seal(run_id, "dana", formats=[ev.ExportFormat.JSON])

            first, second = racing.seals
            assert first.event_id != second.event_id
            why = await refused(c, first)
            assert why is not None and why.endswith("the seal is stale")
            assert f"names chain head {first.payload.chain_head}" in why
            assert await refused(c, second) is None
            assert second.payload.event_count == first.payload.event_count + 1

            # The chain: everything before the seal (the annotation included), then the seal,
            # then the package's export.completed.
            async def exported() -> list[Any] | None:
                rows = await c.s.pool.fetch(
                    "SELECT type, event_id FROM events WHERE chain_id = $1 ORDER BY chain_index",
                    run_id,
                )
                return rows if rows[-1]["type"] == "export.completed" else None

            rows = await eventually(exported, "the export.completed stored")
            types = [r["type"] for r in rows]
            count = second.payload.event_count
            assert types[count - 1 :] == ["annotation.added", "run.sealed", "export.completed"]
            assert rows[count]["event_id"] == second.event_id
            assert "run.sealed" not in types[:count]
            chain = await postgres.verified_chain(c.s.pool, run_id)
            assert chain.valid, chain.describe()

            seal = result["seal"]
            assert (seal["chain_head"], seal["event_count"]) == (
                second.payload.chain_head,
                count,
            )
            run = (await c.s.runs(run_id))[run_id]
            assert run.status == "AUDIT_SEALED"

            (row,) = result["exports"]
            doc = json.loads(store.get(row["object_key"]))
            assert doc["seal"]["chain_head"] == second.payload.chain_head
            assert doc["seal"]["event_count"] == count
            assert doc["seal"]["event_id"] == str(second.event_id)
            assert [a["text"] for a in doc["annotations"]] == racing.notes

            # Lineage dead-lettered the refused seal and shows it as a finding of the run.
            async def letter() -> ev.DeadLetter | None:
                for _, v in await c.s.read_topic(c.s.topics.dlq):
                    d = ev.DeadLetter.model_validate_json(v)
                    if json.loads(d.original)["event_id"] == str(first.event_id):
                        return d
                return None

            dead = await eventually(letter, "lineage's dead letter for the stale seal")
            assert dead.rejected_by == "lineage" and dead.reason == why
            status, body = await http(
                "GET", f"{c.s.lineage_url}/v1/runs/{run_id}/findings", c.keys.reviewer
            )
            assert status == 200, body
            stale = [f for f in body["findings"] if f["kind"] == "stale-seal"]
            assert [f["id"] for f in stale] == [f"stale-seal:{first.event_id}"]
            metric = 'cognify_lineage_refused_after_seal_total{type="run.sealed",why="stale-seal"}'
            assert any(
                line.startswith(metric) and float(line.split()[-1]) >= 1
                for line in (await metrics_text(f"{c.s.lineage_url}/metrics")).splitlines()
            )
        finally:
            await prod.stop()


async def test_the_exporter_gives_up_after_three_stale_seals(
    kafka: KafkaSettings, unique: str, store: ObjectStore
) -> None:
    async with cluster(kafka, unique) as c:
        prod = producer(kafka)
        await prod.start()
        try:
            run_id = f"run-{unique}"
            await trained(c, run_id)
            await approve(c, run_id)
            racing = Racing(c, Publisher(prod, c.s.topics.events), races=3)
            exporter = Exporter(
                c.s.pool, PackageStore(store), racing, EXPORTER, master_key_from_env(), 30.0
            )
            with pytest.raises(StaleSeal) as raised:
                await exporter.seal(run_id, "dana", formats=[ev.ExportFormat.JSON])
            assert "lineage refused 3 run.sealed events in a row as stale" in str(raised.value)
            assert len(racing.seals) == 3 and len({s.event_id for s in racing.seals}) == 3
            reasons: list[Any] = [await refused(c, s) for s in racing.seals]
            assert all(r is not None and r.endswith("the seal is stale") for r in reasons)
            run = (await c.s.runs(run_id))[run_id]
            assert run.status == "completed" and run.sealed_at is None
            assert len(run.annotations) == 3
            assert (
                await postgres.export_row(
                    c.s.pool, run_id, ev.ExportFormat.JSON, ev.ExportTemplate.DEFAULT
                )
                is None
            )
        finally:
            await prod.stop()
