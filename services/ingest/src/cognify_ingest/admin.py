"""The admin CLI: `cognify-admin` (or `python -m cognify_ingest.admin`).

    cognify-admin create-workspace --id ws-clinical --name "Clinical NLP" [--tier healthcare]
    cognify-admin issue-key --workspace ws-clinical --role writer [--label ci-gpu-pool]
    cognify-admin revoke-key --key-id 0123456789ab
    cognify-admin set-retention-floor --workspace ws-clinical --years 6
    cognify-admin migrate

`issue-key` prints the key once; only its hashes are stored, so it cannot be shown again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg  # noqa: TID251 (the CLI is an entry point that talks to the database)
from cognify_postgres import PostgresSettings, apply_migrations

from . import workspaces
from .credentials import Role
from .retention import TIER_FLOORS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cognify-admin", description=__doc__.split("\n")[0])
    p.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: $COGNIFY_PG_DSN)")
    sub = p.add_subparsers(dest="command", required=True)
    ws = sub.add_parser("create-workspace", help="create a workspace")
    ws.add_argument("--id", required=True)
    ws.add_argument("--name", required=True)
    ws.add_argument("--tier", default="standard", choices=sorted(TIER_FLOORS))
    key = sub.add_parser("issue-key", help="issue an API key and print it once")
    key.add_argument("--workspace", required=True)
    key.add_argument("--role", required=True, choices=[r.value for r in Role])
    key.add_argument("--label", default="", help="who or what holds the key (shown in audits)")
    rev = sub.add_parser("revoke-key", help="revoke a key by its id")
    rev.add_argument("--key-id", required=True)
    floor = sub.add_parser("set-retention-floor", help="the minimum retention of a workspace")
    floor.add_argument("--workspace", required=True)
    floor.add_argument("--years", type=int, required=True)
    sub.add_parser("migrate", help="apply the database migrations")
    return p


async def run(args: argparse.Namespace) -> str:
    conn = await asyncpg.connect(args.dsn or PostgresSettings().dsn)
    try:
        await apply_migrations(conn)
        match args.command:
            case "create-workspace":
                await workspaces.create_workspace(conn, args.id, args.name, args.tier)
                return f"workspace {args.id} created ({args.tier})"
            case "issue-key":
                issued = await workspaces.issue_key(
                    conn, args.workspace, Role(args.role), args.label
                )
                return issued.key
            case "revoke-key":
                if not await workspaces.revoke_key(conn, args.key_id):
                    raise SystemExit(f"no active key {args.key_id}")
                return f"key {args.key_id} revoked"
            case "set-retention-floor":
                await workspaces.set_floor(conn, args.workspace, args.years)
                return f"retention floor of {args.workspace} set to {args.years} years"
            case _:
                return "migrations applied"
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        print(asyncio.run(run(args)))
    except asyncpg.UniqueViolationError as exc:
        sys.exit(f"cognify-admin: already exists: {exc.detail or exc}")
    except asyncpg.ForeignKeyViolationError:
        sys.exit("cognify-admin: no such workspace")


if __name__ == "__main__":
    main()
