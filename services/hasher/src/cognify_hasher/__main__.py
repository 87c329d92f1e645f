"""`python -m cognify_hasher`: one worker of the hasher pool, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from .app import serve, start_metrics
from .settings import HasherSettings, replaced_settings


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for problem in replaced_settings():
        raise SystemExit(f"cognify_hasher: {problem}")
    try:
        settings = HasherSettings()
    except ValueError as exc:  # tenancy.ConfigError, a malformed number
        raise SystemExit(f"cognify_hasher: {exc}") from None
    start_metrics(settings)
    await serve(settings, stop)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    asyncio.run(_main())


if __name__ == "__main__":
    main()
