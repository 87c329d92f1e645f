"""Real fine-tunes of a tiny model, Trainer and SFTTrainer, with the callback: the events in
the real Kafka match what happened."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import cognify
import pytest
from cognify.integrations.huggingface import CognifyTrainerCallback
from transformers import Trainer, TrainingArguments

from examples import tinylm

from .conftest import now_ms, read_run_events

SECRET = "hf_SUPERSECRET_token_123"


def _args(out: Path, **extra: Any) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(out),
        max_steps=12,
        per_device_train_batch_size=4,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=4,
        save_steps=6,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        hub_token=SECRET,
        **extra,
    )


def _check(events: list[dict[str, Any]], trainer: Any) -> None:
    assert events, "the run's events reached Kafka"
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(len(events))), "ordered, gapless sequence numbers"
    assert len({e["event_id"] for e in events}) == len(events), "no duplicates"
    kinds = Counter(e["type"] for e in events)
    history = trainer.state.log_history
    assert kinds["metrics.logged"] == len(history)
    assert kinds["evaluation.recorded"] == sum(1 for h in history if "eval_loss" in h)
    assert kinds["checkpoint.saved"] == 2
    assert kinds["run.started"] == kinds["run.ended"] == kinds["run.config_captured"] == 1
    assert kinds["dataset.registered"] == 2
    logged_steps = [e["payload"]["step"] for e in events if e["type"] == "metrics.logged"]
    assert logged_steps == [h["step"] for h in history]
    saves = [e["payload"] for e in events if e["type"] == "checkpoint.saved"]
    assert [s["step"] for s in saves] == [6, 12]
    assert all(any(f["path"] == "config.json" for f in s["files"]) for s in saves)
    ended = next(e for e in events if e["type"] == "run.ended")
    assert ended["payload"]["status"] == "completed"
    assert all(e["signature"].startswith("hmac-sha256:") for e in events)
    config = next(e for e in events if e["type"] == "run.config_captured")["payload"]
    assert config["training_args"]["hub_token"] == "<redacted>"
    assert "hub_token" in config["redacted_keys"]
    assert config["parameter_count"] > 0 and config["optimizer"]
    everything = repr(events)
    assert (
        SECRET not in everything and os.environ.get("COGNIFY_API_KEY", "k-unset") not in everything
    )


@pytest.fixture
def audited(tmp_path: Path, unique: str) -> Any:
    since = now_ms()
    run = cognify.init(
        workspace_id="ws-sdk-tests",
        api_key=f"cgk_{unique}",
        project="sdk-tests",
        run_tags={"test": unique},
        spool_dir=tmp_path / "spool",
    )
    assert run is not None
    train = cognify.dataset(tinylm.notes(32), name="notes", version="1", provenance={})
    evals = cognify.dataset(tinylm.notes(8, seed=3), name="notes-eval", version="1")
    yield run, train, evals, since
    cognify.finish(10)


def test_a_trainer_run_is_recorded_event_for_event(tmp_path: Path, audited: Any) -> None:
    run, train, evals, since = audited
    tok = tinylm.tokenizer()
    trainer = Trainer(
        model=tinylm.model(vocab_size=len(tok)),
        args=_args(tmp_path / "out"),
        train_dataset=tinylm.tokenized(tinylm.notes(32), tok),
        eval_dataset=tinylm.tokenized(tinylm.notes(8, seed=3), tok),
        callbacks=[CognifyTrainerCallback(train, evals)],
    )
    trainer.train()
    assert cognify.finish(30) == 0
    events = read_run_events(run.settings.kafka_bootstrap, since, run_id=run.run_id)
    _check(events, trainer)
    model = next(e for e in events if e["type"] == "model.registered")["payload"]
    assert model["checkpoint_id"] == "ckpt_step_12"


def test_an_sft_trainer_run_is_recorded_event_for_event(tmp_path: Path, audited: Any) -> None:
    from trl.trainer.sft_config import SFTConfig
    from trl.trainer.sft_trainer import SFTTrainer

    run, train, evals, since = audited
    tok = tinylm.tokenizer()
    args = SFTConfig(
        output_dir=str(tmp_path / "sft"),
        max_steps=12,
        per_device_train_batch_size=4,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=4,
        save_steps=6,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        hub_token=SECRET,
        max_length=16,
        dataset_text_field="text",
    )
    trainer = SFTTrainer(
        model=tinylm.model(vocab_size=len(tok)),
        args=args,
        train_dataset=tinylm.notes(32),
        eval_dataset=tinylm.notes(8, seed=3),
        processing_class=tok,
        callbacks=[CognifyTrainerCallback(train, evals)],
    )
    trainer.train()
    assert cognify.finish(30) == 0
    events = read_run_events(run.settings.kafka_bootstrap, since, run_id=run.run_id)
    _check(events, trainer)
    config = next(e for e in events if e["type"] == "run.config_captured")["payload"]
    assert config["training_args"]["max_length"] == 16  # SFTConfig fields are captured too
