"""The main job: the whole product on the local stack, end to end.

Brings up the stack and the services, creates the demo workspace and its keys (once), runs
the walkthrough's fine-tune (tiny model) through the SDK, waits until lineage has the run,
has a reviewer approve it, and — when the exporter is built — seals it and exports PDF, JSON
and XLSX to WORM storage, downloads and verifies them. Prints where everything is, and ends
with the reviewer dashboard's address and a reviewer key to sign in with. Every step says
what it does; a step that cannot run says why and the job fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv/bin/python")
STATE = Path(
    os.environ.get("COGNIFY_DEMO_DIR")
    or Path(os.environ.get("COGNIFY_STATE", Path.home() / ".local/state/cognify")) / "demo"
)
WORKSPACE = "ws-demo"
INGEST = f"http://127.0.0.1:{os.environ.get('COGNIFY_INGEST_HTTP_PORT', '8080')}"
LINEAGE = f"http://127.0.0.1:{os.environ.get('COGNIFY_LINEAGE_HTTP_PORT', '8081')}"
DASHBOARD = f"http://127.0.0.1:{os.environ.get('COGNIFY_DASHBOARD_HTTP_PORT', '8083')}"


def step(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m", flush=True)


def fail(text: str) -> None:
    print(f"\033[31mdemo failed:\033[0m {text}", file=sys.stderr)
    sys.exit(1)


def run(*cmd: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        text=True,
        capture_output=capture,
        check=False,
    )
    if done.returncode != 0:
        fail(f"{' '.join(cmd)} exited {done.returncode}\n{done.stderr if capture else ''}")
    return done.stdout if capture else ""


def http(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {url}: {exc.code} {exc.read().decode()[:500]}") from None


def keys() -> dict[str, str]:
    """The demo workspace's writer and reviewer keys, created on the first run (the reviewer
    key is Dr. Ana Ortiz's: approvals name the key's holder, never a name in the body)."""
    path = STATE / "keys-v2.json"
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    STATE.mkdir(parents=True, exist_ok=True)
    admin = str(ROOT / ".venv/bin/cognify-admin")
    created = subprocess.run(
        [
            admin,
            "create-workspace",
            "--id",
            WORKSPACE,
            "--name",
            "Cognify demo",
            "--tier",
            "healthcare",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        fail(created.stderr)
    found = {
        role: run(
            admin,
            "issue-key",
            "--workspace",
            WORKSPACE,
            "--role",
            role,
            "--label",
            f"demo {role}",
            *(
                ["--name", "Dr. Ana Ortiz", "--title", "compliance officer"]
                if role != "writer"
                else []
            ),
            capture=True,
        ).strip()
        for role in ("writer", "reviewer")
    }
    path.write_text(json.dumps(found))
    path.chmod(0o600)
    return found


def wait_for_lineage(run_id: str, key: str, timeout_s: float = 180) -> dict[str, Any]:
    """The run's graph once it has ended and the hasher pool has answered every hash job."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = http("GET", f"{LINEAGE}/v1/runs/{run_id}/lineage", key)
            pending = [n for n in last["nodes"] if n.get("hash_status") == "pending"]
            if last.get("status") not in (None, "running") and not pending:
                return last  # type: ignore[no-any-return]
        except RuntimeError as exc:
            last = str(exc)
        time.sleep(1)
    fail(f"lineage did not show run {run_id} as ended within {timeout_s} s (last: {last})")
    raise AssertionError


def dashboard(run_id: str, reviewer_key: str) -> None:
    """Where a reviewer continues in the browser: the dashboard's address and a key to sign
    in with (the key is the reviewer's credential: keep it as you would a password)."""
    step("the reviewer's dashboard")
    try:
        with urllib.request.urlopen(f"{DASHBOARD}/healthz", timeout=5) as response:
            up = response.status == 200
    except OSError:
        up = False
    if not up:
        fail(f"the dashboard does not answer at {DASHBOARD} (deploy/services logs dashboard)")
    print(f"  open        {DASHBOARD}/runs/{run_id}")
    print("  sign in as  Dr. Ana Ortiz (compliance officer), reviewer key:")
    print(f"              {reviewer_key}")


def main() -> None:
    step("local stack: Kafka, PostgreSQL, MinIO")
    run(str(ROOT / "deploy/stack"), "up")
    env = dict(
        line.removeprefix("export ").split("=", 1)
        for line in run(str(ROOT / "deploy/stack"), "env", capture=True).splitlines()
    )
    os.environ.update(env)
    step("services")
    run(str(ROOT / "deploy/services"), "up")
    print(run(str(ROOT / "deploy/services"), "status", capture=True), end="")
    step(f"workspace {WORKSPACE} and its keys")
    k = keys()
    print(f"writer and reviewer keys in {STATE / 'keys.json'}")

    step("the walkthrough's fine-tune, audited (examples/walkthrough.py)")
    data = STATE / "data"
    out = run(
        PY,
        str(ROOT / "examples/walkthrough.py"),
        str(data),
        capture=True,
        env={
            "COGNIFY_API_KEY": k["writer"],
            "COGNIFY_WORKSPACE_ID": WORKSPACE,
            "COGNIFY_COMPLIANCE_TIER": "healthcare",
            "TOKENIZERS_PARALLELISM": "false",
        },
    )
    run_id = next(x for x in out.splitlines() if x.startswith("run_id=")).split("=", 1)[1]
    print(f"run {run_id} finished; events delivered")

    step("lineage: the run's graph as the reviewer sees it")
    graph = wait_for_lineage(run_id, k["reviewer"])
    graph_path = STATE / f"{run_id}.lineage.json"
    graph_path.write_text(json.dumps(graph, indent=2))
    for node in graph["nodes"]:
        shown = node.get("hash") or f"(hash {node.get('hash_status', 'pending')})"
        print(f"  {node['type']:11} {node['id']:42} {shown}")
    print(f"  {len(graph['edges'])} edges; status {graph['status']}; saved to {graph_path}")
    events = http("GET", f"{LINEAGE}/v1/runs/{run_id}/events", k["reviewer"])
    print(f"  event chain: {json.dumps(events.get('chain', events.get('verification')))[:200]}")

    step("review: approve the run")
    http(
        "POST",
        f"{INGEST}/v1/runs/{run_id}/approve",
        k["reviewer"],
        {"comment": "Provenance and evaluation reviewed."},
    )
    print("approved by Dr. Ana Ortiz (compliance officer)")

    exporter = subprocess.run(
        [PY, "-c", "import cognify_exporter.app"], capture_output=True, check=False
    )
    if exporter.returncode != 0:
        step("seal and export: the exporter is not built yet (issue #6); stopping here")
        print(f"\nrun {run_id}: recorded, in lineage, approved. Lineage graph: {graph_path}")
        dashboard(run_id, k["reviewer"])
        return
    step("seal and export PDF, JSON and XLSX to WORM storage; download and verify")
    exports = STATE / "audit-packages"
    exports.mkdir(exist_ok=True)
    cli = str(ROOT / ".venv/bin/cognify")
    for fmt in ("json", "pdf", "xlsx"):
        target = exports / f"{run_id}-audit.{fmt}"
        run(
            cli,
            "export",
            "--run-id",
            run_id,
            "--format",
            fmt,
            "--template",
            "healthcare",
            "--output",
            str(target),
            env={"COGNIFY_API_KEY": k["reviewer"]},
        )
        # the key `cognify export` fetched by the authenticated API, not one the package brought
        run(cli, "verify-package", str(target), "--key", f"{target}.pub.pem")
        print(f"  {fmt:5} {target} (verified)")

    step("an auditor's offline check: each checkpoint directory against the sealed package")
    package = exports / f"{run_id}-audit.json"
    document = json.loads(package.read_text())
    for entry in [*document["checkpoints"], document["model"]]:
        if not entry or "manifest" not in entry or not Path(entry["path"] or "").is_dir():
            continue
        args = ["checkpoint", entry["path"], "--package", str(package), "--checkpoint", entry["id"]]
        args += ["--key", f"{package}.pub.pem"]
        run(cli, "verify", *args, "--progress", "never", capture=True)
        print(f"  {entry['id']:20} {len(entry['manifest'])} files match the package")
    print(f"\nrun {run_id}: sealed and exported. Packages: {exports}")
    dashboard(run_id, k["reviewer"])


if __name__ == "__main__":
    main()
