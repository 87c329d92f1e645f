"""`python -m cognify_exporter` (or `cognify-exporter`): run the exporter."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from .app import serve
from .settings import ExporterSettings


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(ExporterSettings(), stop)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
