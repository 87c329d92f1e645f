"""`python -m cognify_lineage [serve|rebuild|verify [CHAIN ...]]`

serve    (default) consume the canonical topic, fold, serve the read API, until SIGTERM
rebuild  empty the projection and replay the whole event store into it
verify   recompute hash chains (all, or the run ids given); exit 1 if any is broken
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys

from .app import rebuild, serve, verify
from .settings import LineageSettings


async def _serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(LineageSettings(), stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cognify-lineage", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "rebuild", "verify"]
    )
    parser.add_argument("chains", nargs="*", help="run ids (or workspace:<id>) to verify")
    args = parser.parse_args(argv)
    # A poll batch holds thousands of young objects (events); the default thresholds ran
    # full collections over them again and again, doubling the cost of decoding.
    gc.set_threshold(50_000, 20, 100)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "rebuild":
        count = asyncio.run(rebuild(LineageSettings()))
        print(f"projection rebuilt from {count} stored events")
    elif args.command == "verify":
        broken = asyncio.run(verify(LineageSettings(), args.chains))
        for line in broken:
            print(line)
        sys.exit(1 if broken else 0)
    else:
        asyncio.run(_serve())


if __name__ == "__main__":
    main()
