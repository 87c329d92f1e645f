"""Payloads for what a training loop records: its configuration, metrics and checkpoints.

Shared by `Run.log_*` (custom loops) and the Trainer callback. Each builder runs on the
publisher thread (the run enqueues a `partial` of it), never on the training thread.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cognify_events as ev
from cognify_hashing import canonical_json

from .redaction import jsonable, redact
from .wire import MetricValues


def config_payload(
    settings: Mapping[str, Any],
    model: Any = None,
    optimizer: str | None = None,
    lr_scheduler: str | None = None,
    trainer_class: str | None = None,
) -> ev.ConfigCapturedPayload:
    """`settings` are the run's hyperparameters (secrets by name redacted); `model`, when
    given, adds its architecture (`model.config`), parameter counts and PEFT adapters."""
    training_args, redacted = redact(dict(settings))
    config = getattr(model, "config", None)
    architecture: dict[str, Any] = {}
    if config is not None and hasattr(config, "to_dict"):
        architecture, more = redact(config.to_dict())
        redacted += [f"model_config.{k}" for k in more]
    params = list(model.parameters()) if model is not None and hasattr(model, "parameters") else []
    peft = getattr(model, "peft_config", None)
    peft_config = None
    if isinstance(peft, dict) and peft:
        peft_config = {
            name: jsonable(getattr(c, "to_dict", lambda c=c: vars(c))()) for name, c in peft.items()
        }
    # The config node's identity is the hash of what was configured (RFC 8785 JSON), so the
    # same configuration in two runs is recognisably the same node content.
    digest = hashlib.sha256(
        canonical_json({"training_args": training_args, "model": architecture, "peft": peft_config})
    ).hexdigest()
    model_type = re.sub(r"[^A-Za-z0-9._-]", "-", str(getattr(config, "model_type", "model")))
    return ev.ConfigCapturedPayload(
        config_id=f"cfg_{model_type}_{digest[:12]}",
        config_hash=f"sha256:{digest}",
        training_args=training_args,
        model_architecture=architecture,
        model_type=getattr(config, "model_type", None),
        parameter_count=sum(p.numel() for p in params) if params else None,
        trainable_parameter_count=sum(p.numel() for p in params if p.requires_grad)
        if params
        else None,
        peft_config=peft_config,
        optimizer=optimizer,
        lr_scheduler=lr_scheduler,
        trainer_class=trainer_class,
        redacted_keys=redacted,
    )


def checkpoint_payload(path: Path, step: int, checkpoint_id: str) -> ev.CheckpointSavedPayload:
    files = []
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            files.append(
                ev.FileEntry(path=file.relative_to(path).as_posix(), size=file.stat().st_size)
            )
    return ev.CheckpointSavedPayload(
        checkpoint_id=checkpoint_id,
        step=step,
        path=str(path),
        files=files,
        total_bytes=sum(f.size for f in files),
    )


def metric_values(step: int, epoch: float | None, logs: Mapping[str, Any]) -> MetricValues | None:
    """What one log call recorded, as plain values (the publisher encodes them without
    pydantic where it can: wire.py); None when it held no number."""
    metrics = {
        k: x for k, x in ((k, _number(v)) for k, v in logs.items() if k != "step") if x is not None
    }
    if not metrics:
        return None
    finite, nonfinite = split_finite(metrics)
    if isinstance(epoch, int) and not isinstance(epoch, bool):
        epoch = float(epoch)  # as the model would take it
    return MetricValues(step, epoch, finite, nonfinite)


def metrics_payload(
    step: int, epoch: float | None, logs: Mapping[str, Any]
) -> ev.MetricsLoggedPayload | None:
    values = metric_values(step, epoch, logs)
    return None if values is None else as_payload(values)


def as_payload(v: MetricValues) -> ev.MetricsLoggedPayload:
    return ev.MetricsLoggedPayload(
        step=v.step, epoch=v.epoch, metrics=v.metrics, nonfinite_metrics=v.nonfinite
    )


def split_finite(values: Mapping[str, float]) -> tuple[dict[str, float], dict[str, str]]:
    """Numbers apart from NaN and infinities, which are no JSON numbers: those are kept by
    name as "nan", "inf" or "-inf" (the events' `nonfinite_metrics`)."""
    finite = {k: v for k, v in values.items() if v == v and abs(v) != float("inf")}
    return finite, {k: str(v) for k, v in values.items() if k not in finite}


def _number(value: Any) -> float | None:
    """A metric's value: a number, or a one-element tensor/array (read here, off the
    training thread); anything else is not a metric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "size", None) not in (None, 0):
        try:
            got = item()
        except (TypeError, ValueError, RuntimeError):
            return None
        return float(got) if isinstance(got, (int, float)) and not isinstance(got, bool) else None
    return None
