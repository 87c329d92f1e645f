"""`cognify.start_run` for custom loops: how the block ends the run, what the calls record,
and silence off rank 0 (an in-memory transport; the real Kafka is in tests/integration/sdk)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cognify
import pytest
from cognify.run import QuietRun, Run


class Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def start(self) -> None:
        return None

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        self.events.extend(json.loads(value) for _, value in records)

    async def stop(self) -> None:
        return None


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setenv("COGNIFY_SPOOL_DIR", str(tmp_path / "spool"))
    yield Sink()
    cognify.finish(0)


def _start(sink: Sink) -> Run | QuietRun:
    return cognify.start_run("ws-1", "cgk_unit", "loops", transport=lambda: sink)


def test_leaving_the_block_completes_the_run_with_its_metrics_and_checkpoint(
    sink: Sink, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "checkpoint-2"
    checkpoint.mkdir()
    (checkpoint / "model.pt").write_bytes(b"x" * 10)
    with _start(sink) as run:
        run.log_config({"lr": 0.1, "hf_token": "secret"})
        run.log_metrics(1, {"loss": 2.0, "note": "text is not a metric"})
        run.log_metrics(2, {"loss": float("nan")})
        assert run.log_checkpoint(checkpoint, 2) == "ckpt_step_2"
        run.log_model()
    assert cognify.current_run() is None  # closed and flushed on the way out
    by_type = {e["type"]: e["payload"] for e in sink.events}
    assert [e["seq"] for e in sink.events] == list(range(len(sink.events)))
    assert by_type["run.config_captured"]["training_args"]["hf_token"] != "secret"
    metrics = [e["payload"] for e in sink.events if e["type"] == "metrics.logged"]
    assert metrics[0]["metrics"] == {"loss": 2.0}
    assert metrics[1]["nonfinite_metrics"] == {"loss": "nan"}
    assert by_type["checkpoint.saved"]["files"] == [{"path": "model.pt", "size": 10}]
    assert by_type["model.registered"]["checkpoint_id"] == "ckpt_step_2"
    assert sink.events[-1]["type"] == "run.ended"
    assert (
        by_type["run.ended"]["status"] == "completed" and by_type["run.ended"]["global_step"] == 2
    )


def test_an_exception_in_the_block_fails_the_run_and_propagates(sink: Sink) -> None:
    with pytest.raises(ZeroDivisionError), _start(sink) as run:
        run.log_metrics(1, {"loss": 1.0})
        _ = 1 / 0
    ended = [e["payload"] for e in sink.events if e["type"] == "run.ended"]
    assert len(ended) == 1
    assert ended[0]["status"] == "failed" and ended[0]["error_type"] == "ZeroDivisionError"


def test_end_takes_a_status_by_name_and_refuses_an_unknown_one(sink: Sink) -> None:
    with _start(sink) as run:
        with pytest.raises(ValueError, match="not one of completed, failed, interrupted"):
            run.end("finished")
        run.end("interrupted")
    ended = [e["payload"] for e in sink.events if e["type"] == "run.ended"]
    assert [e["status"] for e in ended] == ["interrupted"]  # the block did not end it again


def test_a_checkpoint_that_is_not_a_directory_is_refused(sink: Sink, tmp_path: Path) -> None:
    with _start(sink) as run, pytest.raises(ValueError, match="directory"):
        run.log_checkpoint(tmp_path / "missing", 1)


def test_ranks_other_than_zero_record_nothing(
    sink: Sink, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RANK", "1")
    with _start(sink) as run:
        assert isinstance(run, QuietRun) and run.run_id is None
        run.log_config({"lr": 0.1})
        run.log_metrics(1, {"loss": 1.0})
        assert run.log_checkpoint(tmp_path, 1) == "ckpt_step_1"
    assert sink.events == [] and cognify.current_run() is None
