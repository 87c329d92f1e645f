"""What a reviewer reads first among the numbers of a run (pure): the key hyperparameters
out of the full configuration, and the metric families worth a chart (loss with eval loss
on one step axis, learning rate, gradient norm, ...) apart from the runtime and
throughput figures, which read better as a table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import Report

# (label, where to look: training_args keys, then config keys), in reading order
KEY_HYPERPARAMETERS: list[tuple[str, tuple[str, ...]]] = [
    ("learning rate", ("learning_rate",)),
    ("schedule", ("lr_scheduler_type", "lr_scheduler")),
    ("warmup", ("warmup_steps", "warmup_ratio")),
    ("epochs", ("num_train_epochs",)),
    ("max steps", ("max_steps",)),
    ("batch size per device", ("per_device_train_batch_size",)),
    ("gradient accumulation", ("gradient_accumulation_steps",)),
    ("weight decay", ("weight_decay",)),
    ("optimizer", ("optim", "optimizer")),
    ("seed", ("seed",)),
    ("bf16", ("bf16",)),
    ("fp16", ("fp16",)),
]
RUNTIME_WORDS = ("runtime", "per_second", "flos", "epoch", "memory", "time")


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def key_hyperparameters(config: dict[str, Any]) -> list[tuple[str, str]]:
    args = config.get("training_args") or {}
    out = []
    for label, keys in KEY_HYPERPARAMETERS:
        for k in keys:
            v = args.get(k, config.get(k))
            if v not in (None, "", []):
                out.append((label, f"{_text(v)} ({k})"))
                break
    peft = config.get("peft_config") or {}
    if peft:
        for label, k in (("LoRA rank", "r"), ("LoRA alpha", "lora_alpha")):
            if peft.get(k) is not None:
                out.append((label, _text(peft[k])))
        if peft.get("target_modules"):
            out.append(("LoRA targets", _text(peft["target_modules"])))
    for label, k in (("parameters", "parameter_count"), ("trainable", "trainable_parameter_count")):
        if config.get(k) is not None:
            out.append(
                (label, f"{config[k]:,}" if isinstance(config[k], int) else _text(config[k]))
            )
    return out


@dataclass(frozen=True)
class Family:
    title: str
    y_label: str
    series: list[tuple[str, list[tuple[int, float]]]]  # (name, points by step)


def _is_runtime(name: str) -> bool:
    return any(w in name for w in RUNTIME_WORDS)


def families(
    metrics: dict[str, list[tuple[int, float]]], evaluations: list[dict[str, Any]]
) -> tuple[list[Family], list[tuple[str, int, float, float, float]]]:
    """The charts (each a family of series on one step axis) and the runtime table rows
    (name, points, last, min, max)."""
    evals: dict[str, list[tuple[int, float]]] = {}
    for e in evaluations:
        if e.get("step") is None:
            continue
        for name, value in e["metrics"].items():
            evals.setdefault(name, []).append((int(e["step"]), float(value)))
    merged = dict(metrics)
    for name, pts in evals.items():  # eval metrics also logged as metrics: the logged ones win
        merged.setdefault(name, sorted(pts))
    charts: list[Family] = []
    used: set[str] = set()
    Series = list[tuple[str, list[tuple[int, float]]]]
    loss: Series = [(n, merged[n]) for n in ("loss", "train_loss", "eval_loss") if n in merged]
    if loss:
        charts.append(Family("Loss: training and evaluation", "loss", loss))
        used |= {n for n, _ in loss}
    lr: Series = [(n, merged[n]) for n in ("learning_rate", "lr") if n in merged]
    if lr:
        charts.append(Family("Learning rate", "learning rate", lr))
        used |= {n for n, _ in lr}
    table = []
    for name, pts in sorted(merged.items()):
        if name in used or not pts:
            continue
        values = [v for _, v in pts]
        if _is_runtime(name):
            table.append((name, len(pts), values[-1], min(values), max(values)))
        else:
            charts.append(Family(name.replace("_", " "), name, [(name, pts)]))
    return charts, table


def nonfinite_results(report: Report) -> dict[str, dict[str, str]]:
    """Per evaluation id, the results that were not finite ("nan", "inf", "-inf"), as
    lineage keeps them (`nonfinite_metrics` on the eval node; events.md): no metric
    points, so without this they would be missing from every table and chart."""
    out: dict[str, dict[str, str]] = {}
    ids = {e["id"] for e in report.evaluations}
    for e in report.evaluations:  # carried by the report itself, where it does
        if e.get("nonfinite_metrics"):
            out[e["id"]] = {str(k): str(v) for k, v in e["nonfinite_metrics"].items()}
    for n in report.graph.get("nodes", []):
        if n.get("type") == "eval" and n.get("nonfinite_metrics") and n["id"] in ids:
            out.setdefault(n["id"], {str(k): str(v) for k, v in n["nonfinite_metrics"].items()})
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}
