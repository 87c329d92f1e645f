"""Drive the installed SDK through a whole run, inside one of the matrix's virtual environments.

Runs under the interpreter being tested (3.9 to 3.13) with only the SDK's wheels, their
dependencies and transformers installed: no torch unless `--train` is given (then the
environment must provide it). Two ways through a run:

- `callback` (default): `CognifyTrainerCallback` fed transformers' own `TrainingArguments`,
  `TrainerState` and `TrainerControl`, with real checkpoint directories, hook by hook in the
  order a Trainer calls them; `TrainingArguments` needs no torch.
- `--train`: a real `Trainer` training a tiny Llama built from a config (no download).

Prints one line of JSON: run_id, python, transformers, spooled bytes left.
The configuration comes from COGNIFY_* environment variables.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import cognify
import transformers
from cognify.integrations.huggingface import CognifyTrainerCallback
from transformers import TrainerControl, TrainerState, TrainingArguments

STEPS = 6
SAVE_EVERY = 3


def _dataset_file(work: Path) -> Path:
    path = work / "notes.jsonl"
    rows = [{"text": f"patient {i} discharged stable", "label": i % 2} for i in range(16)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _save_checkpoint(out: Path, step: int) -> None:
    checkpoint = out / f"checkpoint-{step}"
    checkpoint.mkdir(parents=True)
    (checkpoint / "model.safetensors").write_bytes(bytes(range(256)) * (step + 1))
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}))


def drive_callback(work: Path, callback: CognifyTrainerCallback) -> None:
    out = work / "out"
    args = TrainingArguments(
        output_dir=str(out), max_steps=STEPS, logging_steps=1, save_steps=SAVE_EVERY, report_to=[]
    )
    state, control = TrainerState(), TrainerControl()
    state.max_steps = STEPS
    callback.on_init_end(args, state, control)
    callback.on_train_begin(args, state, control, model=None, optimizer=None, lr_scheduler=None)
    for step in range(1, STEPS + 1):
        callback.on_step_begin(args, state, control)
        state.global_step, state.epoch = step, step / STEPS
        logs = {"loss": 2.0 / step, "learning_rate": 1e-4, "grad_norm": 1.5}
        state.log_history.append({**logs, "step": step, "epoch": state.epoch})
        callback.on_step_end(args, state, control)
        callback.on_log(args, state, control, logs=logs)
        if step % SAVE_EVERY == 0:
            _save_checkpoint(out, step)
            callback.on_save(args, state, control)
    callback.on_evaluate(args, state, control, metrics={"eval_loss": 0.5, "epoch": 1.0})
    callback.on_train_end(args, state, control)


def drive_trainer(work: Path, callback: CognifyTrainerCallback) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Trainer

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=16,
    )
    model = LlamaForCausalLM(config)
    rows: list[dict[str, Any]] = []
    for i in range(32):
        ids = torch.tensor([(i + j) % 32 for j in range(8)])
        rows.append({"input_ids": ids, "labels": ids.clone()})
    # `use_cpu` came in transformers 4.34; without a GPU either way trains on the CPU.
    cpu: dict[str, Any] = (
        {"use_cpu": True} if "use_cpu" in TrainingArguments.__dataclass_fields__ else {}
    )
    args = TrainingArguments(
        output_dir=str(work / "out"),
        max_steps=STEPS,
        per_device_train_batch_size=4,
        logging_steps=1,
        save_steps=SAVE_EVERY,
        report_to=[],
        disable_tqdm=True,
        **cpu,
    )
    trainer = Trainer(model=model, args=args, train_dataset=rows, callbacks=[callback])
    trainer.train()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tag", required=True, help="run tag `matrix` to find the run by")
    parser.add_argument("--train", action="store_true", help="a real Trainer (needs torch)")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cognify-matrix-"))
    run = cognify.init(project="sdk-matrix", run_tags={"matrix": opts.tag})
    assert run is not None
    ref = cognify.dataset(
        str(_dataset_file(work)),
        name="matrix-notes",
        version="1",
        provenance={"source_system": "synthetic", "authorized_use": "tests"},
    )
    callback = CognifyTrainerCallback(train_dataset_ref=ref)
    (drive_trainer if opts.train else drive_callback)(work, callback)
    cognify.eval(benchmark_name="matrix-bench", benchmark_version="1", results={"score": 0.9})
    left = cognify.finish(60)
    print(
        json.dumps(
            {
                "run_id": run.run_id,
                "python": ".".join(map(str, sys.version_info[:3])),
                "transformers": transformers.__version__,
                "spooled_bytes_left": left,
            }
        )
    )


if __name__ == "__main__":
    main()
