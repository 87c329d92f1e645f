"""A real Trainer run's evaluations, folded by lineage, point at the checkpoint whose weights
they evaluated: the saved weights, evaluated again, give the loss the run recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cognify
import pytest
from cognify.integrations.huggingface import CognifyTrainerCallback
from cognify_events.codec import decode
from cognify_lineage import dag
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

from examples import tinylm

from .conftest import now_ms, read_run_events


def _args(out: Path) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(out),
        max_steps=12,
        per_device_train_batch_size=4,
        logging_steps=4,
        eval_strategy="steps",
        eval_steps=4,
        save_steps=6,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=7,
    )


def _eval_loss(checkpoint: Path, args: TrainingArguments, data: Any) -> float:
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint))
    return float(Trainer(model=model, args=args, eval_dataset=data).evaluate()["eval_loss"])


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


def test_each_trainer_eval_links_to_the_weights_it_evaluated(tmp_path: Path, audited: Any) -> None:
    run, train, evals, since = audited
    tok = tinylm.tokenizer()
    out = tmp_path / "out"
    eval_data = tinylm.tokenized(tinylm.notes(8, seed=3), tok)
    trainer = Trainer(
        model=tinylm.model(vocab_size=len(tok)),
        args=_args(out),
        train_dataset=tinylm.tokenized(tinylm.notes(32), tok),
        eval_dataset=eval_data,
        callbacks=[CognifyTrainerCallback(train, evals)],
    )
    trainer.train()
    assert cognify.finish(30) == 0
    raw = read_run_events(run.settings.kafka_bootstrap, since, run_id=run.run_id)
    folded = dag.fold_all(decode(json.dumps(e).encode()) for e in raw).runs[run.run_id]

    linked = {
        n.attrs["step"]: (n.attrs.get("evaluated_checkpoint"), n.attrs.get("checkpoint_match"))
        for n in folded.nodes.values()
        if n.type == "eval"
    }
    # evaluated at 4 (nothing saved yet), 8 (descends from 6), 12 (saved right after)
    assert linked == {
        4: (None, None),
        8: ("ckpt_step_6", "earlier_step"),
        12: ("ckpt_step_12", "same_step"),
    }
    to_eval = {(a, b) for a, b in folded.edges if folded.nodes[b].type == "eval"}
    assert {a for a, _ in to_eval if a.startswith("ckpt_")} == {"ckpt_step_6", "ckpt_step_12"}
    assert len([b for a, b in to_eval if a.startswith("ckpt_")]) == 2  # one checkpoint each

    recorded = {
        n.attrs["step"]: n.attrs["metrics"]["eval_loss"]
        for n in folded.nodes.values()
        if n.type == "eval"
    }
    args = _args(tmp_path / "again")
    at_12 = _eval_loss(out / "checkpoint-12", args, eval_data)
    at_6 = _eval_loss(out / "checkpoint-6", args, eval_data)
    assert at_12 == pytest.approx(recorded[12], rel=1e-5)  # the linked weights: same loss
    # the previous rule linked eval 12 to the checkpoint saved before it: other weights
    assert at_6 != pytest.approx(recorded[12], rel=1e-5)
