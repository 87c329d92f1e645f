"""`cognify.eval` with a diverged benchmark: NaN and infinities are kept by name in
`nonfinite_metrics` (they are no JSON numbers), so the event passes ingest's strict door
instead of carrying a null it refuses (an in-memory transport; real ingest and lineage in
tests/integration/sdk/test_nonfinite.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cognify
import cognify_events as ev
import pytest


class Sink:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def start(self) -> None:
        return None

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        self.bodies.extend(value for _, value in records)

    async def stop(self) -> None:
        return None


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setenv("COGNIFY_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("COGNIFY_INGEST_URL", "off")
    out = Sink()
    cognify.init("ws-1", "cgk_unit", "evals", transport=lambda: out)
    yield out


def _evaluations(sink: Sink) -> list[dict[str, Any]]:
    assert cognify.finish(10) == 0
    found = [json.loads(b) for b in sink.bodies]
    for body in sink.bodies:
        ev.decode_strict(body)  # what ingest's door does: nothing here is refused
    return [e["payload"] for e in found if e["type"] == "evaluation.recorded"]


def test_nan_and_infinite_results_are_kept_by_name_and_pass_the_door(sink: Sink) -> None:
    cognify.eval(
        "medqa", "2024.1", {"accuracy": 0.81, "auroc": float("nan"), "loss": float("-inf")}
    )
    (payload,) = _evaluations(sink)
    assert payload["metrics"] == {"accuracy": 0.81}
    assert payload["nonfinite_metrics"] == {"auroc": "nan", "loss": "-inf"}


def test_an_all_finite_evaluation_has_no_nonfinite_metrics(sink: Sink) -> None:
    cognify.eval("medqa", "2024.1", {"accuracy": 1, "f1": 0.5})
    (payload,) = _evaluations(sink)
    assert payload["metrics"] == {"accuracy": 1.0, "f1": 0.5}
    assert payload["nonfinite_metrics"] == {}


def test_a_trainer_evaluation_keeps_its_nan_loss_by_name(sink: Sink, tmp_path: Path) -> None:
    from cognify.integrations.huggingface import CognifyTrainerCallback
    from transformers import TrainerControl, TrainerState, TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[], use_cpu=True)
    state = TrainerState(global_step=3)
    metrics = {"eval_loss": float("nan"), "eval_runtime": 0.5, "epoch": 1.0, "eval_x": "text"}
    CognifyTrainerCallback().on_evaluate(args, state, TrainerControl(), metrics=metrics)
    (payload,) = _evaluations(sink)
    assert payload["metrics"] == {"eval_runtime": 0.5, "epoch": 1.0}
    assert payload["nonfinite_metrics"] == {"eval_loss": "nan"}
