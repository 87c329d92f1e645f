"""Custom training loops recorded with `cognify.start_run`, each as its own process:

    python loop_script.py accelerate WORK TAG   # Accelerate on the CPU, save_state checkpoints
    python loop_script.py gloo WORK TAG         # two ranks (torch.multiprocessing, gloo, DDP)
    python loop_script.py fail WORK TAG         # an exception escapes the run's block

Configured otherwise by COGNIFY_* variables; prints `run_id=...` from the rank that records.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cognify
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

STEPS = 6


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(32, 2, generator=generator)
    return x, x @ torch.tensor([[3.0], [-2.0]])


def accelerate_loop(work: Path, tag: str) -> None:
    from accelerate import Accelerator
    from torch.utils.data import DataLoader, TensorDataset

    accelerator = Accelerator(cpu=True)
    x, y = _data()
    model = nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    with cognify.start_run(project="sdk-loops", run_tags={"test": tag}) as run:
        run.log_config({"lr": 0.01, "steps": STEPS}, model=model, optimizer=optimizer)
        step = 0
        while step < STEPS:
            for xb, yb in loader:
                step += 1
                loss = nn.functional.mse_loss(model(xb), yb)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
                run.log_metrics(step, {"loss": loss.detach()})
                if step % 3 == 0:
                    accelerator.save_state(str(work / f"state-{step}"))
                    if accelerator.is_main_process:
                        run.log_checkpoint(work / f"state-{step}", step)
                if step == STEPS:
                    break
        run.log_model()
    print(f"run_id={run.run_id}")


def _rank(rank: int, work: str, tag: str, port: int) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    x, y = _data()
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    with cognify.start_run(project="sdk-loops", run_tags={"test": tag}) as run:
        run.log_config({"world_size": 2, "backend": "gloo"}, model=model.module)
        for step in range(1, STEPS + 1):
            part = slice(rank * 16, rank * 16 + 16)
            loss = nn.functional.mse_loss(model(x[part]), y[part])
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            run.log_metrics(step, {"loss": loss.item(), "rank": rank})
        checkpoint = Path(work) / f"rank{rank}-final"
        checkpoint.mkdir()
        torch.save(model.module.state_dict(), checkpoint / "model.pt")
        run.log_checkpoint(checkpoint, STEPS)
    if run.run_id is not None:
        print(f"run_id={run.run_id}", flush=True)
    dist.destroy_process_group()


def fail_loop(tag: str) -> None:
    with cognify.start_run(project="sdk-loops", run_tags={"test": tag}) as run:
        print(f"run_id={run.run_id}", flush=True)
        run.log_metrics(1, {"loss": 1.0})
        raise RuntimeError("diverged")


def main() -> None:
    mode, work, tag = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    work.mkdir(parents=True, exist_ok=True)
    if mode == "accelerate":
        accelerate_loop(work, tag)
    elif mode == "gloo":
        port = int(os.environ["MASTER_PORT"])
        mp.spawn(_rank, args=(str(work), tag, port), nprocs=2, join=True)  # type: ignore[attr-defined,no-untyped-call]
    elif mode == "fail":
        fail_loop(tag)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
