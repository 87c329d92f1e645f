"""The walkthrough seed runs as written; a two-rank torchrun job makes one run record."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .conftest import ROOT, free_port, now_ms, read_run_events


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "COGNIFY_WORKSPACE_ID": "ws-sdk-tests",
        "COGNIFY_API_KEY": "cgk_walkthrough",
        "COGNIFY_SPOOL_DIR": str(tmp / "spool"),
        "TOKENIZERS_PARALLELISM": "false",
        **extra,
    }


def test_the_walkthrough_runs_as_written_against_the_stack(tmp_path: Path) -> None:
    since = now_ms()
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples/walkthrough.py"), str(tmp_path / "data")],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    run_id = next(x for x in done.stdout.splitlines() if x.startswith("run_id=")).split("=")[1]
    assert "spooled_bytes_left=0" in done.stdout
    events = read_run_events(
        os.environ.get("COGNIFY_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), since, run_id=run_id
    )
    kinds = Counter(e["type"] for e in events)
    assert kinds["dataset.registered"] == 2 and kinds["checkpoint.saved"] == 2
    assert kinds["run.ended"] == 1
    bench = [e["payload"] for e in events if e["payload"].get("source") == "benchmark"]
    assert bench[0]["benchmark_name"] == "clinical-safety-v2"
    assert bench[0]["eval_dataset_id"] == "ds_clinical-notes-eval_3.1"
    assert bench[0]["checkpoint_id"] == "ckpt_step_12"
    datasets = {
        e["payload"]["name"]: e["payload"] for e in events if e["type"] == "dataset.registered"
    }
    provenance = datasets["clinical-notes"]["provenance"]
    assert provenance["deidentification_method"] == "safe_harbor"
    assert provenance["record_count"] == datasets["clinical-notes"]["record_count"] == 64


def test_two_ranks_under_torchrun_make_one_run_record(tmp_path: Path, unique: str) -> None:
    since = now_ms()
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    done = subprocess.run(
        [
            torchrun,
            "--nproc_per_node",
            "2",
            "--master_port",
            str(free_port()),
            str(Path(__file__).with_name("train_script.py")),
        ],
        env=_env(
            tmp_path,
            OUT=str(tmp_path / "out"),
            STEPS="6",
            RUN_TAG=unique,
            COGNIFY_PROJECT="sdk-tests",
        ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    events = read_run_events(
        os.environ.get("COGNIFY_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), since, tag=("test", unique)
    )
    kinds = Counter(e["type"] for e in events)
    assert kinds["run.started"] == 1 and kinds["run.ended"] == 1
    assert len({e["run_id"] for e in events}) == 1
    assert [e["seq"] for e in events] == list(range(len(events)))
    system = next(e for e in events if e["type"] == "run.system_info")["payload"]
    assert system["world_size"] == 2
