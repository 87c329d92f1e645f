"""CPU the SDK spends per logged training step, all threads together: `log_metrics` on the
caller's thread, then building, signing, spooling (fsync per batch) and handing over to an
in-memory transport on the publisher's. The plain encoding of `metrics.logged`
(cognify/wire.py) against the pydantic models it replaced (the same values through
`records.as_payload`, which `Run._build` signs and dumps as before), interleaved.

    uv run python bench/publisher_cpu.py [--steps 3000] [--reps 6]

No broker needed: what Kafka's client costs is the same for both and left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

os.environ["COGNIFY_INGEST_URL"] = "off"

import cognify
from cognify import records

PLAIN = records.metric_values


def through_models(step: int, epoch: float | None, logs: dict[str, Any]) -> Any:
    values = PLAIN(step, epoch, logs)
    return None if values is None else records.as_payload(values)


class Sink:
    """An in-memory transport: takes every batch at once."""

    def __init__(self) -> None:
        self.sent = 0

    async def start(self) -> None:
        return None

    async def send(self, batch: list[tuple[bytes, bytes]]) -> None:
        self.sent += len(batch)

    async def stop(self) -> None:
        return None


def one_run(steps: int) -> float:
    sink = Sink()
    run = cognify.init(
        "ws-bench", "cgk_bench", "bench", spool_dir=tempfile.mkdtemp(), transport=lambda: sink
    )
    assert run is not None
    t0 = time.process_time()
    for step in range(steps):
        logs = {"loss": 2.3 - step * 1e-4, "grad_norm": 1.234567, "learning_rate": 4.5e-05}
        run.log_metrics(step, logs, epoch=step / 300)
    left = cognify.finish(60)
    cpu = time.process_time() - t0
    assert left == 0 and sink.sent == steps + 2, (left, sink.sent)  # run.started, run.ended
    return cpu / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=6)
    opts = parser.parse_args()
    variants = {"plain (wire.py)": PLAIN, "pydantic models": through_models}
    results: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for rep in range(opts.reps):
        for name in names if rep % 2 == 0 else names[::-1]:  # interleaved, order alternating
            records.metric_values = variants[name]  # type: ignore[assignment]
            results[name].append(one_run(opts.steps))
    records.metric_values = PLAIN
    print(f"SDK CPU per logged step ({opts.reps} runs x {opts.steps} steps, all threads)")
    for name, values in results.items():
        print(f"  {name:18} median {statistics.median(values):6.0f} us   min {min(values):6.0f} us")
    base = statistics.median(results["pydantic models"])
    plain = statistics.median(results["plain (wire.py)"])
    print(f"  plain / pydantic: {plain / base:.2f}x")


if __name__ == "__main__":
    main()
