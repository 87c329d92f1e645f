"""How much each audit/tracking callback costs the training loop.

The same tiny-model Trainer run (STEPS steps, logging every step, a checkpoint every
SAVE_EVERY steps) with no callback, with Cognify's (broker up, and broker down), with
transformers' MLflowCallback (local file store) and, when installed, WandbCallback offline.
A `noop` callback (empty hooks, same timer) shows the floor that timing an empty hook reads
inside the Trainer on this machine. Variants are interleaved over REPS repetitions; figures
are medians. Step times on a shared 2-core machine swing by 20-30%, so the time spent
inside each callback's hooks is measured directly (every hook is wrapped with a
perf_counter_ns timer) as well as the mean step time.

    uv run --group bench python bench/callback_overhead.py [--steps 300] [--reps 3]

Cognify needs the local stack (`deploy/stack up`) for the "broker up" variant.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import cognify
from cognify.integrations.huggingface import CognifyTrainerCallback
from transformers import Trainer, TrainerCallback, TrainingArguments

from examples import tinylm

Timings = dict[str, list[int]]  # hook name -> nanoseconds per call


def timed(callback: TrainerCallback, timings: Timings) -> TrainerCallback:
    """Wrap every on_* hook of `callback` with a timer."""
    for name in dir(callback):
        if name.startswith("on_"):
            hook = getattr(callback, name)

            def wrapper(
                *a: Any, _hook: Callable[..., Any] = hook, _name: str = name, **kw: Any
            ) -> Any:
                t0 = time.perf_counter_ns()
                try:
                    return _hook(*a, **kw)
                finally:
                    timings[_name].append(time.perf_counter_ns() - t0)

            setattr(callback, name, wrapper)
    return callback


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed


def make_callback(variant: str, work: Path) -> tuple[TrainerCallback | None, Callable[[], None]]:
    if variant == "none":
        return None, lambda: None
    if variant == "noop":  # the floor: what timing an empty hook inside the Trainer reads
        return TrainerCallback(), lambda: None
    if variant.startswith("cognify"):
        bootstrap = closed_port() if variant == "cognify-broker-down" else None
        cognify.init(
            workspace_id="ws-bench",
            api_key="cgk_bench",
            project="bench",
            kafka_bootstrap=bootstrap,
            spool_dir=work / "spool",
        )
        return CognifyTrainerCallback(), lambda: None  # flushing happens at exit, not here
    if variant == "mlflow":
        os.environ["MLFLOW_TRACKING_URI"] = (work / "mlruns").as_uri()
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # the issue asks for the local file store
        from transformers.integrations.integration_utils import MLflowCallback

        return MLflowCallback(), lambda: None  # type: ignore[no-untyped-call]
    if variant == "wandb":
        os.environ.update(WANDB_MODE="offline", WANDB_DIR=str(work), WANDB_SILENT="true")
        from transformers.integrations.integration_utils import WandbCallback

        return WandbCallback(), lambda: None  # type: ignore[no-untyped-call]
    raise ValueError(variant)


def one_run(variant: str, steps: int, save_every: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{variant}-"))
    tok = tinylm.tokenizer()
    timings: Timings = defaultdict(list)
    callback, _ = make_callback(variant, work)
    args = TrainingArguments(
        output_dir=str(work / "out"),
        max_steps=steps,
        per_device_train_batch_size=8,
        logging_steps=1,
        save_steps=save_every,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        log_level="error",
    )
    trainer = Trainer(
        model=tinylm.model(vocab_size=len(tok)),
        args=args,
        train_dataset=tinylm.tokenized(tinylm.notes(256), tok),
        callbacks=[timed(callback, timings)] if callback else [],
    )
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    if variant.startswith("cognify"):
        cognify.finish(0 if variant == "cognify-broker-down" else 30)
    return {"step_ms": 1000 * wall / steps, "timings": timings}


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--variants", help="comma-separated subset (default: all available)")
    opts = parser.parse_args()
    variants = ["none", "noop", "cognify", "cognify-broker-down", "mlflow"]
    if importlib.util.find_spec("wandb"):
        variants.append("wandb")
    if opts.variants:
        keep = {*opts.variants.split(","), "none", "noop"}
        variants = [v for v in variants if v in keep]
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    print("warm-up (not counted)", file=sys.stderr, flush=True)
    one_run("none", 20, opts.save_every)
    for rep in range(opts.reps):
        for variant in variants:  # interleaved: drift on a shared machine hits all alike
            print(f"rep {rep + 1}/{opts.reps}: {variant}", file=sys.stderr, flush=True)
            results[variant].append(one_run(variant, opts.steps, opts.save_every))

    rows = {}
    for variant, runs in results.items():
        log_calls = [t for r in runs for t in r["timings"].get("on_log", [])]
        begin_end = [
            sum(r["timings"].get(h, [0])[0] for h in ("on_train_begin", "on_train_end"))
            for r in runs
        ]
        save = [t for r in runs for t in r["timings"].get("on_save", [])]
        rows[variant] = {
            "step_ms": statistics.median(r["step_ms"] for r in runs),
            "log_p50_us": pct(log_calls, 0.50),
            "log_p99_us": pct(log_calls, 0.99),
            "log_mean_us": statistics.fmean(log_calls) / 1000 if log_calls else 0.0,
            "begin_end_ms": statistics.median(begin_end) / 1e6,
            "save_p50_us": pct(save, 0.50),
        }
    print(
        f"\ncallback overhead: {opts.steps} steps x {opts.reps} reps, logging every step, "
        f"checkpoint every {opts.save_every} steps (medians)"
    )
    print(
        f"{'variant':22}{'step ms':>9}{'on_log p50 us':>15}{'p99 us':>9}{'mean us':>9}"
        f"{'begin+end ms':>14}{'on_save us':>12}"
    )
    for variant, row in rows.items():
        print(
            f"{variant:22}{row['step_ms']:9.2f}{row['log_p50_us']:15.1f}{row['log_p99_us']:9.1f}"
            f"{row['log_mean_us']:9.1f}{row['begin_end_ms']:14.2f}{row['save_p50_us']:12.1f}"
        )
    base = rows["none"]["step_ms"]
    print("\nratios")
    for variant, row in rows.items():
        if variant != "none":
            print(f"  {variant:22} step time {row['step_ms'] / base:5.2f}x no-callback")
    for ours in [v for v in ("cognify", "cognify-broker-down") if v in rows]:
        for other in ("mlflow", "wandb"):
            if other in rows and rows[ours]["log_mean_us"]:
                log_ratio = rows[other]["log_mean_us"] / rows[ours]["log_mean_us"]
                edge_ratio = rows[other]["begin_end_ms"] / max(rows[ours]["begin_end_ms"], 1e-6)
                print(
                    f"  {other} / {ours}: on_log mean {log_ratio:7.1f}x, "
                    f"begin+end {edge_ratio:7.1f}x"
                )
    print(
        "\ntargets (cognify, broker up and down): on_log <= 25 us mean, p99 < 50 us, "
        "begin+end <= 50 ms"
    )
    for ours in [v for v in ("cognify", "cognify-broker-down") if v in rows]:
        row = rows[ours]
        ok = row["log_mean_us"] <= 25 and row["log_p99_us"] < 50 and row["begin_end_ms"] <= 50
        print(f"  {ours:22} {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
