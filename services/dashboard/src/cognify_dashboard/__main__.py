"""`python -m cognify_dashboard`: the reviewer's dashboard (SPA + BFF) until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvloop

from .app import serve
from .settings import DashboardSettings


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(DashboardSettings(), stop)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # uvloop under the service (and httptools' parser, which uvicorn picks when installed):
    # the event loop and transports in C (bench/dashboard.py, docs/decisions/dashboard.md).
    uvloop.run(_main())


if __name__ == "__main__":
    main()
