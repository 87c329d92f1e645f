"""A tiny audited fine-tune run as a separate process, for the outage, crash and torchrun
tests. Configured by environment: TRAINER (trainer|sft), STEPS, OUT, DONE_MARKER,
STEP_SLEEP (seconds per step, to stretch the run), RUN_TAG."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import cognify
from cognify.integrations.huggingface import CognifyTrainerCallback
from transformers import (
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from examples import tinylm


class Pace(TrainerCallback):
    def on_step_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        time.sleep(float(os.environ.get("STEP_SLEEP", "0")))
        marker = os.environ.get("STEP_MARKER")
        if marker:
            Path(marker).write_text(str(state.global_step))


run = cognify.init(project="sdk-tests", run_tags={"test": os.environ.get("RUN_TAG", "")})
out = Path(os.environ["OUT"])
tok = tinylm.tokenizer()
ref = cognify.dataset(tinylm.notes(32), name="notes", version="1", provenance={})
args = TrainingArguments(
    output_dir=str(out),
    max_steps=int(os.environ.get("STEPS", "20")),
    per_device_train_batch_size=4,
    logging_steps=1,
    save_steps=10,
    report_to=[],
    use_cpu=True,
    ddp_backend="gloo" if "WORLD_SIZE" in os.environ else None,
    disable_tqdm=True,
)
trainer = Trainer(
    model=tinylm.model(vocab_size=len(tok)),
    args=args,
    train_dataset=tinylm.tokenized(tinylm.notes(32), tok),
    callbacks=[CognifyTrainerCallback(train_dataset_ref=ref), Pace()],
)
started = time.perf_counter()
trainer.train()
train_s = time.perf_counter() - started
if run is not None:
    print(f"run_id={run.run_id}", flush=True)
print(f"train_seconds={train_s:.3f}", flush=True)
if os.environ.get("DONE_MARKER"):
    Path(os.environ["DONE_MARKER"]).write_text(run.run_id if run else "")
