"""Restore drill for the object store (docs/operations.md, "Disaster recovery"): download
every audit package in the bucket and verify it offline, as an auditor would, against seal
keys obtained independently of the bucket.

    .venv/bin/python deploy/restore_drill.py --keys DIR [--prefix packages/]

DIR holds one public seal key per workspace, `<workspace_id>.pem` (PEM, or base64/hex of
the 32 raw bytes), taken from the auditors' records, never from the bucket being checked.
Packages are `packages/<workspace>/<run>/<file>` with `<file>.dsse.json` beside each
(cognify_exporter.package). Every package gets one line, OK or FAIL with the reason; a
package without an envelope, an envelope without a package, a workspace without a key and
an object that cannot be read all fail. Exit status 0 only when every package verified.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cognify.package_verify import load_public_key, verify
from cognify_objectstore import ObjectStore, ObjectStoreError, StoreSettings

ENVELOPE = ".dsse.json"


def drill(store: ObjectStore, keys: Path, prefix: str) -> list[tuple[str, bool, str]]:
    """(object key, verified, why) for every package and stray envelope under `prefix`."""
    names = set(store.list_keys(prefix))
    results: list[tuple[str, bool, str]] = []
    for name in sorted(names):
        if name.endswith(ENVELOPE):
            if name.removesuffix(ENVELOPE) not in names:
                results.append((name, False, "an envelope without its package"))
            continue
        parts = name.removeprefix(prefix).split("/")
        workspace = parts[0] if len(parts) == 3 else ""
        key_file = keys / f"{workspace}.pem"
        if not workspace or not key_file.is_file():
            results.append((name, False, f"no trusted seal key for workspace {workspace!r}"))
            continue
        if name + ENVELOPE not in names:
            results.append((name, False, "no DSSE envelope beside it"))
            continue
        try:
            package = store.get(name)
            envelope = json.loads(store.get(name + ENVELOPE))
            verdict = verify(package, envelope, load_public_key(key_file.read_bytes()))
        except (ObjectStoreError, ValueError) as exc:
            results.append((name, False, f"unreadable: {exc}"))
            continue
        why = "; ".join(verdict.failed) if not verdict.ok else f"{len(verdict.passed)} checks"
        results.append((name, verdict.ok, why))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=Path, required=True, help="<workspace_id>.pem files")
    parser.add_argument("--prefix", default="packages/", help="where the packages are")
    args = parser.parse_args(argv)
    if not args.keys.is_dir():
        parser.error(f"--keys {args.keys} is not a directory")
    store = ObjectStore(StoreSettings())
    try:
        results = drill(store, args.keys, args.prefix)
    except ObjectStoreError as exc:
        print(f"the bucket cannot be listed: {exc}", file=sys.stderr)
        return 2
    for name, ok, why in results:
        print(f"{'OK  ' if ok else 'FAIL'}  {name}  ({why})")
    failed = sum(not ok for _, ok, _ in results)
    print(f"{len(results) - failed} verified, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
