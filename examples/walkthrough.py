"""The walkthrough (shared/seeds/000_*), step by step, as written, with a tiny model and a
small synthetic dataset in place of the clinical ones.

    COGNIFY_API_KEY=... COGNIFY_WORKSPACE_ID=... python examples/walkthrough.py [DATA_DIR]

Configuration comes from the environment (`eval "$(deploy/stack env)"` points it at the
local stack). DATA_DIR (default: a temporary directory) receives the dataset and checkpoints.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cognify

from examples import tinylm

DATA = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="cognify-walk-"))
tinylm.save_notes(DATA / "clinical-notes-v3.1")

# Step 1: workspace setup
cognify.init(
    workspace_id=os.environ.get("COGNIFY_WORKSPACE_ID", "your-workspace-id"),
    api_key=os.environ["COGNIFY_API_KEY"],
    project="clinical-nlp-v2",
    run_tags={"team": "ml-platform", "use_case": "discharge-summary"},
)

# Step 2: dataset registration
from datasets import load_from_disk  # noqa: E402

# Load your dataset as usual
train_dataset = load_from_disk(str(DATA / "clinical-notes-v3.1/train"))
eval_dataset = load_from_disk(str(DATA / "clinical-notes-v3.1/eval"))

# Register with Cognify — this computes SHA-256 hashes and
# stores the versioned snapshot record
cgnf_train_ds = cognify.dataset(
    dataset=train_dataset,
    name="clinical-notes",
    version="3.1",
    source_path=str(DATA / "clinical-notes-v3.1/train"),
    provenance={
        "source_system": "ehr-extraction-pipeline",
        "extraction_date": "2025-04-15",
        "deidentification_method": "safe_harbor",
        "authorized_use": "discharge-summary-fine-tuning",
        "record_count": len(train_dataset),
    },
)

cgnf_eval_ds = cognify.dataset(
    dataset=eval_dataset,
    name="clinical-notes-eval",
    version="3.1",
    source_path=str(DATA / "clinical-notes-v3.1/eval"),
    provenance={
        "source_system": "ehr-extraction-pipeline",
        "extraction_date": "2025-04-15",
        "deidentification_method": "safe_harbor",
        "authorized_use": "discharge-summary-fine-tuning",
        "record_count": len(eval_dataset),
    },
)

# Step 3: Cognify Trainer callback
from cognify.integrations.huggingface import CognifyTrainerCallback  # noqa: E402
from transformers import Trainer, TrainingArguments  # noqa: E402

# Initialize the callback, linking it to your registered datasets
cognify_callback = CognifyTrainerCallback(
    train_dataset_ref=cgnf_train_ds,
    eval_dataset_ref=cgnf_eval_ds,
    capture_hyperparams=True,  # logs TrainingArguments fields
    capture_checkpoints=True,  # hashes checkpoint dirs on save
    capture_system_info=True,  # logs GPU type, CUDA version, etc.
)

tokenizer = tinylm.tokenizer()
model = tinylm.model(vocab_size=len(tokenizer))
training_args = TrainingArguments(
    output_dir=str(DATA / "output"),
    max_steps=int(os.environ.get("WALKTHROUGH_STEPS", "12")),
    per_device_train_batch_size=8,
    logging_steps=2,
    eval_strategy="steps",
    eval_steps=6,
    save_strategy="steps",
    save_steps=6,
    report_to=[],
    use_cpu=True,
)

# Pass to Trainer as usual
trainer = Trainer(
    model=model,
    args=training_args,
    train_dataset=tinylm.tokenized(train_dataset, tokenizer),
    eval_dataset=tinylm.tokenized(eval_dataset, tokenizer),
    callbacks=[cognify_callback],  # add alongside any existing callbacks
)
trainer.train()

# Step 4: eval benchmark logging
# After running your benchmark evaluation suite
cognify.eval(
    benchmark_name="clinical-safety-v2",
    benchmark_version="2.3",
    results={
        "accuracy": 0.921,
        "f1_macro": 0.887,
        "false_negative_rate": 0.041,
        "demographic_parity_gap": 0.018,
    },
    eval_dataset_ref=cgnf_eval_ds,
    notes="Evaluated on held-out discharge notes from Q1 2025. "
    "FNR within policy threshold of 0.05.",
)

run = cognify.current_run()
assert run is not None
print(f"run_id={run.run_id}")
left = cognify.finish()
print(f"spooled_bytes_left={left}")
