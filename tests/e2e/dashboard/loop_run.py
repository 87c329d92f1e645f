"""A custom training loop recorded through the real SDK, without torch: the dashboard tests'
runs beside the walkthrough's (a second run of the project for Compare, a run for the
keyboard-only review, a run that cannot be sealed).

    python loop_run.py SPEC_JSON      (COGNIFY_* as for any SDK user; prints run_id=...)

SPEC: project, tags, dataset {name, version, path, records, seed}, config, steps, save_every.
The dataset is written as JSONL at `path` (overwriting what is there: a run that finds other
records under a name and path registered before is how a dataset change arrives), each
checkpoint directory holds a few files of seeded bytes, hashed by the hasher pool.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import cognify


def write_dataset(path: Path, records: int, seed: int) -> None:
    rnd = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {"note_id": i, "text": f"discharge note {i} v{seed}", "label": rnd.randint(0, 1)}
        )
        for i in range(records)
    ]
    path.write_text("\n".join(lines) + "\n")


def write_checkpoint(where: Path, step: int, seed: int) -> Path:
    rnd = random.Random(seed * 100_000 + step)
    where.mkdir(parents=True, exist_ok=True)
    (where / "config.json").write_text(json.dumps({"step": step, "hidden_size": 64}))
    (where / "model.safetensors").write_bytes(rnd.randbytes(48_000))
    (where / "optimizer.pt").write_bytes(rnd.randbytes(16_000))
    return where


def main(spec: dict[str, Any]) -> str:
    data = spec["dataset"]
    path = Path(data["path"])
    write_dataset(path, data["records"], data["seed"])
    out = Path(spec["out"])
    steps, save_every = int(spec["steps"]), int(spec["save_every"])
    lr = float(spec["config"]["learning_rate"])
    with cognify.start_run(project=spec["project"], run_tags=spec["tags"]) as run:
        train = cognify.dataset(
            str(path),
            name=data["name"],
            version=data["version"],
            provenance={
                "source_system": "ehr-extraction-pipeline",
                "extraction_date": "2025-06-01",
                "deidentification_method": "safe_harbor",
                "authorized_use": "discharge-summary-fine-tuning",
                "record_count": data["records"],
            },
        )
        run.log_config(spec["config"])
        for step in range(1, steps + 1):
            loss = 2.5 * (0.93**step) + 0.01 * data["seed"]
            run.log_metrics(step, {"loss": loss, "learning_rate": lr * (1 - step / (steps + 1))})
            if step % save_every == 0:
                run.log_metrics(step, {"eval_loss": loss * 1.1})
                run.log_checkpoint(
                    write_checkpoint(out / f"checkpoint-{step}", step, data["seed"]), step
                )
        run.log_model()
        cognify.eval(
            benchmark_name="clinical-safety-v2",
            benchmark_version="2.3",
            results={"accuracy": 0.9 - 0.01 * data["seed"], "f1_macro": 0.86},
            eval_dataset_ref=train,
            notes="held-out discharge notes",
        )
    return str(run.run_id)


if __name__ == "__main__":
    print(f"run_id={main(json.loads(sys.argv[1]))}", flush=True)
