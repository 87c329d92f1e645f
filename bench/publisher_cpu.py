"""CPU the SDK spends per logged training step, all threads together: `log_metrics` on the
caller's thread, then building, signing, spooling (fsync per batch) and handing over to an
in-memory transport on the publisher's. The plain encoding of `metrics.logged`
(cognify/wire.py) against the pydantic models it replaced (the same values through
`records.as_payload`, which `Run._build` signs and dumps as before), interleaved.

    uv run python bench/publisher_cpu.py [--steps 3000] [--reps 6] [--pace-ms 2]

No broker needed: what Kafka's client costs is the same for both and left out, unless
`--kafka HOST:PORT` sends to a real broker (the raw topic of `COGNIFY_TOPIC_PREFIX`). With
`--pace-ms N` the steps come N ms apart, as from a training loop (a sleep, which releases
the GIL like a GPU kernel or a torch op), instead of all at once: the publisher then works
in many small rounds, and what a round costs whatever its size (fsync, produce, wake-ups)
shows; the loop's own CPU (the sleeps) is measured alone in the same run and subtracted.
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


def loop_alone(steps: int, pace_s: float) -> float:
    """The CPU of the paced loop without the SDK: what `one_run` subtracts."""
    t0 = time.process_time()
    for step in range(steps):
        {"loss": 2.3 - step * 1e-4, "grad_norm": 1.234567, "learning_rate": 4.5e-05}
        time.sleep(pace_s)
    return (time.process_time() - t0) / steps * 1e6


def one_run(steps: int, pace_s: float = 0.0, kafka: str | None = None) -> float:
    sink = Sink()
    to: dict[str, Any] = {"kafka_bootstrap": kafka} if kafka else {"transport": lambda: sink}
    run = cognify.init("ws-bench", "cgk_bench", "bench", spool_dir=tempfile.mkdtemp(), **to)
    assert run is not None
    t0 = time.process_time()
    for step in range(steps):
        logs = {"loss": 2.3 - step * 1e-4, "grad_norm": 1.234567, "learning_rate": 4.5e-05}
        run.log_metrics(step, logs, epoch=step / 300)
        if pace_s:
            time.sleep(pace_s)
    left = cognify.finish(60)
    cpu = time.process_time() - t0
    assert left == 0 and (kafka or sink.sent == steps + 2), (left, sink.sent)  # +start, end
    return cpu / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--pace-ms", type=float, default=0.0, help="ms between steps")
    parser.add_argument("--kafka", help="a broker (host:port) instead of the in-memory sink")
    opts = parser.parse_args()
    pace_s = opts.pace_ms / 1000
    variants = {"plain (wire.py)": PLAIN, "pydantic models": through_models}
    results: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for rep in range(opts.reps):
        for name in names if rep % 2 == 0 else names[::-1]:  # interleaved, order alternating
            records.metric_values = variants[name]  # type: ignore[assignment]
            alone = loop_alone(opts.steps, pace_s) if pace_s else 0.0
            results[name].append(one_run(opts.steps, pace_s, opts.kafka) - alone)
    records.metric_values = PLAIN
    paced = f", {opts.pace_ms:g} ms apart, the loop's own CPU subtracted" if pace_s else ""
    print(f"SDK CPU per logged step ({opts.reps} runs x {opts.steps} steps{paced}, all threads)")
    for name, values in results.items():
        print(f"  {name:18} median {statistics.median(values):6.0f} us   min {min(values):6.0f} us")
    base = statistics.median(results["pydantic models"])
    plain = statistics.median(results["plain (wire.py)"])
    print(f"  plain / pydantic: {plain / base:.2f}x")


if __name__ == "__main__":
    main()
