"""The `cognify` command line.

cognify sync                 deliver events left in the spool by earlier processes
cognify spool                show what is waiting in the spool
cognify export --run-id R --format pdf --template healthcare --output FILE
cognify verify-package FILE --key PUB.pem   verify an audit package offline against a key
                             the auditor chose (hash, signature, subjects)
cognify model-signature --run-id R --workspace W --output-dir DIR
                             the sealed model's OMS signature and the OMS public key, for
                             `model_signing verify key` (model_signature.py)
cognify prove | verify       inclusion proofs, offline dataset/checkpoint checks (verify_cli)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from . import package_verify, verify_cli
from .config import ConfigurationError, Settings, default_spool_dir, raw_topic
from .publisher import split_record
from .spool import adopt_orphans
from .transport import KafkaTransport


def _spool_dir(arg: str | None) -> Path:
    return Path(arg) if arg else default_spool_dir()


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} bytes"


async def _sync(spool_dir: Path, bootstrap: str, timeout_s: float) -> int:
    segments = [s for s in adopt_orphans(spool_dir) if s.pending_bytes]
    total = sum(s.pending_bytes for s in segments)
    if not segments:
        print(f"nothing to deliver: the spool {spool_dir} holds no undelivered events")
        return 0
    transport = KafkaTransport(bootstrap, timeout_s, raw_topic())
    try:
        await transport.start()
    except Exception as exc:  # noqa: BLE001 - explain, keep the spool
        print(
            f"cannot reach Kafka at {bootstrap} ({type(exc).__name__}: {exc}); "
            f"{total:,} bytes stay spooled in {spool_dir}",
            file=sys.stderr,
        )
        for s in segments:
            s.close(remove_if_drained=False)
        return 1
    done = 0
    try:
        for segment in segments:
            for records in segment.iter_unacked(500):
                await transport.send([split_record(r.data) for r in records])
                done += records[-1].end - segment.acked
                segment.ack(records[-1].end, len(records))
                print(f"\r{_bar(done, total)}", end="", file=sys.stderr, flush=True)
    finally:
        await transport.stop()
        for s in segments:
            s.close()
    print(f"\ndelivered {done:,} bytes of spooled events from {len(segments)} segment(s)")
    return 0


def _spool_status(spool_dir: Path) -> int:
    segments = sorted(spool_dir.glob("*.seg")) if spool_dir.is_dir() else []
    orphans = adopt_orphans(spool_dir)
    pending = sum(s.pending_bytes for s in orphans)
    for s in orphans:
        s.close(remove_if_drained=False)
    print(
        f"spool {spool_dir}: {len(segments)} segment(s), {len(segments) - len(orphans)} held "
        f"by running processes, {pending:,} bytes waiting from finished processes"
    )
    return 0


def _model_signature(run_id: str, workspace_id: str, out: Path) -> int:
    from .model_signature import DownloadError, download

    try:
        got = download(run_id, workspace_id, out)
    except DownloadError as exc:
        print(f"cognify model-signature: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {got.signature} ({got.sha256}) and {got.public_key} (key hint {got.key_hint})\n"
        f"verify: model_signing verify key MODEL_DIR --signature {got.signature} "
        f"--public_key {got.public_key}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cognify", description="Cognify audit trail CLI")
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="deliver events spooled while the broker was away")
    sync.add_argument("--spool-dir")
    sync.add_argument("--kafka-bootstrap")
    sync.add_argument("--timeout", type=float, default=30.0)
    spool = sub.add_parser("spool", help="show what waits in the spool")
    spool.add_argument("--spool-dir")
    export = sub.add_parser("export", help="export a sealed run's audit package")
    export.add_argument("--run-id", required=True)
    export.add_argument("--format", choices=["pdf", "json", "xlsx", "cyclonedx"], default="pdf")
    export.add_argument(
        "--template", default="default", choices=["default", "eu_ai_act", "hipaa", "healthcare"]
    )
    export.add_argument("--output", required=True)
    signature = sub.add_parser(
        "model-signature", help="download the sealed model's OpenSSF Model Signing signature"
    )
    signature.add_argument("--run-id", required=True)
    signature.add_argument("--workspace", required=True)
    signature.add_argument("--output-dir", required=True)
    verify_package = sub.add_parser(
        "verify-package", help="verify an audit package offline: hash, DSSE signature, subjects"
    )
    verify_package.add_argument("package")
    package_verify.add_trust_args(verify_package)
    verify_cli.register(sub)
    args = parser.parse_args(argv)
    if args.command in verify_cli.COMMANDS:
        return verify_cli.run(args)
    try:
        if args.command == "sync":
            bootstrap = args.kafka_bootstrap or Settings.bootstrap_from_env()
            return asyncio.run(_sync(_spool_dir(args.spool_dir), bootstrap, args.timeout))
        if args.command == "spool":
            return _spool_status(_spool_dir(args.spool_dir))
        if args.command == "verify-package":
            from .package_verify import main_for

            return main_for(args)
        if args.command == "model-signature":
            return _model_signature(args.run_id, args.workspace, Path(args.output_dir))
        from .api import CognifyError, export_audit

        try:
            done = export_audit(args.run_id, args.format, args.template, args.output)
        except CognifyError as exc:
            print(f"cognify export: {exc}", file=sys.stderr)
            return 1
        print(
            f"wrote {done['path']} ({done['size']:,} bytes, {done['package_hash']}), verified; "
            f"stored as s3://{done['bucket']}/{done['object_key']} "
            f"(locked until {done['retain_until']})"
        )
        return 0
    except (ConfigurationError, OSError) as exc:
        print(f"cognify: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; what was not delivered stays spooled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
