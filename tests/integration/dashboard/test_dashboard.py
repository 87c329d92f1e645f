"""The dashboard's backend against the real stack: ingest, lineage and the dashboard each run
as their own process (`python -m cognify_<name>`) on the test's topics and database, with a
run trained through the real ingest and folded by the real lineage.

Every request goes where a browser's would: to the dashboard only, with its cookies.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import cognify_events as ev
import httpx
import pytest
import pytest_asyncio
from cognify_ingest import workspaces
from cognify_ingest.credentials import Role
from cognify_kafka import KafkaSettings, ensure_topics, producer

from tests.integration.lineage.harness import (
    Keys,
    eventually,
    free_port,
    fresh_database,
    make_workspace,
    own_topics,
    signed,
)
from tests.integration.processes import service, service_env
from tests.unit.lineage.script import Script, hash_results, training

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Setup:
    url: str
    dsn: str
    prefix: str
    run_id: str
    keys: Keys
    other: Keys  # another workspace's


async def _seed(kafka: KafkaSettings, prefix: str, dsn: str, keys: Keys, script: Script) -> None:
    """A run through the real ingest into the real lineage: trained and hashed."""
    prod = producer(kafka)
    await prod.start()
    try:
        raw = [signed(e, keys.writer) for e in training(script)]
        sent = [await prod.send(f"{prefix}cognify.events.raw", v, key=k) for k, v in raw]
        sent += [
            await prod.send(f"{prefix}cognify.events", ev.encode(e), key=ev.partition_key(e))
            for e in hash_results(script)
        ]
        await asyncio.gather(*sent)
    finally:
        await prod.stop()

    async def folded() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            owned = await conn.fetchval("SELECT 1 FROM run_owners WHERE run_id = $1", script.run_id)
            hashed = await conn.fetchval(
                "SELECT count(*) FROM lineage_nodes WHERE run_id = $1 AND hash_status = 'computed'",
                script.run_id,
            )
        finally:
            await conn.close()
        return bool(owned and hashed and hashed >= 7)

    await eventually(folded, "the seeded run owned by ingest and folded by lineage", timeout=90)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def setup(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Setup]:
    kafka = KafkaSettings()
    logs: Path = tmp_path_factory.mktemp("dashboard-logs")
    async with fresh_database() as dsn, own_topics(kafka) as (prefix, _):
        unique = prefix.rstrip(".").rsplit("-", 1)[-1]
        keys = await make_workspace(dsn, f"ws-{unique}")
        other = await make_workspace(dsn, f"ws-other-{unique}")
        script = Script(f"ws-{unique}", f"run-{unique}")
        ports = {name: free_port() for name in ("ingest", "lineage", "dashboard")}
        env = service_env(dsn, prefix, ports)
        async with (
            service("lineage", ports["lineage"], env, logs),
            service("ingest", ports["ingest"], env, logs),
            service("dashboard", ports["dashboard"], env, logs) as dashboard,
        ):

            async def live_ready() -> bool:
                async with httpx.AsyncClient() as c:
                    return bool((await c.get(f"{dashboard.url}/healthz")).json().get("live"))

            await eventually(live_ready, "the dashboard's live consumer at the topics' ends", 60)
            await _seed(kafka, prefix, dsn, keys, script)
            yield Setup(dashboard.url, dsn, prefix, script.run_id, keys, other)


@contextlib.asynccontextmanager
async def browser(
    setup: Setup, key: str, address: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookie jar, signed in with `key`."""
    headers = {"X-Forwarded-For": address} if address else {}
    async with httpx.AsyncClient(base_url=setup.url, headers=headers, timeout=30) as client:
        answer = await client.post("/api/session", json={"api_key": key})
        assert answer.status_code == 200, answer.text
        yield client


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["cognify_csrf"]}


def raw_get(url: str, path: str, cookie: str) -> int:
    """A GET with the path exactly as written (httpx would normalise `..`)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Cookie", cookie)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


async def test_a_reviewer_signs_in_with_a_key_and_the_key_never_comes_back(setup: Setup) -> None:
    async with httpx.AsyncClient(base_url=setup.url) as client:
        answer = await client.post("/api/session", json={"api_key": setup.keys.reviewer})
        assert answer.status_code == 200, answer.text
        me = answer.json()
        assert me["workspace_id"] == setup.run_id.replace("run-", "ws-")
        assert me["role"] == "reviewer"
        assert me["person"] == {"name": "Dana Reyes", "title": "compliance-officer", "email": None}
        assert setup.keys.reviewer not in answer.text
        cookies = {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}
        session, token = cookies["cognify_session"], cookies["cognify_csrf"]
        assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
        assert "HttpOnly" not in token and "SameSite=strict" in token and "Path=/" in token
        assert "Secure" not in session  # plain HTTP on loopback (COGNIFY_DASHBOARD_SECURE_COOKIES)
        assert setup.keys.reviewer not in session + token
        again = await client.get("/api/session")
        assert again.status_code == 200 and again.json() == me
        csp = again.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert again.headers["x-content-type-options"] == "nosniff"
        assert again.headers["referrer-policy"] == "no-referrer"


async def test_without_a_session_the_api_is_401(setup: Setup) -> None:
    async with httpx.AsyncClient(base_url=setup.url) as client:
        assert (await client.get("/api/session")).status_code == 401
        assert (await client.get("/api/lineage/v1/runs")).status_code == 401
        assert (await client.get("/api/live")).status_code == 401
    forged = {"cognify_session": "forged", "cognify_csrf": "forged"}
    async with httpx.AsyncClient(base_url=setup.url, cookies=forged) as client:
        answer = await client.get("/api/lineage/v1/runs")
        assert answer.status_code == 401


async def test_a_bad_key_is_401_and_an_address_guessing_keys_is_held_off(setup: Setup) -> None:
    guesser = {"X-Forwarded-For": "192.0.2.77"}  # believed: the test talks over loopback
    async with httpx.AsyncClient(base_url=setup.url, headers=guesser) as client:
        statuses = [
            (await client.post("/api/session", json={"api_key": f"cgk_{i:012x}_{'x' * 43}"}))
            for i in range(11)
        ]
        assert [a.status_code for a in statuses[:10]] == [401] * 10
        assert statuses[10].status_code == 429 and int(statuses[10].headers["retry-after"]) > 0
        # even the right key waits: the address is held off, not the key
        late = await client.post("/api/session", json={"api_key": setup.keys.reviewer})
        assert late.status_code == 429
    async with httpx.AsyncClient(base_url=setup.url) as client:  # another address is not
        ok = await client.post("/api/session", json={"api_key": setup.keys.reviewer})
        assert ok.status_code == 200
        form = await client.post(
            "/api/session",
            content=b"api_key=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 415  # a cross-site form cannot sign anyone in


async def test_state_changing_calls_need_the_sessions_csrf_token(setup: Setup) -> None:
    url = f"/api/ingest/v1/runs/{setup.run_id}/annotations"
    note = {"node_id": "ckpt_step_100", "text": "please explain the loss spike"}
    async with browser(setup, setup.keys.reviewer) as a, browser(setup, setup.keys.reviewer) as b:
        assert (await a.post(url, json=note)).status_code == 403
        assert (await a.post(url, json=note, headers={"X-CSRF-Token": "nope"})).status_code == 403
        assert (await a.post(url, json=note, headers=csrf(b))).status_code == 403  # b's token
        assert (await a.delete("/api/session")).status_code == 403
        done = await a.post(url, json=note, headers=csrf(a))
        assert done.status_code == 201, done.text


async def test_paths_outside_the_services_apis_are_never_forwarded(setup: Setup) -> None:
    async with browser(setup, setup.keys.reviewer) as client:
        cookie = f"cognify_session={client.cookies['cognify_session']}"
        assert raw_get(setup.url, "/api/lineage/v1/runs", cookie) == 200
        for path in (
            "/api/lineage/v1/../metrics",
            "/api/lineage/v1/%2e%2e/metrics",
            "/api/lineage/v1/runs/%2E%2E%2F%2E%2E%2Fmetrics",
            "/api/lineage/metrics",
            "/api/lineage/openapi.json",
            "/api/lineage//127.0.0.1:9000/v1/runs",
            "/api/lineage/http://127.0.0.1:9000/v1/runs",
            "/api/postgres/v1/runs",
            "/api/lineage/v1/runs/..",
        ):
            assert raw_get(setup.url, path, cookie) == 404, path


async def test_another_workspaces_run_is_a_404_through_the_dashboard(setup: Setup) -> None:
    async with browser(setup, setup.other.reviewer) as client:
        lineage = await client.get(f"/api/lineage/v1/runs/{setup.run_id}/lineage")
        assert lineage.status_code == 404
        assert (await client.get(f"/api/live?run_id={setup.run_id}")).status_code == 404
        runs = await client.get("/api/lineage/v1/runs")
        assert runs.status_code == 200 and runs.json()["runs"] == []
    async with browser(setup, setup.keys.reviewer) as client:
        lineage = await client.get(f"/api/lineage/v1/runs/{setup.run_id}/lineage")
        assert lineage.status_code == 200
        assert lineage.headers["cache-control"] == "no-store"
        assert {n["id"] for n in lineage.json()["nodes"]} >= {"ckpt_step_100", "model_final"}


async def test_a_writer_key_cannot_approve_and_ingest_says_why(setup: Setup) -> None:
    async with browser(setup, setup.keys.writer) as client:
        me = (await client.get("/api/session")).json()
        assert me["role"] == "writer" and me["person"]["name"].startswith("writer@")
        answer = await client.post(
            f"/api/ingest/v1/runs/{setup.run_id}/approve",
            json={"comment": "looks fine"},
            headers=csrf(client),
        )
        assert answer.status_code == 403
        assert answer.json() == {"error": "role writer may not review"}


async def test_an_approval_names_the_key_holder_and_the_reviewers_address(setup: Setup) -> None:
    async with browser(setup, setup.keys.reviewer, address="198.51.100.23") as client:
        answer = await client.post(
            f"/api/ingest/v1/runs/{setup.run_id}/approve",
            json={"comment": "Provenance reviewed."},
            headers=csrf(client),
        )
        assert answer.status_code == 201, answer.text

        async def approvals() -> list[dict[str, object]]:
            found = await client.get(f"/api/lineage/v1/runs/{setup.run_id}/approvals")
            return list(found.json()["approvals"])

        (approval,) = await eventually(approvals, "lineage to fold the approval")
        reviewer = approval["reviewer"]
        assert isinstance(reviewer, dict)
        assert (reviewer["name"], reviewer["role"]) == ("Dana Reyes", "compliance-officer")

    async def recorded() -> asyncpg.Record | None:
        conn = await asyncpg.connect(setup.dsn)
        try:
            return await conn.fetchrow(
                "SELECT actor, role, address, allowed FROM access_log WHERE action = 'approve'"
                " AND object_id = $1 AND allowed",
                f"run:{setup.run_id}",
            )
        finally:
            await conn.close()

    row = await eventually(recorded, "the approval's access record")
    assert row["address"] == "198.51.100.23" and row["role"] == "reviewer"


async def test_a_new_event_of_the_run_reaches_its_live_stream_within_seconds(setup: Setup) -> None:
    async with (
        browser(setup, setup.keys.reviewer) as client,
        client.stream("GET", f"/api/live?run_id={setup.run_id}") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        while (await anext(lines)) != ": connected":
            pass
        started = time.monotonic()
        note = {"node_id": "model_final", "text": "who signed off the eval set?"}
        done = await client.post(
            f"/api/ingest/v1/runs/{setup.run_id}/annotations", json=note, headers=csrf(client)
        )
        assert done.status_code == 201, done.text

        async def next_event() -> str:
            name = ""
            async for line in lines:
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "event" and "annotation" in line:
                    return line
            raise AssertionError("the stream ended")

        data = await asyncio.wait_for(next_event(), 10)
        elapsed = time.monotonic() - started
        assert '"event_type": "annotation.added"' in data and setup.run_id in data
        assert elapsed < 5, f"{elapsed:.1f} s"


async def test_a_revoked_key_ends_its_sessions_at_the_next_call(setup: Setup) -> None:
    ws = setup.run_id.replace("run-", "ws-")
    conn = await asyncpg.connect(setup.dsn)
    try:
        holder = await workspaces.person(conn, ws, "Lee Park", "auditor")
        issued = await workspaces.issue_key(conn, ws, Role.REVIEWER, "lee", holder)
    finally:
        await conn.close()
    async with browser(setup, issued.key) as client:
        assert (await client.get("/api/lineage/v1/runs")).status_code == 200
        conn = await asyncpg.connect(setup.dsn)
        try:
            assert await workspaces.revoke_key(conn, issued.key_id)
        finally:
            await conn.close()
        assert (await client.get("/api/lineage/v1/runs")).status_code == 401  # lineage says
        assert (await client.get("/api/session")).status_code == 401  # and the session is gone
        again = await client.post("/api/session", json={"api_key": issued.key})
        assert again.status_code == 401


async def test_hash_progress_reaches_the_runs_live_stream(setup: Setup) -> None:
    topic = f"{setup.prefix}{ev.HASH_PROGRESS.name}"
    await ensure_topics(KafkaSettings(), [ev.Topic(topic, 1, "test")])
    ws = setup.run_id.replace("run-", "ws-")
    progress = ev.HashProgress(
        workspace_id=ws,
        project="clinical-nlp",
        run_id=setup.run_id,
        producer=ev.Producer(kind=ev.ProducerKind.HASHER, id="test:1", version="0"),
        payload=ev.HashProgressPayload(
            job_id="job-1",
            target=ev.HashTarget.CHECKPOINT,
            target_id="ckpt_step_200",
            bytes_done=512,
            bytes_total=1024,
        ),
    )
    async with (
        browser(setup, setup.keys.reviewer) as client,
        client.stream("GET", f"/api/live?run_id={setup.run_id}") as stream,
    ):
        lines = stream.aiter_lines()
        while (await anext(lines)) != ": connected":
            pass

        async def hash_line() -> str:
            name = ""
            async for line in lines:
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "hash":
                    return line
            raise AssertionError("the stream ended")

        waiting = asyncio.ensure_future(hash_line())
        # The dashboard looks for a topic that did not exist every 10 s: publish until
        # one message is read (the consumer starts at the topic's end).
        for _ in range(40):
            prod = producer(KafkaSettings())
            await prod.start()
            try:
                await prod.send_and_wait(topic, ev.encode(progress), key=b"job-1")
            finally:
                await prod.stop()
            done, _ = await asyncio.wait({waiting}, timeout=1)
            if done:
                break
        line = await asyncio.wait_for(waiting, 1)
    assert '"node_id": "ckpt_step_200"' in line and '"state": "hashing"' in line
    assert '"bytes_done": 512' in line and '"bytes_total": 1024' in line


async def test_signing_out_ends_the_session_for_good(setup: Setup) -> None:
    async with browser(setup, setup.keys.reviewer) as client:
        old = dict(client.cookies)
        token = csrf(client)
        answer = await client.delete("/api/session", headers=token)
        assert answer.status_code == 204
        assert (await client.get("/api/session")).status_code == 401
    async with httpx.AsyncClient(base_url=setup.url, cookies=old) as replay:
        assert (await replay.get("/api/lineage/v1/runs")).status_code == 401
        assert (await replay.delete("/api/session", headers=token)).status_code == 401


async def test_pages_are_the_single_page_app_under_the_strict_policy(setup: Setup) -> None:
    async with httpx.AsyncClient(base_url=setup.url) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        for path in ("/", "/runs", f"/runs/{setup.run_id}", "/compare?a=x&b=y", "/nowhere"):
            page = await client.get(path)
            # 503 until the web app is built (deploy/bootstrap-tools builds it)
            assert page.status_code in (200, 503), path
            assert "default-src 'self'" in page.headers["content-security-policy"]
        assert (await client.get("/api/nowhere")).status_code == 404
        # each answer counted and timed by route and status (cognify_access.service.Counted)
        text = (await client.get("/metrics")).text
        assert re.search(
            r'^cognify_dashboard_http_requests_total\{route="/healthz",status="200"\} [1-9]',
            text,
            re.MULTILINE,
        ), text[:2000]
        assert 'cognify_dashboard_http_request_duration_seconds_count{route="/healthz"}' in text


async def _revalidated(setup: Setup) -> float:
    """How many GETs the dashboard answered from a kept answer after lineage's 304."""
    async with httpx.AsyncClient(base_url=setup.url) as client:
        text = (await client.get("/metrics")).text
    found = re.search(
        r'^cognify_dashboard_revalidated_total\{outcome="not-modified",service="lineage"\} (\S+)$',
        text,
        re.MULTILINE,
    )
    return float(found[1]) if found else 0.0


async def _send(setup: Setup, *events: ev.Event) -> None:
    prod = producer(KafkaSettings())
    await prod.start()
    try:
        topic = f"{setup.prefix}cognify.events"
        sent = [await prod.send(topic, ev.encode(e), key=ev.partition_key(e)) for e in events]
        await asyncio.gather(*sent)
    finally:
        await prod.stop()


async def _nodes(setup: Setup, run_id: str) -> int:
    """The run's node count in lineage's tables; -1 while the run is not there."""
    conn = await asyncpg.connect(setup.dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM runs WHERE run_id = $1", run_id) is None:
            return -1
        return int(
            await conn.fetchval("SELECT count(*) FROM lineage_nodes WHERE run_id = $1", run_id)
        )
    finally:
        await conn.close()


async def test_kept_answers_are_lineages_word_never_stale_never_another_keys(
    setup: Setup,
) -> None:
    """The dashboard revalidates a GET with the ETag of the answer it kept: lineage checks the
    key, records the read and answers 304 for an unchanged answer; a change folded by lineage
    is in the very next answer; another workspace's key never gets a kept answer."""
    ws = setup.run_id.replace("run-", "ws-")
    late = Script(ws, f"{setup.run_id}-late")
    runs, graph = "/api/lineage/v1/runs?limit=100", f"/api/lineage/v1/runs/{late.run_id}/lineage"
    await _send(setup, late.started())

    async def started() -> bool:
        return await _nodes(setup, late.run_id) >= 0

    await eventually(started, "the late run folded")
    async with browser(setup, setup.keys.reviewer) as client:
        first = await client.get(runs)
        assert first.status_code == 200 and first.headers["etag"].startswith('"runs-')
        assert late.run_id in {r["run_id"] for r in first.json()["runs"]}
        before = await _revalidated(setup)
        again = await client.get(runs)
        assert again.status_code == 200 and again.content == first.content
        assert again.headers["cache-control"] == "no-store"
        shown = await client.get(graph)
        assert shown.status_code == 200 and shown.headers["etag"].startswith('"graph-')
        assert (await client.get(graph)).content == shown.content
        assert await _revalidated(setup) == before + 2

        async with browser(setup, setup.other.reviewer) as theirs:
            other = await theirs.get(runs)
            assert other.status_code == 200 and other.json()["runs"] == []
            assert (await theirs.get(graph)).status_code == 404

        nodes = len(shown.json()["nodes"])
        await _send(setup, late.config())

        async def grown() -> bool:
            return await _nodes(setup, late.run_id) > nodes

        await eventually(grown, "the config node folded")
        now = await client.get(graph)  # the very next answer after the fold
        assert now.status_code == 200 and len(now.json()["nodes"]) > nodes
        assert now.headers["etag"] != shown.headers["etag"]
        await _send(setup, late.ended())

        async def ended() -> bool:
            conn = await asyncpg.connect(setup.dsn)
            try:
                status = await conn.fetchval(
                    "SELECT status FROM runs WHERE run_id = $1", late.run_id
                )
            finally:
                await conn.close()
            return bool(status == "completed")

        await eventually(ended, "the late run's end folded")
        listed = {r["run_id"]: r for r in (await client.get(runs)).json()["runs"]}
        assert listed[late.run_id]["status"] == "completed"
