"""The public functions of the walkthrough: init, dataset, eval, model, export_audit."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import cognify_events as ev

from . import records
from .config import ConfigurationError, Settings
from .dataset_ref import DatasetRef, describe, split_items
from .run import QuietRun, Run, is_world_process_zero
from .tier import TierLookup
from .transport import Transport

log = logging.getLogger("cognify")
_current: Run | None = None
_quiet_ranks_warned = False


class CognifyError(RuntimeError):
    """A Cognify operation that cannot be done; the message says why and what to do."""


def current_run() -> Run | None:
    return _current


def init(
    workspace_id: str | None = None,
    api_key: str | None = None,
    project: str | None = None,
    run_tags: Mapping[str, str] | None = None,
    *,
    run_name: str | None = None,
    kafka_bootstrap: str | None = None,
    spool_dir: str | os.PathLike[str] | None = None,
    compliance_tier: str | None = None,
    transport: Callable[[], Transport] | None = None,
) -> Run | None:
    """Start an audited run. Arguments override `COGNIFY_*` environment variables.

    On ranks other than 0 of a distributed job this returns None and records nothing: one
    run record per job."""
    global _current
    settings = Settings.resolve(
        workspace_id, api_key, project, kafka_bootstrap, spool_dir, compliance_tier
    )
    if not is_world_process_zero():
        return None
    if _current is not None:
        _current.close()
    run = Run(settings, transport=transport)
    run.tier = TierLookup(settings.ingest_url, settings.api_key, settings.compliance_tier)
    tags = {str(k): str(v) for k, v in (run_tags or {}).items()}
    run.emit(
        ev.RunStarted,
        ev.RunStartedPayload(
            run_name=run_name,
            tags=tags,
            sdk_version=run.publisher_version,
            started_by=os.environ.get("USER"),
            host=run.host,
        ),
    )
    _current = run
    log.info("cognify: run %s started (project %s)", run.run_id, settings.project)
    return run


def start_run(
    workspace_id: str | None = None,
    api_key: str | None = None,
    project: str | None = None,
    run_tags: Mapping[str, str] | None = None,
    **options: Any,
) -> Run | QuietRun:
    """`init` for custom training loops, as a context manager:

        with cognify.start_run(project="clinical-notes") as run:
            run.log_config({"lr": 1e-4, "epochs": 3}, model=model)
            for step, batch in enumerate(loader, 1):
                ...
                run.log_metrics(step, {"loss": loss.item()})
            run.log_checkpoint(save_dir, step)

    Leaving the block ends the run as completed; an exception escaping it ends the run as
    failed (Ctrl-C: interrupted) and propagates. Ranks other than 0 get a `QuietRun` whose
    calls record nothing (call this after `init_process_group` when ranks are not started
    by torchrun or accelerate, which set RANK). Takes `init`'s arguments."""
    run = init(workspace_id, api_key, project, run_tags, **options)
    return QuietRun() if run is None else run


def _require_run(what: str) -> Run | None:
    if _current is None:
        if is_world_process_zero():
            raise CognifyError(f"{what} needs an active run: call cognify.init(...) first")
        return None
    return _current


def dataset(
    dataset: Any,
    name: str,
    version: str,
    source_path: str | os.PathLike[str] | None = None,
    provenance: Mapping[str, Any] | None = None,
    *,
    role: str | None = None,
) -> DatasetRef:
    """Register a dataset version: count, schema, provenance; its Merkle root follows."""
    run = _require_run("cognify.dataset")
    tier, required, ours = "standard", None, False
    if run is not None:  # the workspace's tier when ingest said it, else the configured one
        tier, fields = run.tier.check(provenance or {}, name)
        required, ours = fields, run.tier.learned is not None
    role = role or ("eval" if re.search(r"eval|valid|test", name, re.I) else "train")
    splits = split_items(dataset, source_path)
    if splits is not None:
        refs = {}
        for split, part, path in splits:
            refs[split] = _register(
                run,
                describe(
                    part,
                    name,
                    version,
                    path,
                    provenance,
                    tier,
                    role,
                    split,
                    required=required,
                    workspace_tier=ours,
                ),
            )
        total = sum(r.record_count or 0 for r in refs.values())
        first = next(iter(refs.values()))
        return DatasetRef(
            dataset_id=first.dataset_id.rsplit("_", 1)[0],
            name=name,
            version=version,
            record_count=total,
            splits=refs,
            warnings=first.warnings,
        )
    return _register(
        run,
        describe(
            dataset,
            name,
            version,
            source_path,
            provenance,
            tier,
            role,
            required=required,
            workspace_tier=ours,
        ),
    )


def _register(run: Run | None, registration: Any) -> DatasetRef:
    if run is not None:
        run.emit(ev.DatasetRegistered, registration.payload)
    ref: DatasetRef = registration.ref
    return ref


def eval(
    benchmark_name: str,
    benchmark_version: str,
    results: Mapping[str, float],
    eval_dataset_ref: DatasetRef | None = None,
    notes: str | None = None,
    checkpoint_id: str | None = None,
) -> str:
    """Record a compliance-relevant benchmark result, linked to the dataset version it was
    evaluated on and to the run's latest checkpoint. Returns the evaluation's id."""
    run = _require_run("cognify.eval")
    bad = [k for k, v in results.items() if isinstance(v, bool) or not isinstance(v, (int, float))]
    if bad:
        raise CognifyError(f"cognify.eval results must be numbers; not: {', '.join(bad)}")
    eval_id = re.sub(r"[^A-Za-z0-9._:@-]", "-", f"eval_{benchmark_name}_{benchmark_version}")
    # a diverged benchmark (NaN, inf) is kept by name: those are no JSON numbers
    finite, nonfinite = records.split_finite({k: float(v) for k, v in results.items()})
    if run is not None:
        eval_id = f"{eval_id}_{run.eval_counter()}"[:128]
        run.emit(
            ev.EvaluationRecorded,
            ev.EvaluationRecordedPayload(
                eval_id=eval_id,
                source=ev.EvaluationSource.BENCHMARK,
                step=run.last_step,
                metrics=finite,
                nonfinite_metrics=nonfinite,
                benchmark_name=benchmark_name,
                benchmark_version=benchmark_version,
                eval_dataset_id=eval_dataset_ref.dataset_id if eval_dataset_ref else None,
                checkpoint_id=checkpoint_id or run.last_checkpoint_id,
                notes=notes,
            ),
        )
    return eval_id


def export_audit(
    run_id: str | None = None,
    format: str = "pdf",
    template: str = "default",
    output: str | os.PathLike[str] | None = None,
) -> Any:
    """Seal the run and export its audit package (pdf, json or xlsx).

    Asks the exporter (COGNIFY_EXPORTER_URL, default http://127.0.0.1:8082, with
    COGNIFY_API_KEY) to seal the run when needed and write the package to WORM storage,
    downloads it, checks its SHA-256 against the package hash and its signed envelope
    against the workspace's public key, and writes `output` with `output.dsse.json` and
    `output.pub.pem` beside it. Returns a dict: path, package_hash, object_key, bucket.
    A seal the exporter refuses raises CognifyError with every reason.
    """
    import hashlib
    import json
    import urllib.error
    import urllib.request
    from pathlib import Path

    from . import package_verify

    run_id = run_id or (_current.run_id if _current is not None else None)
    if not run_id:
        raise CognifyError(
            "export_audit needs a run_id to ask the exporter service for "
            "(no run is active in this process)"
        )
    base = os.environ.get("COGNIFY_EXPORTER_URL", "http://127.0.0.1:8082").rstrip("/")
    api_key = os.environ.get("COGNIFY_API_KEY") or (
        _current.settings.api_key if _current is not None else ""
    )

    def call(method: str, path: str, body: Any = None) -> tuple[bytes, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{base}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}")
            reasons = detail.get("reasons") or [detail.get("error", exc.reason)]
            raise CognifyError(
                f"the exporter refused ({exc.code}): " + "; ".join(map(str, reasons))
            ) from None
        except urllib.error.URLError as exc:
            raise CognifyError(f"cannot reach the exporter at {base}: {exc.reason}") from None

    body, _ = call("POST", f"/v1/runs/{run_id}/exports", {"format": format, "template": template})
    row = json.loads(body)
    data, headers = call("GET", f"/v1/runs/{run_id}/exports/{template}/{format}")
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if actual != row["package_hash"] or actual != headers.get("X-Cognify-Package-Hash"):
        raise CognifyError(
            f"the downloaded package's SHA-256 is {actual}, not the package hash "
            f"{row['package_hash']}: not written"
        )
    envelope, _ = call("GET", f"/v1/runs/{run_id}/exports/{template}/{format}/envelope")
    # The seal key by the authenticated API (a key of the workspace), never one that came
    # with the package: the one the envelope names, current or retired (docs/spec/trust.md).
    key, _ = call("GET", f"/v1/workspaces/{row['workspace_id']}/seal-key")
    published = json.loads(key)
    named = {s.get("keyid") for s in json.loads(envelope).get("signatures", [])}
    chosen = [k for k in published.get("keys", []) if k.get("key_id") in named]
    pem = (chosen[0] if chosen else published)["public_key_pem"].encode()
    verdict = package_verify.verify(data, json.loads(envelope), package_verify.load_public_key(pem))
    if not verdict.ok:
        raise CognifyError("the package does not verify: " + "; ".join(verdict.failed))
    path = Path(output) if output else Path(row["object_key"].rsplit("/", 1)[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    Path(f"{path}.dsse.json").write_bytes(envelope)
    Path(f"{path}.pub.pem").write_bytes(pem)
    return {**row, "path": str(path)}


def finish(timeout_s: float | None = None) -> int:
    """Flush and close the current run now (also done automatically at exit). Returns the
    bytes still spooled for later delivery."""
    global _current
    if _current is None:
        return 0
    left = _current.close(timeout_s)
    _current = None
    return left


__all__ = [
    "CognifyError",
    "ConfigurationError",
    "current_run",
    "dataset",
    "eval",
    "export_audit",
    "finish",
    "init",
    "start_run",
]
