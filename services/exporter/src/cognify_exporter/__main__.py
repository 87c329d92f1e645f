"""`python -m cognify_exporter` (or `cognify-exporter`): run the exporter.

`python -m cognify_exporter rotate-seal-key WORKSPACE` retires the workspace's seal key
(kept and published as retired: what it signed still verifies) and makes a new one; it
prints the new key's fingerprint. Run it with the owner's or the exporter's DSN and the
master key (docs/spec/trust.md).

`python -m cognify_exporter sign-model WORKSPACE MODEL_DIR [SIGNATURE]` signs a model
directory (the final model, or any checkpoint on request) in the OpenSSF Model Signing
format with the workspace's P-256 OMS key, writing SIGNATURE (default MODEL_DIR/model.sig)
and the public key beside the directory as MODEL_DIR.oms.pub.pem (docs/decisions/oms.md)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

from .app import serve
from .settings import ExporterSettings

USAGE_SIGN = "usage: python -m cognify_exporter sign-model WORKSPACE MODEL_DIR [SIGNATURE]"


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


async def _sign_model(workspace_id: str, model: Path, signature: Path) -> str:
    from . import oms, omskeys, postgres

    settings = ExporterSettings()
    pool = await postgres.create_pool(settings.postgres.dsn)
    try:
        sealed = await omskeys.oms_key(pool, workspace_id, settings.master_key)
    finally:
        await pool.close()
    key = oms.open_key(sealed, settings.master_key)
    inside = signature.resolve().parent == model.resolve()
    skip = [signature.name] if inside else []
    bundle = await asyncio.to_thread(oms.sign_directory, model, key, skip)
    signature.write_bytes(bundle)
    pem = model.resolve().parent / f"{model.resolve().name}.oms.pub.pem"  # outside the model
    pem.write_bytes(sealed.public_pem)
    return (
        f"{signature} (verify: model_signing verify key {model} --signature {signature} "
        f"--public_key {pem})"
    )


def main() -> int:
    if sys.argv[1:2] == ["sign-model"]:
        if len(sys.argv) not in (4, 5) or not Path(sys.argv[3]).is_dir():
            print(USAGE_SIGN, file=sys.stderr)
            return 2
        model = Path(sys.argv[3])
        signature = Path(sys.argv[4]) if len(sys.argv) == 5 else model / "model.sig"
        try:
            print(asyncio.run(_sign_model(sys.argv[2], model, signature)))
        except (LookupError, OSError, ValueError) as exc:
            print(f"cognify-exporter: {exc}", file=sys.stderr)
            return 1
        return 0
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
