"""The exporter reads lineage's published views (`lineage_read`) with its own queries
(cognify_exporter.views) and gets exactly what lineage's own reader gets from its tables
(docs/decisions/lineage-contract.md, "How to keep it safe"): a scripted history folded
through lineage's store, then every run, its refused events' findings and its chain read
both ways, the exporter's as its own least-privileged role."""

from __future__ import annotations

import asyncpg
import cognify_events as ev
from cognify_exporter import postgres, views
from cognify_lineage import chain, projection, queries
from cognify_lineage import postgres as lineage_pg
from cognify_lineage.postgres import Decoded, Message, apply_batch

from tests.integration.lineage.harness import as_role, fresh_database
from tests.integration.lineage.test_sequence_conflict import rival
from tests.unit.lineage.script import Script, hash_results, root, training

API = ev.Producer(kind=ev.ProducerKind.API, id="api-1")


def history(ws: str) -> tuple[list[ev.Event], Script, Script]:
    """Two runs that fill every table the exporter reads: run a with its DAG, metrics, a
    sequence conflict a reviewer annotated, an approval, its seal and an event refused
    after it; run b unsealed, its dataset changed, with a stale seal refused."""
    a, b = Script(ws, f"{ws}-run-a"), Script(ws, f"{ws}-run-b")
    who = ev.Reviewer(name="Dr. Ortiz", role="compliance officer")
    trained = training(a)
    first = next(e for e in trained if isinstance(e, ev.MetricsLogged))
    conflict = rival(first, 77.0)

    def note(node_id: str, annotation_id: str) -> ev.AnnotationAdded:
        return ev.AnnotationAdded(
            **a.env(API, numbered=False),
            payload=ev.AnnotationAddedPayload(
                annotation_id=annotation_id, node_id=node_id, author=who, text="checked"
            ),
        )

    events: list[ev.Event] = [
        *trained,
        *hash_results(a),
        conflict,
        note("ds_notes_v3", "ann-1"),
        note(f"sequence-conflict:{conflict.event_id}", "ann-2"),
        ev.RunApproved(**a.env(API, numbered=False), payload=ev.DecisionPayload(reviewer=who)),
        ev.AccessRecorded(
            workspace_id=ws,
            project="workspace",
            run_id=None,
            producer=API,
            payload=ev.AccessRecordedPayload(
                actor="ana", role="reviewer", action="run.read", object_id=f"run:{a.run_id}"
            ),
        ),
        b.started(),
        b.dataset("ds_notes_v4", merkle_root=root(99)),
        b.heartbeat(3),
        b.sealed("sha256:" + "0" * 64, 1),  # stale: b's chain is 3 events long
    ]
    head, length = chain.GENESIS, 0
    for e in events:
        if e.run_id == a.run_id and e is not conflict:
            head, length = chain.link(head, ev.encode(e)), length + 1
    return [*events, a.sealed(head, length), a.metrics(300, 0.5)], a, b


async def test_the_exporters_reader_of_lineage_read_equals_lineages_own(unique: str) -> None:
    ws = f"ws-{unique}"
    events, a, b = history(ws)
    async with fresh_database() as dsn:
        pool = await lineage_pg.create_pool(dsn)
        exporter = await postgres.create_pool(as_role(dsn, "exporter").dsn)
        try:
            for start in range(0, len(events), 6):
                items: list[tuple[Message, Decoded | None]] = [
                    (Message("t", 0, start + i, body), lineage_pg.decode(body))
                    for i, body in enumerate(ev.encode(e) for e in events[start : start + 6])
                ]
                await apply_batch(pool, "g", "t", {0: items})
            ids = [a.run_id, b.run_id]
            async with pool.acquire() as conn:
                theirs = await projection.load(conn, ids, full=True)
            async with exporter.acquire() as conn:
                assert await conn.fetchval("SELECT current_user") == "cognify_exporter"
                ours = await views.runs(conn, ids)
                ours_refused = {r: await views.refusals(conn, ours[r]) for r in ids}
                ours_chains = {r: await views.chain_rows(conn, r) for r in ids}
                # the exporter's role may not read the tables behind the views
                for table in ("runs", "refused_events", "events"):
                    try:
                        await conn.fetch(f"SELECT 1 FROM public.{table}")
                    except asyncpg.InsufficientPrivilegeError:
                        continue
                    raise AssertionError(f"cognify_exporter reads public.{table}")
            theirs_refused = {r: await queries.refusals(pool, theirs[r]) for r in ids}
            theirs_chains = {r: await lineage_pg.chain_rows(pool, r) for r in ids}

            assert ours == theirs
            assert ours_refused == theirs_refused
            assert ours_chains == theirs_chains

            # and the history did reach every table and every kind of refusal
            run = ours[a.run_id]
            assert run.status == "AUDIT_SEALED"
            assert run.nodes and run.edges and run.metrics
            assert [f.kind for f in ours[b.run_id].findings.values()] == ["dataset-changed"]
            assert len(run.annotations) == 2 and len(run.approvals) == 1
            assert run.approvals[0].lineage_digest is not None
            kinds = {r: sorted(f.kind for f in found) for r, found in ours_refused.items()}
            assert kinds == {
                a.run_id: ["event-after-seal", "sequence-conflict"],
                b.run_id: ["stale-seal"],
            }
            (resolved,) = [f for f in ours_refused[a.run_id] if f.kind == "sequence-conflict"]
            assert resolved.resolution is not None
            assert resolved.resolution["annotation_id"] == "ann-2"

            # the exporter's snapshot: the same run, its chain verified, its refusals
            snap = await postgres.snapshot(exporter, a.run_id)
            assert snap is not None
            assert snap.run == theirs[a.run_id]
            assert snap.chain.valid
            assert snap.chain.length == len(ours_chains[a.run_id][0])
            assert snap.refusals == theirs_refused[a.run_id]
        finally:
            await exporter.close()
            await pool.close()
