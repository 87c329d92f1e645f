"""`python -m cognify_lineage [serve|rebuild|verify [CHAIN ...]]`

serve    (default) consume the canonical topic, fold, serve the read API, until SIGTERM
rebuild  empty the projection and replay the whole event store into it
verify   recompute hash chains (all, or the run ids given) and compare them with their
         anchors outside the database (docs/spec/anchors.md); exit 1 if any is broken
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import logging
import signal
import sys
from pathlib import Path

import uvloop
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from . import anchors
from .app import rebuild, serve, verify
from .settings import LineageSettings


async def _serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(LineageSettings(), stop)


def anchor_keys(values: list[str]) -> dict[str, Ed25519PublicKey]:
    """The anchor public keys an auditor chose, by fingerprint."""
    keys = {}
    for value in values:
        path = Path(value)
        if path.is_file() and path.read_bytes().lstrip().startswith(b"-----BEGIN"):
            key = load_pem_public_key(path.read_bytes())
            if not isinstance(key, Ed25519PublicKey):
                raise SystemExit(f"{value}: not an Ed25519 public key")
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
        keys[anchors.key_id(key)] = key
    return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cognify-lineage", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "rebuild", "verify"]
    )
    parser.add_argument("chains", nargs="*", help="run ids (or workspace:<id>) to verify")
    parser.add_argument(
        "--anchor-key",
        action="append",
        default=[],
        metavar="PUB",
        help="verify: trust anchors signed by this public key (PEM file, or base64 of the 32 "
        "raw bytes; repeatable) instead of lineage's configured anchor keys",
    )
    args = parser.parse_args(argv)
    # A poll batch holds thousands of young objects (events); the default thresholds ran
    # full collections over them again and again, doubling the cost of decoding.
    gc.set_threshold(50_000, 20, 100)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "rebuild":
        count = asyncio.run(rebuild(LineageSettings()))
        print(f"projection rebuilt from {count} stored events")
    elif args.command == "verify":
        trusted = anchor_keys(args.anchor_key) if args.anchor_key else None
        broken = asyncio.run(verify(LineageSettings(), args.chains, trusted))
        for line in broken:
            print(line)
        sys.exit(1 if broken else 0)
    else:
        # uvloop under the service: its event loop and transports are C, where asyncio's
        # are Python; with httptools' parser (uvicorn picks it when installed) a cached read
        # costs a fraction of the CPU (bench/dashboard.py, docs/decisions/dashboard.md).
        uvloop.run(_serve())


if __name__ == "__main__":
    main()
