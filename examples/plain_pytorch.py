"""A plain PyTorch training loop with a Cognify audit trail (no Trainer, no transformers).

    COGNIFY_WORKSPACE_ID=ws-demo COGNIFY_API_KEY=cgk_demo python examples/plain_pytorch.py [DIR]

Records the dataset, the configuration and model, a loss per step, a checkpoint directory
every SAVE_EVERY steps (hashed by the hasher pool) and the final model; leaving the `with`
block ends the run as completed, an exception inside it as failed. Under torchrun only
rank 0 records (the other ranks get a run that records nothing).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import cognify
import torch
from torch import nn

STEPS = int(os.environ.get("STEPS", "20"))
SAVE_EVERY = int(os.environ.get("SAVE_EVERY", "10"))


def synthetic_rows(n: int = 64) -> list[dict[str, float]]:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(n, 2, generator=generator)
    return [{"x0": float(a), "x1": float(b), "y": float(3 * a - 2 * b)} for a, b in x.tolist()]


def main(work: Path) -> str:
    rows = synthetic_rows()
    data_file = work / "train.jsonl"
    data_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    x = torch.tensor([[r["x0"], r["x1"]] for r in rows])
    y = torch.tensor([[r["y"]] for r in rows])

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    lr, batch_size = 0.05, 16
    config = {"lr": lr, "steps": STEPS, "batch_size": batch_size, "save_every": SAVE_EVERY}
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    with cognify.start_run(project="plain-pytorch", run_tags={"example": "plain_pytorch"}) as run:
        cognify.dataset(
            str(data_file),
            name="synthetic-linear",
            version="1",
            provenance={"source_system": "generated in code", "authorized_use": "example"},
        )
        run.log_config(config, model=model, optimizer=optimizer)
        for step in range(1, STEPS + 1):
            batch = torch.randint(0, len(rows), (batch_size,))
            loss = nn.functional.mse_loss(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            run.log_metrics(step, {"loss": loss.detach()}, epoch=step / STEPS)
            if step % SAVE_EVERY == 0:
                checkpoint = work / "out" / f"checkpoint-{step}"
                checkpoint.mkdir(parents=True)
                torch.save(model.state_dict(), checkpoint / "model.pt")
                torch.save(optimizer.state_dict(), checkpoint / "optimizer.pt")
                run.log_checkpoint(checkpoint, step)
        run.log_model()  # the last checkpoint is the model
        cognify.eval(benchmark_name="holdout-mse", benchmark_version="1", results={"mse": 0.1})
    return str(run.run_id)


if __name__ == "__main__":
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="plain-"))
    where.mkdir(parents=True, exist_ok=True)
    print(f"run_id={main(where)}")
