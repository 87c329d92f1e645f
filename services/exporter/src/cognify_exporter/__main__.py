"""`python -m cognify_exporter` (or `cognify-exporter`): run the exporter.

`python -m cognify_exporter rotate-seal-key WORKSPACE` retires the workspace's seal key
(kept and published as retired: what it signed still verifies) and makes a new one; it
prints the new key's fingerprint. Run it with the owner's or the exporter's DSN and the
master key (docs/spec/trust.md)."""

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


async def _rotate(workspace_id: str) -> str:
    from . import postgres

    settings = ExporterSettings()
    pool = await postgres.create_pool(settings.postgres.dsn)
    try:
        new = await postgres.rotate_seal_key(pool, workspace_id, settings.master_key)
    finally:
        await pool.close()
    return new.key_id


def main() -> int:
    if sys.argv[1:2] == ["rotate-seal-key"]:
        if len(sys.argv) != 3:
            print("usage: python -m cognify_exporter rotate-seal-key WORKSPACE", file=sys.stderr)
            return 2
        try:
            print(asyncio.run(_rotate(sys.argv[2])))
        except (LookupError, OSError) as exc:
            print(f"cognify-exporter: {exc}", file=sys.stderr)
            return 1
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
