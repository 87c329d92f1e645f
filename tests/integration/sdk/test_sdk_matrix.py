"""The install matrix (tests/sdk_matrix): on every supported Python a fresh venv installs the
SDK from its wheels and records a whole run that reaches Kafka signed and in order; a real
Trainer records one with the newest transformers and with transformers 4.36."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cognify_events.codec import decode_strict
from cognify_events.signing import signing_key, verify

from tests.sdk_matrix import matrix

from .conftest import now_ms, read_run_events

API_KEY = "cgk_sdk_matrix"
CELLS = {cell.name: cell for cell in matrix.cells()}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    built = matrix.build_wheels(tmp_path_factory.mktemp("dist"))
    assert [w.name.split("-")[0] for w in built] == [
        "cognify_events",
        "cognify_hashing",
        "cognify_sdk",
    ]
    yield built


def _events_of(cell: str, wheels: list[Path], tmp: Path, unique: str) -> tuple[Any, list[Any]]:
    env = {
        **os.environ,
        "COGNIFY_WORKSPACE_ID": "ws-sdk-matrix",
        "COGNIFY_API_KEY": API_KEY,
        "COGNIFY_SPOOL_DIR": str(tmp / "spool"),
        "TOKENIZERS_PARALLELISM": "false",
    }
    since = now_ms()
    result = matrix.run_cell(CELLS[cell], wheels, tmp, unique, env)
    assert result["spooled_bytes_left"] == 0
    events = read_run_events(
        os.environ.get("COGNIFY_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        since,
        run_id=str(result["run_id"]),
    )
    return result, events


def _assert_a_whole_signed_run(events: list[Any]) -> Counter[str]:
    key = signing_key(API_KEY)
    assert events, "no event of the run reached the raw topic"
    assert all(verify(e, key) for e in events), "an event's signature does not verify"
    for e in events:  # what ingest's strict decoder admits
        decode_strict(json.dumps(e).encode())
    assert [e["seq"] for e in events] == list(range(len(events)))
    kinds = Counter(e["type"] for e in events)
    assert events[0]["type"] == "run.started"
    ended = [e for e in events if e["type"] == "run.ended"]
    assert len(ended) == 1 and ended[0]["payload"]["status"] == "completed"
    assert kinds["dataset.registered"] == 1 and kinds["run.config_captured"] == 1
    assert kinds["checkpoint.saved"] == 2 and kinds["model.registered"] == 1
    saved = [e["payload"] for e in events if e["type"] == "checkpoint.saved"]
    assert [s["step"] for s in saved] == [3, 6] and all(s["files"] for s in saved)
    return kinds


@pytest.mark.parametrize("version", matrix.VERSIONS)
def test_each_python_installs_the_wheels_and_records_a_callback_run(
    version: str, wheels: list[Path], tmp_path: Path, unique: str
) -> None:
    result, events = _events_of(f"py{version}", wheels, tmp_path, unique)
    assert str(result["python"]).startswith(f"{version}.")
    kinds = _assert_a_whole_signed_run(events)
    assert kinds["metrics.logged"] == 6  # drive.STEPS, each logged
    config = next(e for e in events if e["type"] == "run.config_captured")["payload"]
    assert config["training_args"]["save_steps"] == 3  # transformers' own TrainingArguments


@pytest.mark.parametrize("cell", sorted(matrix.TRAIN_CELLS))
def test_a_real_trainer_on_the_projects_torch_records_a_run(
    cell: str, wheels: list[Path], tmp_path: Path, unique: str
) -> None:
    result, events = _events_of(cell, wheels, tmp_path, unique)
    if cell == "train-4.36":
        assert str(result["transformers"]).startswith("4.36.")
    kinds = _assert_a_whole_signed_run(events)
    losses = [e["payload"]["metrics"].get("loss") for e in events if e["type"] == "metrics.logged"]
    assert kinds["metrics.logged"] >= 6 and all(isinstance(x, float) for x in losses[:6])
    config = next(e for e in events if e["type"] == "run.config_captured")["payload"]
    assert config["model_type"] == "llama" and config["parameter_count"] > 0
