"""`cognify prove` and `cognify verify`: inclusion proofs and offline checks, no server.

cognify prove DATASET (--index N | --record JSON | --record-file F) [--root R] [-o FILE]
cognify verify proof PROOF.json [--record JSON | --record-file F]
    (--root R --record-count N | --package PKG.json --dataset ID)
cognify verify dataset PATH (--root R [--record-count N] | --package PKG.json --dataset ID)
cognify verify checkpoint DIR (--hash H | --manifest FILE | --package PKG.json --checkpoint ID)
    with --package, the key that signed it: --key PUB.pem | --key-fingerprint ed25519:<hex>
    | --trust-bundled-key (package_verify)

Formats are those of docs/spec/hashing.md. Exit status: 0 verified, 1 verification failed,
2 the check could not be run (bad input, unreadable file); never a traceback.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cognify_hashing import (
    InclusionProof,
    Manifest,
    ManifestEntry,
    ManifestError,
    MerkleBuilder,
    canonical_record,
    format_digest,
    leaf_hash,
    open_source,
    parse_digest,
)
from cognify_hashing.manifest import check_relative_path

from .package_verify import add_trust_args

COMMANDS = ("prove", "verify")
READ_SIZE = 8 * 1024 * 1024


class Failed(Exception):
    """The check ran and the evidence does not match: exit status 1."""


def register(subparsers: Any) -> None:
    prove = subparsers.add_parser("prove", help="inclusion proof that a record is in a dataset")
    prove.add_argument("dataset", help="JSONL, Parquet or Arrow file, save_to_disk directory")
    _record_args(prove, required=True, index=True)
    prove.add_argument("--root", help="the dataset's registered root: refuse any other")
    prove.add_argument("-o", "--output", help="write the proof here (default: stdout)")
    _progress_arg(prove)
    verify = subparsers.add_parser("verify", help="verify a proof, dataset or checkpoint offline")
    what = verify.add_subparsers(dest="what", required=True)
    proof = what.add_parser("proof", help="check an inclusion proof document")
    proof.add_argument("proof_file")
    _record_args(proof, required=False, index=False)
    trusted = proof.add_mutually_exclusive_group()
    trusted.add_argument(
        "--record-count", type=int, help="the tree size, from the sealed dataset record"
    )
    trusted.add_argument("--package", help="a JSON audit package: the root and count it lists")
    proof.add_argument("--root", help="the dataset root from the sealed dataset record")
    proof.add_argument("--dataset", help="with --package: the dataset's id")
    add_trust_args(proof, envelope=False)
    dataset = what.add_parser("dataset", help="recompute a dataset's Merkle root")
    dataset.add_argument("path")
    root = dataset.add_mutually_exclusive_group(required=True)
    root.add_argument("--root", help="expected root, sha256:<hex>")
    root.add_argument("--package", help="a JSON audit package: the root and count it lists")
    dataset.add_argument("--record-count", type=int, help="expected number of records")
    dataset.add_argument("--dataset", help="with --package: the dataset's id")
    add_trust_args(dataset, envelope=False)
    _progress_arg(dataset)
    ckpt = what.add_parser("checkpoint", help="recompute a checkpoint directory's hash")
    ckpt.add_argument("path")
    expected = ckpt.add_mutually_exclusive_group(required=True)
    expected.add_argument("--hash", help="expected checkpoint hash, sha256:<hex>")
    expected.add_argument("--manifest", help="sha256sum-style or JSON manifest to compare")
    expected.add_argument(
        "--package", help="a JSON audit package: the hash and files it lists for --checkpoint"
    )
    ckpt.add_argument("--checkpoint", help="with --package: the checkpoint's (or model's) id")
    add_trust_args(ckpt, envelope=False)
    _progress_arg(ckpt)
    # Audit packages (pdf/json/xlsx with a .dsse.json beside them): cognify.package_verify.
    package = what.add_parser("package", help="verify an audit package: hash, DSSE, subjects")
    package.add_argument("package")
    add_trust_args(package)


def _record_args(parser: argparse.ArgumentParser, *, required: bool, index: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    if index:
        group.add_argument("--index", type=int, help="zero-based position of the record")
    group.add_argument("--record", help="the record as a JSON object")
    group.add_argument("--record-file", help="a file holding the record as a JSON object")


def _progress_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress bar on stderr (auto: when stderr is a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "prove":
            return _prove(args)
        if args.what == "package":
            from .package_verify import main_for

            return main_for(args)
        return {"proof": _verify_proof, "dataset": _verify_dataset, "checkpoint": _verify_ckpt}[
            args.what
        ](args)
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except FileNotFoundError as exc:
        print(f"cognify: no such file or directory: {exc.filename}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:  # SourceError, ManifestError, bad digests, JSON...
        print(f"cognify: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a clear message, never a traceback
        print(f"cognify: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


# ---- progress -------------------------------------------------------------------------------


class Bar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int | None, unit: str, mode: str = "auto") -> None:
        self.enabled = mode == "always" or (mode == "auto" and sys.stderr.isatty())
        self.label, self.total, self.unit = label, total, unit
        self.done, self.started, self.drawn = 0, time.monotonic(), 0.0

    def add(self, amount: int) -> None:
        self.done += amount
        if self.enabled and time.monotonic() - self.drawn >= 0.1:
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            print(file=sys.stderr)

    def _draw(self) -> None:
        self.drawn = now = time.monotonic()
        rate = self.done / max(now - self.started, 1e-9)
        if self.unit == "bytes":
            done, total, speed = f"{self.done / 1e6:,.1f}", f"{(self.total or 0) / 1e6:,.1f}", "MB"
        else:
            done, total, speed = f"{self.done:,}", f"{self.total or 0:,}", self.unit
        counts = f"{done} {speed}"
        if self.total:
            filled = min(30, 30 * self.done // self.total)
            counts = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {speed}"
        scaled = rate / 1e6 if self.unit == "bytes" else rate
        line = f"{self.label} {counts}  {scaled:,.1f} {speed}/s"
        print(f"\r{line}", end="", file=sys.stderr, flush=True)


# ---- datasets and proofs ------------------------------------------------------------------


def _leaves(path: str, mode: str, label: str) -> Iterator[bytes]:
    """Leaf hashes of the dataset's records in order, with a progress bar."""
    source = open_source(path)
    bar = Bar(label, source.count() if source.schema_is_cheap else None, "records", mode)
    for batch in source.batches():
        yield from (leaf_hash(canonical_record(record)) for record in batch)
        bar.add(len(batch))
    bar.close()


def _record_leaf(args: argparse.Namespace) -> bytes | None:
    if args.record is None and args.record_file is None:
        return None
    text = args.record if args.record is not None else Path(args.record_file).read_text("utf-8")
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"the record is not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise ValueError("the record must be a JSON object")
    return leaf_hash(canonical_record(record))


def audit_ranges(index: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree roots form RFC 6962's PATH(index, D[lo:hi]), leaf first."""
    if hi - lo <= 1:
        return []
    k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two < hi - lo
    if index < lo + k:
        return [*audit_ranges(index, lo, lo + k), (lo + k, hi)]
    return [*audit_ranges(index, lo + k, hi), (lo, lo + k)]


def _prove(args: argparse.Namespace) -> int:
    index, wanted = args.index, _record_leaf(args)
    if wanted is not None:
        index = next(
            (
                i
                for i, h in enumerate(_leaves(args.dataset, args.progress, "finding"))
                if h == wanted
            ),
            None,
        )
        if index is None:
            raise Failed(f"the record is not in the dataset at {args.dataset}")
    size = open_source(args.dataset).count()
    if not 0 <= index < size:
        raise ValueError(f"--index {index} is outside the dataset's {size} records")
    ranges = sorted(audit_ranges(index, 0, size))
    builders = {r: MerkleBuilder() for r in ranges}
    whole, leaf, at = MerkleBuilder(), b"", 0
    for position, value in enumerate(_leaves(args.dataset, args.progress, "proving")):
        whole.add_leaf_hash(value)
        while at < len(ranges) and position >= ranges[at][1]:
            at += 1
        if position == index:
            leaf = value
        elif at < len(ranges) and ranges[at][0] <= position:
            builders[ranges[at]].add_leaf_hash(value)
    if whole.size != size:
        raise ValueError(f"{args.dataset} changed while it was read")
    root = whole.root()
    if args.root and parse_digest(args.root) != root:
        raise Failed(f"the dataset's root is {format_digest(root)}, not {args.root}")
    path = tuple(builders[r].root() for r in audit_ranges(index, 0, size))
    proof = InclusionProof(index, size, leaf, path, root)
    assert proof.verify()
    document = proof.to_json()
    if wanted is not None:
        document["record"] = json.loads(args.record or Path(args.record_file).read_text("utf-8"))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"proof of record {index} of {size} in {format_digest(root)} -> {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _trusted_size(args: argparse.Namespace) -> tuple[str, int]:
    """The root and tree size a proof must be for, from a source the auditor trusts: the
    signed package, or --root and --record-count; never the proof itself, which states
    whatever tree its maker wanted (docs/spec/trust.md)."""
    if args.package is not None:
        if args.root is not None:
            raise ValueError("--root comes from the package with --package")
        entry = _package_entry(args, args.dataset, ("datasets",), "--dataset")
        if not isinstance(entry.get("record_count"), int):
            raise ValueError(f"{args.package} has no record count for {args.dataset!r}")
        return str(entry["hash"]), int(entry["record_count"])
    if args.root is None or args.record_count is None:
        raise ValueError(
            "verify proof takes the root and the tree size from a source you trust: --root R "
            "--record-count N from the sealed dataset record, or --package PKG.json --dataset "
            "ID; the proof's own root and size are whatever its maker chose"
        )
    if args.record_count < 0:
        raise ValueError("--record-count must be >= 0")
    return str(args.root), int(args.record_count)


def _verify_proof(args: argparse.Namespace) -> int:
    _trust_only_with_package(args)
    root, size = _trusted_size(args)
    document = json.loads(Path(args.proof_file).read_text("utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{args.proof_file} is not a JSON object")
    proof = InclusionProof.from_json(document)
    leaf = _record_leaf(args)
    if leaf is None and isinstance(document.get("record"), dict):
        leaf = leaf_hash(canonical_record(document["record"]))
    if leaf is None:
        print("note: no record given; only the path from the leaf hash is checked", file=sys.stderr)
    elif leaf != proof.leaf_hash:
        raise Failed("the record's leaf hash is not the proof's leaf_hash")
    if parse_digest(root) != proof.root:
        raise Failed(f"the proof is for root {format_digest(proof.root)}, not {root}")
    if size != proof.tree_size:
        raise Failed(f"the proof is for {proof.tree_size} records, the dataset has {size}")
    if not proof.verify():
        raise Failed("the audit path does not lead from the leaf to the root")
    print(f"OK: record {proof.leaf_index} of {size} is in {format_digest(proof.root)}")
    return 0


def _trust_only_with_package(args: argparse.Namespace) -> None:
    if args.package is None and (args.key or args.key_fingerprint or args.trust_bundled_key):
        raise ValueError("--key, --key-fingerprint and --trust-bundled-key are for --package")
    if args.package is None and getattr(args, "dataset", None) is not None:
        raise ValueError("--dataset is for --package")


def _verify_dataset(args: argparse.Namespace) -> int:
    _trust_only_with_package(args)
    wanted, count = args.root, args.record_count
    if args.package:
        if count is not None:
            raise ValueError("--record-count comes from the package with --package")
        entry = _package_entry(args, args.dataset, ("datasets",), "--dataset")
        wanted, count = str(entry["hash"]), entry.get("record_count")
    expected = parse_digest(wanted)
    builder = MerkleBuilder()
    for value in _leaves(args.path, args.progress, "hashing"):
        builder.add_leaf_hash(value)
    root = format_digest(builder.root())
    if builder.root() != expected:
        raise Failed(f"{args.path} has root {root} ({builder.size} records), not {wanted}")
    if count is not None and count != builder.size:
        raise Failed(f"{args.path} holds {builder.size} records, not {count}")
    print(f"OK: {args.path} has root {root} over {builder.size} records")
    return 0


# ---- checkpoints --------------------------------------------------------------------------


def _files(base: Path, prefix: str = "") -> Iterator[tuple[str, int]]:
    with os.scandir(base / prefix if prefix else base) as listing:
        children = sorted(listing, key=lambda e: e.name)
    for child in children:
        rel = check_relative_path(prefix + child.name)
        info = child.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise ManifestError(f"symbolic link inside the checkpoint: {rel!r}")
        if stat.S_ISDIR(info.st_mode):
            yield from _files(base, rel + "/")
        elif stat.S_ISREG(info.st_mode):
            yield rel, info.st_size
        else:
            raise ManifestError(f"not a regular file or directory: {rel!r}")


def _scan(path: str, mode: str) -> Manifest:
    base = Path(path)
    if not base.is_dir():
        raise ValueError(f"{path} is not a checkpoint directory")
    files = list(_files(base))
    bar = Bar("hashing", sum(size for _, size in files), "bytes", mode)
    entries = []
    buffer = bytearray(READ_SIZE)
    view = memoryview(buffer)
    for rel, _ in files:
        digest, size = hashlib.sha256(), 0
        with open(base / rel, "rb", buffering=0) as handle:
            while count := handle.readinto(buffer):
                digest.update(view[:count])
                size += count
                bar.add(count)
        entries.append(ManifestEntry(rel, size, digest.hexdigest()))
    bar.close()
    return Manifest.from_entries(entries)


def _expected_files(path: str) -> dict[str, str]:
    text = Path(path).read_text("utf-8")
    if text.lstrip().startswith("{"):
        document = json.loads(text)
        return {str(f["path"]): str(f["sha256"]) for f in document["files"]}
    files = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ValueError(f"{path}:{number}: not a '<sha256>  <path>' line")
        files[name.removeprefix("*")] = digest
    return files


def _package_entry(
    args: argparse.Namespace, node_id: str | None, sections: tuple[str, ...], option: str
) -> dict[str, Any]:
    """The entry of the JSON audit package `args.package`'s `sections`
    (docs/spec/package.md) with id `node_id`, which has a hash. The package must verify
    first, against the key the auditor chose (`--key`, `--key-fingerprint`, or
    `--trust-bundled-key` with a warning): an altered package proves nothing. The entry is
    read from the very bytes that were verified."""
    from .package_verify import (
        bundled_warning,
        choose_key,
        is_package,
        strict_json,
        trust_from,
        verify,
    )

    path = Path(args.package)
    if node_id is None:
        raise ValueError(f"--package needs {option} ID")
    trust = trust_from(args)
    data = path.read_bytes()
    try:
        document = strict_json(data)
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{path} is not a JSON audit package") from None
    if not isinstance(document, dict) or not str(document.get("format", "")).startswith(
        "cognify-audit-package/"
    ):
        raise ValueError(f"{path} is not a JSON audit package (no cognify-audit-package format)")
    if not is_package(path):
        raise ValueError(
            f"no {path}.dsse.json beside the package: an unsigned package vouches for "
            "nothing (cognify export writes the envelope beside it)"
        )
    chosen = choose_key(path, trust)
    if not chosen.authenticated:
        print(bundled_warning(chosen), file=sys.stderr)
    envelope = strict_json(Path(f"{path}.dsse.json").read_bytes())
    verdict = verify(data, envelope, chosen.public)
    if not verdict.ok:
        raise Failed(f"the package {path} does not verify:\n  " + "\n  ".join(verdict.lines()))
    print(f"package {path}: signature verified, key {chosen.fingerprint}", file=sys.stderr)
    entries: list[dict[str, Any]] = []
    for name in sections:
        listed = document.get(name) or []
        entries += listed if isinstance(listed, list) else [listed]
    entry = next((e for e in entries if isinstance(e, dict) and e.get("id") == node_id), None)
    if entry is None:
        known = ", ".join(str(e.get("id")) for e in entries if isinstance(e, dict)) or "none"
        raise ValueError(f"{path} lists no {option[2:]} {node_id!r} (it lists: {known})")
    if not entry.get("hash"):
        raise ValueError(f"{path} has no hash for {node_id!r}: {entry.get('hash_error', 'a gap')}")
    return entry


def _differences(expected: dict[str, str], manifest: Manifest) -> list[str]:
    actual = {e.path: e.sha256 for e in manifest.entries}
    problems = [f"missing: {p}" for p in sorted(expected.keys() - actual.keys())]
    problems += [f"not in the manifest: {p}" for p in sorted(actual.keys() - expected.keys())]
    problems += [
        f"changed: {p}" for p in sorted(expected.keys() & actual.keys()) if expected[p] != actual[p]
    ]
    return problems


def _verify_ckpt(args: argparse.Namespace) -> int:
    if args.checkpoint is not None and args.package is None:
        raise ValueError("--checkpoint is for --package")
    _trust_only_with_package(args)
    wanted, files = args.hash, None  # with --manifest: no hash, the files
    if args.package:
        entry = _package_entry(args, args.checkpoint, ("checkpoints", "model"), "--checkpoint")
        wanted = str(entry["hash"])
        if "manifest" in entry:
            files = {f["path"]: f["sha256"] for f in entry["manifest"]}
    if wanted is not None:
        parse_digest(wanted)  # a bad digest is bad input, before the scan
    manifest = _scan(args.path, args.progress)
    if wanted is None:
        problems = _differences(_expected_files(args.manifest), manifest)
        if problems:
            raise Failed(f"{args.path} does not match {args.manifest}:\n  " + "\n  ".join(problems))
    elif parse_digest(wanted) != parse_digest(manifest.checkpoint_hash):
        problems = _differences(files, manifest) if files is not None else []
        raise Failed(
            f"{args.path} hashes to {manifest.checkpoint_hash}, not {wanted}"
            + "".join(f"\n  {p}" for p in problems)
        )
    print(f"OK: {args.path} is {manifest.checkpoint_hash} ({len(manifest.entries)} files)")
    return 0
