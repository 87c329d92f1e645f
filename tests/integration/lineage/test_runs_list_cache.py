"""The runs list, the lineage graph and the metric series are answered from caches of
encoded answers (cognify_lineage.runlist, api.kept_answer), with ETags: never stale once
lineage has folded a change, never another workspace's answer, and never answered to a key
before the key is checked. Real lineage, ingest, Kafka, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import urllib.error
import urllib.request
from typing import Any

import asyncpg
from cognify_ingest import workspaces
from cognify_ingest.credentials import Role
from cognify_kafka import KafkaSettings
from cognify_lineage import metrics

from tests.unit.lineage.script import Script, training

from .harness import eventually, make_workspace, signed, stack


async def get(url: str, token: str | None, etag: str | None = None) -> tuple[int, Any, str | None]:
    """A GET with an optional If-None-Match: status, decoded JSON (None for a 304), ETag."""

    def call() -> tuple[int, Any, str | None]:
        request = urllib.request.Request(url)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        if etag is not None:
            request.add_header("If-None-Match", etag)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
                return response.status, json.loads(body), response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            return exc.code, json.loads(body) if body else None, exc.headers.get("ETag")

    return await asyncio.to_thread(call)


async def get_raw(url: str, token: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    """A GET with the given headers: status, the answer's headers, its bytes as sent."""

    def call() -> tuple[int, Any, bytes]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    return await asyncio.to_thread(call)


def _pages(outcome: str) -> float:
    return float(metrics.PAGE_CACHE.labels(outcome)._value.get())


async def test_a_cached_page_changes_with_the_next_folded_change(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        ws = f"ws-{unique}"
        keys = await make_workspace(s.dsn, ws)
        first = Script(ws, f"run-{unique}-a")
        await s.send_raw([signed(e, keys.writer) for e in training(first)])

        async def folded(run_id: str) -> bool:
            return await s.run_status(run_id) == "completed"

        await eventually(lambda: folded(first.run_id), "the first run folded")
        url = f"{s.lineage_url}/v1/runs?limit=10"
        status, listed, tag = await get(url, keys.reviewer)
        assert status == 200 and [r["run_id"] for r in listed["runs"]] == [first.run_id]
        assert tag is not None and tag.startswith('"runs-')
        # A page is kept only when read in a settled snapshot (runlist.py): no older
        # transaction of the cluster still running, which a busy shared cluster can take a
        # moment to give. Every answer meanwhile is the same page under the same tag.
        hits = _pages("hit")

        async def hit() -> bool:
            status, again, same = await get(url, keys.reviewer)
            assert (status, again, same) == (200, listed, tag)
            return _pages("hit") > hits

        await eventually(hit, "an answer from the cache", timeout=10)
        assert (await get(url, keys.reviewer, tag))[:2] == (304, None)

        # Another workspace, the same parameters, even the first one's ETag: its own page.
        theirs = await make_workspace(s.dsn, f"ws-o{unique}")
        status, other, other_tag = await get(url, theirs.reviewer, tag)
        assert status == 200 and other["runs"] == [] and other["total"] == 0
        assert other_tag != tag
        # No key, a bad key, a revoked key: refused before any cache is looked at.
        assert (await get(url, None, tag))[0] == 401
        assert (await get(url, "cgk_000000000000_" + "A" * 43, tag))[0] == 401
        conn = await asyncpg.connect(s.dsn)
        try:
            holder = await workspaces.person(conn, ws, "Lee Park", "auditor")
            lee = await workspaces.issue_key(conn, ws, Role.REVIEWER, "lee", holder)
            assert (await get(url, lee.key))[1] == listed
            assert await workspaces.revoke_key(conn, lee.key_id)
        finally:
            await conn.close()
        assert (await get(url, lee.key, tag))[0] == 401

        # A decision changes a listed column: the first answer after the fold has it.
        approve = urllib.request.Request(
            f"{s.ingest_url}/v1/runs/{first.run_id}/approve",
            data=json.dumps({"comment": "ok"}).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {keys.reviewer}",
                "Content-Type": "application/json",
            },
        )
        with await asyncio.to_thread(urllib.request.urlopen, approve, timeout=10) as done:
            assert done.status == 201

        async def approved_in_store() -> bool:
            found = await s.pool.fetchval(
                "SELECT doc->'info'->'review'->>'decision' FROM runs WHERE run_id = $1",
                first.run_id,
            )
            return bool(found == "approved")

        await eventually(approved_in_store, "the approval folded")
        status, now, new_tag = await get(url, keys.reviewer, tag)
        assert status == 200 and new_tag != tag
        assert now["runs"][0]["approval"] == "approved"

        # A new run: listed by the first answer after it is folded, total included.
        second = Script(ws, f"run-{unique}-b")
        await s.send_events([second.started()])
        await eventually(lambda: s.run_status(second.run_id), "the second run folded")
        status, both, _ = await get(url, keys.reviewer, new_tag)
        assert status == 200 and both["total"] == 2
        assert {r["run_id"] for r in both["runs"]} == {first.run_id, second.run_id}
        # An empty page past the end is a page too, with the total.
        status, past, _ = await get(f"{url}&offset=50", keys.reviewer)
        assert status == 200 and past["runs"] == [] and past["total"] == 2


async def test_the_graph_answers_304_to_its_etag_until_the_run_changes(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        ws = f"ws-{unique}"
        keys = await make_workspace(s.dsn, ws)
        script = Script(ws, f"run-{unique}")
        await s.send_events([script.started(), script.config()])
        url = f"{s.lineage_url}/v1/runs/{script.run_id}/lineage"

        async def config_node() -> Any:
            status, graph, tag = await get(url, keys.reviewer)
            return (graph, tag) if status == 200 and len(graph["nodes"]) >= 1 else None

        graph, tag = await eventually(config_node, "the run's graph")
        assert tag is not None and tag.startswith('"graph-')
        assert (await get(url, keys.reviewer, tag))[:2] == (304, None)
        theirs = await make_workspace(s.dsn, f"ws-o{unique}")
        assert (await get(url, theirs.reviewer, tag))[0] == 404
        assert (await get(url, None, tag))[0] == 401

        await s.send_events([script.dataset("ds_notes_v3")])

        async def grown() -> bool:
            n = await s.pool.fetchval(
                "SELECT count(*) FROM lineage_nodes WHERE run_id = $1", script.run_id
            )
            return bool(n and n > len(graph["nodes"]))

        await eventually(grown, "the dataset node folded")
        status, now, new_tag = await get(url, keys.reviewer, tag)
        assert status == 200 and new_tag != tag and len(now["nodes"]) > len(graph["nodes"])

        # Gzip for a caller that takes it: the same graph, its own strong tag.
        status, headers, raw = await get_raw(url, keys.reviewer, {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(raw)) == now
        zipped_tag = headers["ETag"]
        assert zipped_tag.endswith('-gz"') and zipped_tag != new_tag
        again = await get_raw(url, keys.reviewer, {"Accept-Encoding": "gzip"})
        assert again[2] == raw  # compressed once, kept
        refused = {"Accept-Encoding": "gzip;q=0", "If-None-Match": str(new_tag)}
        assert (await get_raw(url, keys.reviewer, refused))[0] == 304
        revalidated = {"Accept-Encoding": "gzip", "If-None-Match": zipped_tag}
        assert (await get_raw(url, keys.reviewer, revalidated))[0] == 304
        assert (await get_raw(url, theirs.reviewer, revalidated))[0] == 404


async def test_metric_series_answer_304_to_their_etag_until_the_run_logs_more(
    kafka: KafkaSettings, unique: str
) -> None:
    async with stack(kafka) as s:
        ws = f"ws-{unique}"
        keys = await make_workspace(s.dsn, ws)
        script = Script(ws, f"run-{unique}")
        await s.send_events([script.started(), script.metrics(1, 2.0), script.metrics(2, 1.5)])
        url = f"{s.lineage_url}/v1/runs/{script.run_id}/metrics"

        async def logged() -> Any:
            status, body, tag = await get(url, keys.reviewer)
            two = status == 200 and len(body["series"].get("loss", [])) == 2
            return (body, tag) if two else None

        series, tag = await eventually(logged, "the run's loss series")
        assert tag is not None and tag.startswith('"metrics-')
        hits = metrics.SERIES_CACHE.labels("hit")._value.get()
        assert (await get(url, keys.reviewer)) == (200, series, tag)
        assert metrics.SERIES_CACHE.labels("hit")._value.get() == hits + 1
        assert (await get(url, keys.reviewer, tag))[:2] == (304, None)
        theirs = await make_workspace(s.dsn, f"ws-o{unique}")
        assert (await get(url, theirs.reviewer, tag))[0] == 404
        assert (await get(url, None, tag))[0] == 401
        # One series asked by name is an answer of its own, with its own tag.
        status, lr, lr_tag = await get(f"{url}?name=lr", keys.reviewer)
        assert status == 200 and set(lr["series"]) == {"lr"} and lr_tag not in (tag, None)

        await s.send_events([script.metrics(3, 1.25)])

        async def grown() -> Any:
            status, body, new_tag = await get(url, keys.reviewer, tag)
            return (body, new_tag) if status == 200 else None

        now, new_tag = await eventually(grown, "the third point in the series")
        assert [p["value"] for p in now["series"]["loss"]] == [2.0, 1.5, 1.25]
        assert new_tag != tag
        status, headers, raw = await get_raw(url, keys.reviewer, {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(raw)) == now and headers["ETag"].endswith('-gz"')
