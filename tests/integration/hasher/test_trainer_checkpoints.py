"""Checkpoints written by a real `Trainer` are hashed by the pool from hash jobs: per-file
hashes equal `sha256sum`'s, and a checkpoint rotated away by `save_total_limit` before it
was hashed is recorded as hash.failed with the reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cognify_events import HashTarget
from cognify_hasher.settings import HasherSettings
from cognify_kafka import KafkaSettings
from transformers import Trainer, TrainingArguments

from examples import tinylm

from .harness import all_answered, collect, job, results_for, running, send_jobs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fine-tune saving every 2 steps and keeping 1 checkpoint: 2 and 4 rotate away."""
    out = tmp_path_factory.mktemp("trainer") / "allowed" / "out"
    tok = tinylm.tokenizer()
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=6,
        per_device_train_batch_size=4,
        save_steps=2,
        save_total_limit=1,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        logging_strategy="no",
    )
    trainer = Trainer(
        model=tinylm.model(vocab_size=len(tok)),
        args=args,
        train_dataset=tinylm.tokenized(tinylm.notes(16), tok),
    )
    trainer.train()
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-6"]
    return out


def _sha256sum(directory: Path) -> dict[str, str]:
    files = sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())
    lines = subprocess.run(
        ["sha256sum", *files], cwd=directory, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


async def test_a_trainer_checkpoint_is_hashed_by_the_pool_as_sha256sum_hashes_it(
    trained: Path, prefix: str, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    settings = _rooted(hasher, trained.parent)
    saved = job(HashTarget.CHECKPOINT, str(trained / "checkpoint-6"))
    async with running(settings):
        await send_jobs(kafka, settings.topics.jobs, [saved])
        events = await collect(kafka, settings.topics.events, all_answered({saved.payload.job_id}))
    [result] = results_for(events, {saved.payload.job_id})[saved.payload.job_id]
    assert result["type"] == "hash.computed", result
    payload = result["payload"]
    assert {f["path"]: f["sha256"] for f in payload["files"]} == _sha256sum(
        trained / "checkpoint-6"
    )
    assert "model.safetensors" in {f["path"] for f in payload["files"]}
    assert payload["algorithm"] == "checkpoint-manifest-v1"
    assert payload["hash"].startswith("sha256:") and payload["bytes_hashed"] > 0
    assert result["run_id"] == saved.run_id and result["seq"] is None
    assert result["producer"]["kind"] == "hasher"


async def test_a_checkpoint_rotated_away_before_it_was_hashed_is_a_recorded_gap(
    trained: Path, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    settings = _rooted(hasher, trained.parent)
    rotated = job(HashTarget.CHECKPOINT, str(trained / "checkpoint-2"))
    async with running(settings):
        await send_jobs(kafka, settings.topics.jobs, [rotated])
        events = await collect(
            kafka, settings.topics.events, all_answered({rotated.payload.job_id})
        )
    [result] = results_for(events, {rotated.payload.job_id})[rotated.payload.job_id]
    assert result["type"] == "hash.failed"
    assert "save_total_limit" in result["payload"]["reason"]
    assert "checkpoint-2" in result["payload"]["reason"]


def _rooted(settings: HasherSettings, root: Path) -> HasherSettings:
    from dataclasses import replace

    return replace(settings, roots=f"*={root}")
