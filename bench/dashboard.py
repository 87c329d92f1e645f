"""Benchmark: the reviewer dashboard's API under 20 concurrent reviewers (issue 14).

    .venv/bin/python bench/dashboard.py [--runs 10000] [--checkpoints 2000] [--evals 200]
                                        [--log-every 2] [--reviewers 20] [--rounds 2]
                                        [--visits 5] [--against DIR]

Everything real, on the local stack (deploy/stack up), with topics and a database of the
benchmark's own: lineage, ingest and the dashboard run as their own processes; a workspace
is seeded with --runs runs (run.started and run.ended straight onto the canonical topic, as
the services would publish them; a third of them approved, a third rejected) and one run with
--checkpoints checkpoints (each hashed), --evals evaluations, and its loss and learning
rate logged every --log-every steps (10 steps per checkpoint: 20,000 points by default).

Measured, for each API the dashboard's pages call:

- the runs list, a page of 50 at a random offset (`GET /v1/runs?limit=50&offset=N`);
- the big run's lineage graph (`GET /v1/runs/{run}/lineage`);
- the run page's other reads of the big run, in turn: its summary, metric series,
  annotations, approvals, and first 200 events with the chain's verification (p95 by path
  printed too);

by --reviewers clients at once, each signed in with its own session, each sending its
requests one after another with no pause (a harsher load than 20 people reading), asking for
gzip as a browser does. The clients are bench/rawhttp.py's keep-alive HTTP/1.1 GETs: httpx's
cost more CPU per request than the services they measured. The baseline is the same request
straight to lineage with the key (what the dashboard adds is the session lookup, the proxy
hop and the streaming copy); the two are measured alternately, --rounds times each, in the
same run. Printed: p50, p95, p99 and requests/s, the dashboard's p95 against the baseline's,
and the CPU milliseconds each process used per request while its requests ran (ingest,
lineage, the dashboard, and this script's clients; PostgreSQL and Kafka are shared with the
machine and not counted; the lineage figure includes folding the reads' access records). The
clients run on the same 2 cores as the services, Kafka and PostgreSQL: read the figures with
that.

Issue 14's target is an API p95 under 100 ms.

Before and after a change, in the same run: `--against DIR` names another source tree (for
example `git archive <commit> | tar -x -C DIR`) whose ingest, lineage and dashboard run as a
second set of processes (PYTHONPATH to its libs/*/src and services/*/src, this tree's
virtual environment and web build) on a database and topics of their own, seeded alike.
Every round then measures both sets, alternately, with the same clients and paths, and the
table prints both.

The browser's half: Debian's headless chromium (Playwright, executable_path; no browser
download) opens the runs list and the big run's page --visits times, each in a fresh
context (empty cache: the assets are fetched every time), signed in. From navigation start,
in the page's own clock (performance.now): first contentful paint; first meaningful paint,
when what the reviewer came for is on screen (the runs table's first row; the lineage
graph's first node); interactive, when after that the main thread next runs a task (a
frame, then a timer). Printed: median and worst of each. Targets: the runs list
interactive < 0.5 s, the run page < 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import cognify_events as ev
import httpx
import rawhttp  # bench/rawhttp.py, beside this script
import uvloop
from cognify_ingest import workspaces
from cognify_ingest.credentials import Role
from cognify_kafka import KafkaSettings, delete_topics, ensure_topics, producer, scratch_prefix
from cognify_postgres import apply_migrations, scratch_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.unit.lineage.script import Script, root  # noqa: E402 (the scripted run of the tests)

WORKSPACE = "ws-bench-dash"
# The run page's reads of its run, in the order web/src/pages/Run.tsx sends them.
RUN_PAGE = ("", "/lineage", "/metrics", "/annotations", "/approvals", "/events?limit=200")
LOGS: list[Path] = []  # the services' log folders, one per set
PAGE = 50


@dataclass
class Env:
    dsn: str
    prefix: str
    writer: str
    reviewer: str


@contextlib.asynccontextmanager
async def environment(kafka: KafkaSettings) -> AsyncIterator[Env]:
    prefix = scratch_prefix("bench")
    topics = [t.__class__(prefix + t.name, t.partitions, t.purpose) for t in ev.ALL_TOPICS]
    await ensure_topics(kafka, topics)
    try:
        async with scratch_database("bench") as dsn:
            conn = await asyncpg.connect(dsn)
            try:
                await apply_migrations(conn)
                await workspaces.create_workspace(conn, WORKSPACE, "Dashboard benchmark")
                writer = (await workspaces.issue_key(conn, WORKSPACE, Role.WRITER, "bench")).key
                holder = await workspaces.person(conn, WORKSPACE, "Bench Reviewer", "reviewer")
                reviewer = await workspaces.issue_key(
                    conn, WORKSPACE, Role.REVIEWER, "bench reviewer", holder
                )
            finally:
                await conn.close()
            yield Env(dsn, prefix, writer, reviewer.key)
    finally:
        await delete_topics(kafka, prefix)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def source_path(tree: Path) -> str:
    """PYTHONPATH that runs the packages of another source tree (--against)."""
    dirs = sorted(tree.glob("libs/*/src")) + sorted(tree.glob("services/*/src"))
    return os.pathsep.join(str(d.resolve()) for d in dirs)


@contextlib.contextmanager
def services(
    env: Env, kafka: KafkaSettings, tree: Path | None = None, pids: dict[str, int] | None = None
) -> Iterator[dict[str, str]]:
    ports = {name: free_port() for name in ("ingest", "lineage", "dashboard")}
    other = {} if tree is None else {"PYTHONPATH": source_path(tree)}
    web = ROOT / "services/dashboard/web/dist"
    environ = {
        **os.environ,
        **other,
        "COGNIFY_DASHBOARD_WEB_DIST": str(web),
        "COGNIFY_PG_DSN": env.dsn,
        "COGNIFY_KAFKA_BOOTSTRAP": kafka.bootstrap_servers,
        "COGNIFY_TOPIC_PREFIX": env.prefix,
        "COGNIFY_INGEST_GROUP": f"{env.prefix}ingest",
        "COGNIFY_LINEAGE_GROUP": f"{env.prefix}lineage",
        "COGNIFY_MIGRATE": "0",
        **{f"COGNIFY_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()},
    }
    # Each service's log, kept for when a request fails (the failure names them).
    logs = Path(tempfile.mkdtemp(prefix=f"{env.prefix}logs-"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", f"cognify_{name}"],
            env=environ,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"{name}.log").open("wb"),
        )
        for name in ports
    ]
    LOGS.append(logs)
    if pids is not None:
        pids.update({name: proc.pid for name, proc in zip(ports, procs, strict=True)})
    try:
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def many_runs(count: int) -> list[ev.Event]:
    """run.started and run.ended of `count` runs over 5 projects, a third approved and a
    third rejected (what the runs list filters on)."""
    out: list[ev.Event] = []
    for i in range(count):
        s = Script(WORKSPACE, f"run-{i:05d}", project=f"project-{i % 5}")
        s.t0 += timedelta(seconds=i)
        out += [s.started(), s.ended(ev.RunStatus.COMPLETED if i % 7 else ev.RunStatus.FAILED)]
        if i % 3:
            verdict = ev.RunApproved if i % 3 == 1 else ev.RunRejected
            payload = ev.DecisionPayload(
                reviewer=ev.Reviewer(name="Bench Reviewer", role="reviewer"), comment="ok"
            )
            out.append(verdict(**s.env(numbered=False), payload=payload))
    return out


def big_run(checkpoints: int, evals: int, log_every: int = 2) -> tuple[str, list[ev.Event]]:
    """A run of 10 steps per checkpoint, its loss and learning rate logged every
    `log_every` steps (0: none), an evaluation after every checkpoints/evals-th."""
    s = Script(WORKSPACE, "run-big", project="project-big")
    events: list[ev.Event] = [
        s.started(),
        s.config(),
        s.dataset("ds_notes_v3", merkle_root=root(1)),
    ]
    every = max(1, checkpoints // max(1, evals))
    for n in range(1, checkpoints + 1):
        if log_every > 0:
            steps = range((n - 1) * 10 + 1, n * 10 + 1)
            events += [s.metrics(t, 2.0 / (1 + t / 500)) for t in steps if t % log_every == 0]
        events.append(s.checkpoint(n * 10))
        if n % every == 0 and n // every <= evals:
            events.append(s.evaluation(n * 10))
    events += [s.model(f"ckpt_step_{checkpoints * 10}"), s.ended()]
    events += [
        s.hashed(ev.HashTarget.CHECKPOINT, f"ckpt_step_{n * 10}", root(n + 10))
        for n in range(1, checkpoints + 1)
    ]
    return s.run_id, events


async def publish(kafka: KafkaSettings, topic: str, events: list[ev.Event]) -> None:
    prod = producer(kafka, linger_ms=20)
    await prod.start()
    try:
        futures = [await prod.send(topic, ev.encode(e), key=ev.partition_key(e)) for e in events]
        await asyncio.gather(*futures)
    finally:
        await prod.stop()


async def wait_for(what: str, probe: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def load(
    clients: list[rawhttp.Client],
    paths: Callable[[], str],
    per_client: int,
    by_path: dict[str, list[float]] | None = None,
) -> tuple[list[float], float]:
    """Each client sends `per_client` requests one after another, all clients at once:
    each request's seconds (also into `by_path` under the path without its query), and
    the wall time."""
    times: list[float] = []

    async def reviewer(client: rawhttp.Client) -> None:
        for _ in range(per_client):
            path = paths()
            started = time.perf_counter()
            answer = await client.get(path)
            if answer.status != 200:
                raise SystemExit(
                    f"{path}: {answer.status} {answer.text[:200]} "
                    f"(the services' logs: {', '.join(map(str, LOGS))})"
                )
            took = time.perf_counter() - started
            times.append(took)
            if by_path is not None:
                by_path.setdefault(path.split("?")[0], []).append(took)

    started = time.perf_counter()
    await asyncio.gather(*(reviewer(c) for c in clients))
    return times, time.perf_counter() - started


def row(label: str, times: list[float], wall: float) -> None:
    ms = [t * 1000 for t in times]
    print(
        f"  {label:<34} p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  "
        f"p99 {pct(ms, 99):7.1f} ms  {len(ms) / wall:7.1f} req/s",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--checkpoints", type=int, default=2_000)
    parser.add_argument("--evals", type=int, default=200)
    parser.add_argument(
        "--log-every", type=int, default=2, help="the big run's metrics every N steps (0: none)"
    )
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--visits", type=int, default=5, help="browser visits of each page (0: none)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another source tree measured in the same run, alternately (e.g. the commit before)",
    )
    args = parser.parse_args()
    kafka = KafkaSettings()
    big, big_events = big_run(args.checkpoints, args.evals, args.log_every)
    events = many_runs(args.runs) + big_events
    trees: list[tuple[str, Path | None]] = [("this tree", None)]
    if args.against is not None:
        trees.append(("against", args.against))
    async with contextlib.AsyncExitStack() as stack:
        variants: list[Variant] = []
        for name, tree in trees:
            env = await stack.enter_async_context(environment(kafka))
            pids: dict[str, int] = {}
            urls = stack.enter_context(services(env, kafka, tree, pids))
            variants.append(Variant(name, urls, env, pids))
        started = time.perf_counter()
        for v in variants:
            await seed(args, kafka, v, big, events)
        points = sum(len(e.payload.metrics) for e in big_events if isinstance(e, ev.MetricsLogged))
        print(
            f"seeded {args.runs:,} runs and one of {args.checkpoints:,} checkpoints, "
            f"{args.evals} evaluations and {points:,} metric points "
            f"in {time.perf_counter() - started:.1f} s"
            + (f" ({len(variants)} sets of services)" if len(variants) > 1 else ""),
            flush=True,
        )
        await measure(args, variants, big)
        if args.visits > 0:
            await paint(args, variants[0].urls["dashboard"], variants[0].env.reviewer, big)


@dataclass
class Variant:
    """One set of services (this tree's, or --against's) on its own database and topics."""

    name: str
    urls: dict[str, str]
    env: Env
    pids: dict[str, int] = field(default_factory=dict)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def seed(
    args: argparse.Namespace, kafka: KafkaSettings, v: Variant, big: str, events: list[ev.Event]
) -> None:
    async with httpx.AsyncClient() as probe:

        async def healthy() -> bool:
            try:
                for url in v.urls.values():
                    if (await probe.get(f"{url}/healthz")).status_code != 200:
                        return False
            except httpx.HTTPError:
                return False
            return True

        await wait_for(f"{v.name}: the services to answer /healthz", healthy, 120)
    await publish(kafka, v.env.prefix + ev.EVENTS.name, events)
    pool = await asyncpg.create_pool(v.env.dsn, min_size=1, max_size=2)
    try:

        async def folded() -> bool:
            runs = await pool.fetchval("SELECT count(*) FROM runs")
            hashed = await pool.fetchval(
                "SELECT count(*) FROM lineage_nodes WHERE run_id = $1 AND hash_status = 'computed'",
                big,
            )
            return bool(runs == args.runs + 1 and hashed >= args.checkpoints)

        await wait_for(f"{v.name}: lineage to fold the seeded workspace", folded, 900)
        # What autovacuum does after a bulk load, done now rather than whenever it
        # comes round: without statistics the planner sorts the whole workspace.
        await pool.execute("VACUUM ANALYZE runs")

        # And what lineage's anchorer does after it (every 60 s): anchor each new chain in
        # the object store, 10,000 of them here. Reviewers meet a workspace whose chains
        # are anchored; measured while the first anchoring ran, it took a quarter of
        # lineage's CPU (py-spy) and the figures measured the bulk load, not the reads.
        async def anchored() -> bool:
            behind = await pool.fetchval(
                """SELECT count(*) FROM chain_heads h LEFT JOIN chain_anchors a USING (chain_id)
                   WHERE a.chain_id IS NULL OR a.length < h.length"""
            )
            return bool(behind == 0)

        await wait_for(f"{v.name}: lineage to anchor the seeded chains", anchored, 1200)
    finally:
        await pool.close()


async def measure(args: argparse.Namespace, variants: list[Variant], big: str) -> None:
    # The browser's wish (gzip) on every request; the clients are bench/rawhttp.py's, so
    # that their own CPU does not crowd out the services they measure on the same cores.
    wish = {"Accept-Encoding": "gzip"}
    clients: dict[str, list[rawhttp.Client]] = {}
    async with httpx.AsyncClient() as signer:
        for v in variants:
            clients[f"{v.name}|direct"] = [
                rawhttp.Client(
                    v.urls["lineage"], {"Authorization": f"Bearer {v.env.reviewer}", **wish}
                )
                for _ in range(args.reviewers)
            ]
            signed: list[rawhttp.Client] = []
            for _ in range(args.reviewers):  # each reviewer signed in with its own session
                answer = await signer.post(
                    f"{v.urls['dashboard']}/api/session", json={"api_key": v.env.reviewer}
                )
                answer.raise_for_status()
                cookie = "; ".join(f"{k}={c}" for k, c in answer.cookies.items())
                signer.cookies.clear()
                signed.append(
                    rawhttp.Client(f"{v.urls['dashboard']}/api/lineage", {"Cookie": cookie, **wish})
                )
            clients[f"{v.name}|dashboard"] = signed
    by_name = {v.name: v for v in variants}
    try:
        pages = max(1, args.runs // PAGE)

        def runs_page() -> str:
            return f"/v1/runs?limit={PAGE}&offset={random.randrange(pages) * PAGE}"

        def lineage() -> str:
            return f"/v1/runs/{big}/lineage"

        # The run page's other reads, in turn.
        others = itertools.cycle(f"/v1/runs/{big}{rest}" for rest in RUN_PAGE if rest != "/lineage")

        def run_page() -> str:
            return next(others)

        first = clients[f"{variants[0].name}|direct"][0]
        # What a reviewer who opens the big run first meets: each read alone, nothing about
        # the run kept yet (the run page's reads, in the order the page sends them).
        alone = []
        for rest in RUN_PAGE:
            started = time.perf_counter()
            answer = await first.get(f"/v1/runs/{big}{rest}")
            alone.append(
                f"{rest.split('?')[0] or '/'} {(time.perf_counter() - started) * 1000:.0f}"
            )
            assert answer.status == 200, (rest, answer.status, answer.text[:200])
        print(f"the big run's first reads, alone, lineage directly (ms): {', '.join(alone)}")
        size = len((await first.get(lineage(), {"Accept-Encoding": "identity"})).body)
        sent = len((await first.get(lineage())).body)
        print(
            f"{args.reviewers} reviewers at once, each request after the previous one's answer; "
            f"lineage graph {size / 1e6:.2f} MB ({sent / 1e3:.0f} kB as sent with gzip)",
            flush=True,
        )
        for label, path, per_client in (
            ("runs list (page of 50)", runs_page, 25),
            ("run lineage (big run)", lineage, 3),
            ("run page's other reads (big run)", run_page, 5),
        ):
            for group in clients.values():
                await load(group, path, 1)  # warm: connections, caches, plans
            seen: dict[str, list[float]] = {name: [] for name in clients}
            walls: dict[str, float] = {name: 0.0 for name in clients}
            used: dict[str, dict[str, float]] = {name: {} for name in clients}
            paths: dict[str, dict[str, list[float]]] = {name: {} for name in clients}
            order = list(clients.items())
            for n in range(args.rounds):
                for name, group in order if n % 2 == 0 else order[::-1]:
                    pids = {**by_name[name.split("|")[0]].pids, "clients": os.getpid()}
                    before = {k: cpu_seconds(pid) for k, pid in pids.items()}
                    times, wall = await load(group, path, per_client, paths[name])
                    for k, pid in pids.items():
                        used[name][k] = used[name].get(k, 0.0) + cpu_seconds(pid) - before[k]
                    seen[name] += times
                    walls[name] += wall
            print(label)
            for v in variants:
                direct, dash = f"{v.name}|direct", f"{v.name}|dashboard"
                prefix = f"{v.name}: " if len(variants) > 1 else ""
                row(f"{prefix}lineage directly (baseline)", seen[direct], walls[direct])
                row(f"{prefix}through the dashboard", seen[dash], walls[dash])
                for name in (direct, dash):
                    per = {k: 1000 * v / len(seen[name]) for k, v in used[name].items()}
                    print(
                        f"    CPU ms per request, {name.split('|')[1]}: "
                        + ", ".join(f"{k} {ms:.2f}" for k, ms in per.items())
                    )
                if len(paths[dash]) > 1:
                    print(
                        "    p95 by path, through the dashboard: "
                        + ", ".join(
                            f"{p.removeprefix(f'/v1/runs/{big}') or '/'} {pct(t, 95) * 1000:.1f} ms"
                            for p, t in paths[dash].items()
                        )
                    )
                ratio = pct(seen[dash], 95) / pct(seen[direct], 95)
                target = "meets" if pct(seen[dash], 95) < 0.1 else "misses"
                print(
                    f"  {prefix}dashboard p95 / baseline p95: {ratio:.2f}x "
                    f"({target} the 100 ms target)"
                )
            if len(variants) > 1:
                for kind in ("direct", "dashboard"):
                    mine = pct(seen[f"{variants[0].name}|{kind}"], 95)
                    theirs = pct(seen[f"{variants[1].name}|{kind}"], 95)
                    print(f"  {kind}: p95 this tree / against: {mine / theirs:.2f}x")
    finally:
        for group in clients.values():
            for client in group:
                await client.aclose()


CHROMIUM = "/usr/bin/chromium"
# In the page: wait for `selector`, return performance.now() at that frame.
FIRST = "(sel) => document.querySelector(sel) ? performance.now() : null"
IDLE = (
    "() => new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()))))"
)
FCP = "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
PAGES = (
    ("runs list ({runs:,} runs)", "/runs", 'table[aria-label="Runs"] tbody tr a', 0.5),
    (
        "run page ({checkpoints:,} ckpts)",
        "/runs/{big}",
        '[aria-label="Lineage graph"] [role="button"]',
        1.5,
    ),
)


async def visit(page: Any, path: str, selector: str) -> dict[str, float]:
    """One navigation: seconds from its start to first contentful paint, to `selector`
    on screen, and to the main thread's next task after that."""
    await page.goto(path, wait_until="commit")
    found = await page.wait_for_function(FIRST, arg=selector, polling="raf", timeout=60_000)
    meaningful = await found.json_value()
    interactive = await page.evaluate(IDLE)
    fcp = await page.evaluate(FCP)
    return {
        "fcp": (fcp or 0) / 1000,
        "meaningful": meaningful / 1000,
        "interactive": interactive / 1000,
    }


async def paint(args: argparse.Namespace, url: str, key: str, big: str) -> None:
    """First contentful and meaningful paint and interactive, in headless chromium: each
    visit in a fresh context (cold: every asset fetched), then once more in it (warm)."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: deploy/bootstrap-tools installs it")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            print(f"headless chromium, {args.visits} visits of each page (median, worst)")
            for label, path, selector, target in PAGES:
                seen: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
                for _ in range(args.visits):
                    context = await browser.new_context(
                        base_url=url, viewport={"width": 1440, "height": 900}
                    )
                    try:
                        signed = await context.request.post("/api/session", data={"api_key": key})
                        if signed.status != 200:
                            raise SystemExit(f"sign-in: {signed.status} {await signed.text()}")
                        page = await context.new_page()
                        for cache in ("cold", "warm"):
                            seen[cache].append(await visit(page, path.format(big=big), selector))
                    finally:
                        await context.close()
                print(f"  {label.format(runs=args.runs, checkpoints=args.checkpoints)}")
                for cache, visits in seen.items():
                    ms = {k: sorted(v[k] * 1000 for v in visits) for k in visits[0]}
                    med = {k: v[len(v) // 2] for k, v in ms.items()}
                    verdict = "meets" if med["interactive"] < target * 1000 else "misses"
                    print(
                        f"    {cache} cache: FCP {med['fcp']:5.0f} ms  meaningful "
                        f"{med['meaningful']:5.0f} ms  interactive {med['interactive']:5.0f} ms "
                        f"(worst {ms['interactive'][-1]:.0f} ms): {verdict} the "
                        f"{target:.1f} s target",
                        flush=True,
                    )
        finally:
            await browser.close()


if __name__ == "__main__":
    uvloop.run(main())
