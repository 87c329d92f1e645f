"""Broker outages and crashes: training finishes on time, every event arrives once, in order.

Each test runs its own Kafka broker (same jars, own ports and state) so that stopping it
does not disturb the shared stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .conftest import ROOT, PrivateKafka, now_ms, read_run_events

SCRIPT = Path(__file__).with_name("train_script.py")


def _env(kafka: PrivateKafka, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "COGNIFY_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "COGNIFY_WORKSPACE_ID": "ws-sdk-tests",
        "COGNIFY_API_KEY": "cgk_durability",
        "COGNIFY_SPOOL_DIR": str(tmp / "spool"),
        "OUT": str(tmp / "out"),
        "TOKENIZERS_PARALLELISM": "false",
        **extra,
    }


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_step(proc: subprocess.Popen[str], marker: Path, step: int) -> None:
    while not (marker.exists() and marker.read_text() and int(marker.read_text()) >= step):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.1)


def _wait_for(path: Path, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.2)
    raise AssertionError(f"{path} did not appear within {timeout_s} s")


def _assert_once_in_order(events: list[dict[str, Any]]) -> Counter[str]:
    assert events
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert len({e["event_id"] for e in events}) == len(events)
    return Counter(e["type"] for e in events)


def _train_seconds(output: str) -> float:
    line = next(x for x in output.splitlines() if x.startswith("train_seconds="))
    return float(line.split("=", 1)[1])


def test_kafka_stopped_mid_run_then_back_delivers_everything_once_in_order(
    private_kafka: PrivateKafka, tmp_path: Path
) -> None:
    since = now_ms()
    steps = tmp_path / "step"
    done = tmp_path / "done"
    env = _env(
        private_kafka,
        tmp_path,
        STEPS="30",
        STEP_SLEEP="0.1",
        STEP_MARKER=str(steps),
        DONE_MARKER=str(done),
        COGNIFY_FLUSH_TIMEOUT_S="180",
    )
    proc = _start(env)
    try:
        _wait_for_step(proc, steps, 5)
        private_kafka.stop()  # mid-run: steps 5..30 happen with the broker gone
        run_id = _wait_for(done)
        private_kafka.start()
        output, _ = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert proc.returncode == 0, output
    # "On time": 30 steps paced at 0.1 s; a blocked training thread would take far longer
    # (the broker is gone for most of the run).
    assert _train_seconds(output) < 30 * 0.1 + 20, output
    events = read_run_events(private_kafka.bootstrap, since, run_id=run_id)
    kinds = _assert_once_in_order(events)
    assert kinds["metrics.logged"] >= 30 and kinds["run.ended"] == 1
    assert kinds["checkpoint.saved"] == 3


def test_events_spooled_by_a_killed_process_are_delivered_by_the_next(
    private_kafka: PrivateKafka, tmp_path: Path
) -> None:
    since = now_ms()
    steps = tmp_path / "step"
    private_kafka.stop()  # everything this run emits must go to the spool
    env = _env(private_kafka, tmp_path, STEPS="200", STEP_SLEEP="0.05", STEP_MARKER=str(steps))
    proc = _start(env)
    try:
        _wait_for_step(proc, steps, 15)
        time.sleep(0.5)  # let the publisher fsync what the last steps enqueued
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.kill()
    assert list((tmp_path / "spool").glob("*.seg")), "the killed process left a spool"
    private_kafka.start()
    sync = subprocess.run(
        [
            str(Path(sys.executable).with_name("cognify")),
            "sync",
            "--spool-dir",
            str(tmp_path / "spool"),
            "--kafka-bootstrap",
            private_kafka.bootstrap,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    assert "delivered" in sync.stdout
    started = read_run_events(private_kafka.bootstrap, since, tag=("test", ""), timeout_s=10)
    run_ids = {e["run_id"] for e in started}
    assert len(run_ids) == 1
    kinds = _assert_once_in_order(started)
    assert kinds["run.started"] == 1 and kinds["metrics.logged"] >= 15
    assert kinds["run.ended"] == 0  # it never ended: the services will call it abandoned
    assert list((tmp_path / "spool").glob("*.seg")) == []


def test_a_process_stopped_with_sigterm_ends_its_run_and_loses_no_event(
    private_kafka: PrivateKafka, tmp_path: Path
) -> None:
    """Schedulers (Slurm, Kubernetes) send SIGTERM before they stop a job. Python's default
    action would drop the events still queued in memory; the SDK exits the normal way, ends
    the run as interrupted and delivers everything."""
    since = now_ms()
    steps = tmp_path / "step"
    env = _env(
        private_kafka,
        tmp_path,
        STEPS="400",
        STEP_SLEEP="0.05",
        STEP_MARKER=str(steps),
        RUN_TAG="sigterm",
    )
    proc = _start(env)
    try:
        _wait_for_step(proc, steps, 15)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, output
    events = read_run_events(private_kafka.bootstrap, since, tag=("test", "sigterm"))
    kinds = _assert_once_in_order(events)
    assert kinds["metrics.logged"] >= 15 and kinds["run.ended"] == 1
    assert kinds["metrics.logged"] < 400  # it really was stopped mid-run
    ended = events[-1]
    assert ended["type"] == "run.ended"
    assert ended["payload"]["status"] == "interrupted"
    assert ended["payload"]["error_message"] == "terminated by SIGTERM"
    assert ended["payload"]["last_seq"] == len(events) - 1
    assert list((tmp_path / "spool").glob("*.seg")) == []
