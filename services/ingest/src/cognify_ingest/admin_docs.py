"""`cognify-admin docs`: set or clear the workspace's organisation documentation through
ingest's API, with an admin key, so the change is an event naming the key's holder (the
CLI never writes it to the database itself).

    cognify-admin docs set intended_use "Drafting discharge summaries for clinician review"
    cognify-admin docs set incident_policy_url https://example.org/security/incidents
    cognify-admin docs clear phi_handling
    cognify-admin set-tier healthcare        (the workspace's compliance tier, likewise an
                                              event naming the key's holder)
    (--workspace WS, default the key's; --url, default $COGNIFY_INGEST_URL or
     http://127.0.0.1:8080; --key, default $COGNIFY_ADMIN_KEY)
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from typing import Any

from cognify_events import REQUIRED_PROVENANCE, DocField

FIELDS = [f.value for f in DocField]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    docs = sub.add_parser("docs", help="set or clear the workspace's organisation documentation")
    docs.add_argument("action", choices=["set", "clear"])
    docs.add_argument("field", choices=FIELDS)
    docs.add_argument("value", nargs="?", help="the text (set); '-' reads it from stdin")
    docs.add_argument("--workspace", required=True)
    docs.add_argument("--url", default=os.environ.get("COGNIFY_INGEST_URL"))
    docs.add_argument("--key", default=os.environ.get("COGNIFY_ADMIN_KEY"))


def add_tier_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tier = sub.add_parser(
        "set-tier", help="change the workspace's compliance tier (through ingest's API)"
    )
    tier.add_argument("tier", choices=sorted(REQUIRED_PROVENANCE))
    tier.add_argument("--workspace", required=True)
    tier.add_argument("--url", default=os.environ.get("COGNIFY_INGEST_URL"))
    tier.add_argument("--key", default=os.environ.get("COGNIFY_ADMIN_KEY"))


def run_tier(args: argparse.Namespace) -> str:
    answer = _call(args, "PUT", "tier", {"tier": args.tier}, "set-tier")
    if answer["event_id"] is None:
        return f"{args.workspace} already is {answer['compliance_tier']}: nothing changed"
    return (
        f"{args.workspace}: compliance tier {answer['previous_tier']} -> "
        f"{answer['compliance_tier']} by {answer['changed_by']} (event {answer['event_id']})"
    )


def _call(
    args: argparse.Namespace, method: str, what: str, payload: object, command: str
) -> dict[str, Any]:
    if not args.key:
        raise SystemExit(
            f"cognify-admin: {command} needs an admin key (--key or $COGNIFY_ADMIN_KEY)"
        )
    base = (args.url or "http://127.0.0.1:8080").rstrip("/")
    request = urllib.request.Request(
        f"{base}/v2/workspaces/{args.workspace}/{what}",
        data=json.dumps(payload).encode(),
        method=method,
        headers={"Authorization": f"Bearer {args.key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise SystemExit(
            f"cognify-admin: ingest refused the change ({exc.code}): {detail}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"cognify-admin: cannot reach ingest at {base}: {exc}") from None
    return answer


def body(args: argparse.Namespace, stdin: str | None = None) -> dict[str, str | None]:
    if args.action == "clear":
        return {args.field: None}
    value = stdin if args.value == "-" else args.value
    if not value or not value.strip():
        raise SystemExit(f"cognify-admin: docs set {args.field} needs the text to set")
    return {args.field: value}


def run(args: argparse.Namespace, stdin: str | None = None) -> str:
    answer = _call(args, "PATCH", "documentation", body(args, stdin), "docs")
    done = "set" if args.action == "set" else "cleared"
    return f"{args.field} {done} by {answer['updated_by']} (event {answer['event_id']})"
