"""`python -m cognify_ingest`: the raw-topic worker and the HTTP front door, until SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from .app import serve
from .settings import IngestSettings


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(IngestSettings(), stop)


def main() -> None:
    # A poll batch holds thousands of young objects (events); the default thresholds ran
    # full collections over them again and again, doubling the cost of decoding.
    gc.set_threshold(50_000, 20, 100)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(_main())


if __name__ == "__main__":
    main()
