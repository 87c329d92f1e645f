"""The admin CLI: `cognify-admin` (or `python -m cognify_ingest.admin`).

    cognify-admin create-workspace --id ws-clinical --name "Clinical NLP" [--tier healthcare]
    cognify-admin issue-key --workspace ws-clinical --role writer [--label ci-gpu-pool]
    cognify-admin issue-key --workspace ws-clinical --role reviewer --name "Dr. Ana Ortiz" \
        --title "Compliance officer" [--email ana@example.org]
    cognify-admin rotate-key --key-id 0123456789ab      (same person and role; old revoked)
    cognify-admin revoke-key --key-id 0123456789ab
    cognify-admin list-keys --workspace ws-clinical      (every key and its holder, revoked too)
    cognify-admin seal-keys --workspace ws-clinical      (the public seal keys, with history)
    cognify-admin service-logins   (each service's role may log in, with the password in
                                    $COGNIFY_PG_<SERVICE>_PASSWORD, e.g. ..._LINEAGE_...)
    cognify-admin set-retention-floor --workspace ws-clinical --years 6
    cognify-admin docs set intended_use "..." --workspace ws-clinical --key $ADMIN_KEY
                                   (organisation documentation, through the API: admin_docs.py)
    cognify-admin set-tier healthcare --workspace ws-clinical --key $ADMIN_KEY
                                   (the compliance tier, through the API: an event naming who)
    cognify-admin migrate

`issue-key` prints the key once; only its hashes are stored, so it cannot be shown again.
Reviewer and admin keys are people: they need the holder's name and title, which every
annotation, approval, rejection, documented diff and seal request made with the key carries
(never a name from the request body). docs/spec/trust.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys

import asyncpg  # noqa: TID251 (the CLI is an entry point that talks to the database)
from cognify_postgres import PostgresSettings, apply_migrations

from . import admin_docs, workspaces
from .credentials import Person, Role
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
    key.add_argument("--name", help="the holder's printed name (required for reviewer, admin)")
    key.add_argument("--title", help="the holder's title, e.g. Compliance officer (likewise)")
    key.add_argument("--email", help="the holder's email")
    rot = sub.add_parser("rotate-key", help="a new key for the same holder; the old one revoked")
    rot.add_argument("--key-id", required=True)
    rev = sub.add_parser("revoke-key", help="revoke a key by its id")
    rev.add_argument("--key-id", required=True)
    keys = sub.add_parser("list-keys", help="every key of a workspace and who holds it")
    keys.add_argument("--workspace", required=True)
    seal = sub.add_parser("seal-keys", help="the workspace's public seal keys, with history")
    seal.add_argument("--workspace", required=True)
    floor = sub.add_parser("set-retention-floor", help="the minimum retention of a workspace")
    floor.add_argument("--workspace", required=True)
    floor.add_argument("--years", type=int, required=True)
    admin_docs.add_parser(sub)
    admin_docs.add_tier_parser(sub)
    sub.add_parser("migrate", help="apply the database migrations")
    sub.add_parser(
        "service-logins",
        help="let each service's role log in, password from $COGNIFY_PG_<SERVICE>_PASSWORD",
    )
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
                return await _issue(conn, args)
            case "rotate-key":
                async with conn.transaction():
                    issued = await workspaces.rotate_key(conn, args.key_id)
                if issued is None:
                    raise SystemExit(f"no active key {args.key_id}")
                print(f"key {args.key_id} revoked; its holder's new key:", file=sys.stderr)
                return issued.key
            case "list-keys":
                rows = await workspaces.key_holders(conn, args.workspace)
                return json.dumps(rows, default=str, indent=2)
            case "service-logins":
                return await _service_logins(conn)
            case "seal-keys":
                return json.dumps(await _seal_keys(conn, args.workspace), indent=2)
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


async def _issue(conn: asyncpg.Connection, args: argparse.Namespace) -> str:
    role = Role(args.role)
    holder: Person | None = None
    if args.name or args.title:
        if not (args.name and args.title):
            raise SystemExit("cognify-admin: --name and --title go together")
        holder = await workspaces.person(conn, args.workspace, args.name, args.title, args.email)
    elif role is not Role.WRITER:
        raise SystemExit(
            f"cognify-admin: a {role.value} key is a person's: give --name and --title "
            "(what their approvals and annotations will carry)"
        )
    issued = await workspaces.issue_key(conn, args.workspace, role, args.label, holder)
    if holder is not None:
        print(f"key {issued.key_id} for {holder.name} ({holder.person_id})", file=sys.stderr)
    return issued.key


SERVICE_ROLES = ("ingest", "lineage", "exporter")  # migration 0009


async def _service_logins(conn: asyncpg.Connection) -> str:
    """Run as the owner, after the migrations: the services' roles (NOLOGIN as migrated) may
    log in with their passwords; a role without a password in the environment is left
    unable to (docs/spec/trust.md)."""
    done = []
    for service in SERVICE_ROLES:
        password = os.environ.get(f"COGNIFY_PG_{service.upper()}_PASSWORD")
        if not password:
            continue
        sql = await conn.fetchval(
            "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
            f"cognify_{service}",
            password,
        )
        await conn.execute(sql)
        done.append(f"cognify_{service}")
    return f"may log in: {', '.join(done) or 'none (no COGNIFY_PG_<SERVICE>_PASSWORD set)'}"


async def _seal_keys(conn: asyncpg.Connection, workspace_id: str) -> list[dict[str, object]]:
    """The public halves only, as `GET /v1/workspaces/{ws}/seal-key` publishes them."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    rows = await conn.fetch(
        """SELECT key_id, public_key, created_at, retired_at FROM seal_keys
           WHERE workspace_id = $1 ORDER BY created_at, key_id""",
        workspace_id,
    )
    out: list[dict[str, object]] = []
    for r in rows:
        public = Ed25519PublicKey.from_public_bytes(bytes(r["public_key"]))
        pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        out.append(
            {
                "key_id": r["key_id"],
                "public_key_pem": pem,
                "public_key_b64": base64.b64encode(bytes(r["public_key"])).decode(),
                "created_at": r["created_at"].isoformat(),
                "retired_at": r["retired_at"].isoformat() if r["retired_at"] else None,
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "docs":  # through ingest's API: the change is an event (admin_docs.py)
        print(admin_docs.run(args, sys.stdin.read() if args.value == "-" else None))
        return
    if args.command == "set-tier":  # through ingest's API too: an event naming who
        print(admin_docs.run_tier(args))
        return
    try:
        print(asyncio.run(run(args)))
    except asyncpg.UniqueViolationError as exc:
        sys.exit(f"cognify-admin: already exists: {exc.detail or exc}")
    except asyncpg.ForeignKeyViolationError:
        sys.exit("cognify-admin: no such workspace")
    except workspaces.PersonConflict as exc:
        sys.exit(f"cognify-admin: {exc}")


if __name__ == "__main__":
    main()
