"""Custom training loops (plain PyTorch, Accelerate on the CPU, two gloo ranks) record a whole
run through `cognify.start_run`: configuration, metrics per step, checkpoint directories with
their files, the model, and how the run ended; what reaches the raw topic is signed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from cognify_events.signing import signing_key, verify

from .conftest import ROOT, free_port, now_ms, read_run_events

API_KEY = "cgk_custom_loops"


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "COGNIFY_WORKSPACE_ID": "ws-sdk-tests",
        "COGNIFY_API_KEY": API_KEY,
        "COGNIFY_SPOOL_DIR": str(tmp / "spool"),
        "MASTER_PORT": str(free_port()),
    }


def _run(args: list[str], tmp: Path, ok: bool = True) -> tuple[str, list[dict[str, Any]]]:
    since = now_ms()
    done = subprocess.run(
        [sys.executable, *args],
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (done.returncode == 0) == ok, done.stdout[-2000:] + done.stderr[-4000:]
    run_ids = [x.split("=", 1)[1] for x in done.stdout.splitlines() if x.startswith("run_id=")]
    assert len(run_ids) == 1, done.stdout  # one run record, whatever the number of ranks
    bootstrap = os.environ.get("COGNIFY_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    events = read_run_events(bootstrap, since, run_id=run_ids[0])
    key = signing_key(API_KEY)
    assert events and all(verify(e, key) for e in events)
    assert [e["seq"] for e in events] == list(range(len(events)))
    return run_ids[0], events


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in events if e["type"] == kind]


def test_a_plain_pytorch_loop_records_a_completed_run_with_metrics_and_checkpoints(
    tmp_path: Path,
) -> None:
    _, events = _run([str(ROOT / "examples/plain_pytorch.py"), str(tmp_path / "work")], tmp_path)
    kinds = Counter(e["type"] for e in events)
    assert kinds["metrics.logged"] == 20 and kinds["checkpoint.saved"] == 2
    losses = [m["metrics"]["loss"] for m in _of(events, "metrics.logged")]
    assert [m["step"] for m in _of(events, "metrics.logged")] == list(range(1, 21))
    assert all(isinstance(x, float) and x >= 0 for x in losses)  # tensors read as numbers
    config = _of(events, "run.config_captured")[0]
    assert config["training_args"] == {"lr": 0.05, "steps": 20, "batch_size": 16, "save_every": 10}
    assert config["parameter_count"] == 2 * 8 + 8 + 8 + 1 and config["optimizer"] == "SGD"
    for saved, step in zip(_of(events, "checkpoint.saved"), (10, 20), strict=True):
        assert saved["step"] == step and saved["checkpoint_id"] == f"ckpt_step_{step}"
        assert saved["path"] == str((tmp_path / "work/out" / f"checkpoint-{step}").resolve())
        sizes = {f["path"]: f["size"] for f in saved["files"]}
        assert set(sizes) == {"model.pt", "optimizer.pt"}
        assert sizes["model.pt"] == (Path(saved["path"]) / "model.pt").stat().st_size
    model = _of(events, "model.registered")[0]
    assert model["checkpoint_id"] == "ckpt_step_20"
    assert _of(events, "evaluation.recorded")[0]["checkpoint_id"] == "ckpt_step_20"
    assert _of(events, "dataset.registered")[0]["record_count"] == 64
    assert events[-1]["type"] == "run.ended"
    assert events[-1]["payload"] == {
        **events[-1]["payload"],
        "status": "completed",
        "global_step": 20,
    }


def test_an_exception_in_the_run_block_ends_the_run_as_failed(tmp_path: Path) -> None:
    script = str(Path(__file__).with_name("loop_script.py"))
    _, events = _run([script, "fail", str(tmp_path), "fail"], tmp_path, ok=False)
    ended = _of(events, "run.ended")
    assert len(ended) == 1 and ended[0]["status"] == "failed"
    assert ended[0]["error_type"] == "RuntimeError"
    assert _of(events, "metrics.logged")[0]["metrics"] == {"loss": 1.0}


def test_an_accelerate_loop_on_the_cpu_records_its_saved_states(tmp_path: Path) -> None:
    script = str(Path(__file__).with_name("loop_script.py"))
    _, events = _run([script, "accelerate", str(tmp_path / "work"), "acc"], tmp_path)
    assert [m["step"] for m in _of(events, "metrics.logged")] == list(range(1, 7))
    config = _of(events, "run.config_captured")[0]
    assert config["optimizer"] == "AdamW"  # not accelerate's wrapper
    saved = _of(events, "checkpoint.saved")
    assert [s["step"] for s in saved] == [3, 6]
    assert all(any(f["path"].startswith("model") for f in s["files"]) for s in saved)
    assert _of(events, "model.registered")[0]["checkpoint_id"] == "ckpt_step_6"
    assert _of(events, "run.ended")[0]["status"] == "completed"


def test_two_gloo_ranks_make_one_run_record_from_rank_zero(tmp_path: Path) -> None:
    script = str(Path(__file__).with_name("loop_script.py"))
    _, events = _run([script, "gloo", str(tmp_path / "work"), "gloo"], tmp_path)
    kinds = Counter(e["type"] for e in events)
    assert kinds["run.started"] == 1 and kinds["run.ended"] == 1
    metrics = _of(events, "metrics.logged")
    assert len(metrics) == 6 and {m["metrics"]["rank"] for m in metrics} == {0.0}
    saved = _of(events, "checkpoint.saved")
    assert len(saved) == 1 and saved[0]["path"].endswith("rank0-final")
