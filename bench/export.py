"""Seal and render a large run: 100,000 metric points, 200 checkpoints, 20 evaluations.

Times the exporter's pure path for each format (report from the folded run, render, hash,
sign), which is what an export adds on top of reading the store. Target: < 10 s for all
three formats together. Run: `.venv/bin/python bench/export.py`.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cognify_events as ev
from cognify_exporter import package, report, seal
from cognify_lineage import dag
from cognify_lineage.model import iso
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.exporter.fixtures import REVIEWER, approval
from tests.unit.lineage.script import Script, root

POINTS, CHECKPOINTS, EVALS = 100_000, 200, 20


def big_run(s: Script) -> list[ev.Event]:
    events: list[ev.Event] = [
        s.started(),
        s.config(),
        s.dataset("ds_notes_v3", merkle_root=root(1)),
    ]
    steps = POINTS // 2  # two metrics per logged step
    for step in range(1, steps + 1):
        events.append(s.metrics(step, 2.0 / (1 + step / 1000)))
        if step % (steps // CHECKPOINTS) == 0:
            events.append(s.checkpoint(step))
            events.append(s.hashed(ev.HashTarget.CHECKPOINT, f"ckpt_step_{step}", root(step)))
        if step % (steps // EVALS) == 0:
            events.append(s.evaluation(step))
    events += [
        s.model(f"ckpt_step_{steps}"),
        s.ended(),
        s.hashed(ev.HashTarget.MODEL, "model_final", root(7)),
        approval(s),
    ]
    return events


def main() -> None:
    s = Script("ws-bench", "run-bench")
    t0 = time.perf_counter()
    events = big_run(s)
    state = dag.fold_all(events)
    run = state.runs["run-bench"]
    print(
        f"setup: {len(events):,} events folded in {time.perf_counter() - t0:.1f} s "
        f"({len(run.metrics):,} metric points, "
        f"{sum(n.type == 'checkpoint' for n in run.nodes.values())} checkpoints, "
        f"{sum(n.type == 'eval' for n in run.nodes.values())} evaluations)"
    )
    key = Ed25519PrivateKey.generate()
    t = time.perf_counter()
    assert seal.reasons(run, seal.Policy()) == []
    chain = seal.Chain("sha256:" + "ab" * 32, len(events))
    when = s.t0 + timedelta(days=1)
    sealed = seal.seal_event(run, chain, "bench", when, REVIEWER)
    run = dag.fold(state, sealed).runs["run-bench"]
    quoted = [e for e in events if e.type in report.QUOTED_TYPES]
    rep = report.build(
        run,
        quoted,
        report.Seal(
            str(sealed.event_id), iso(when), "bench", chain.head, chain.length, "ed25519:bench"
        ),
        {},
    )
    total = time.perf_counter() - t
    print(f"seal check + report: {total:.2f} s")
    for fmt in ev.ExportFormat:
        t = time.perf_counter()
        pkg = package.build(rep, fmt, ev.ExportTemplate.DEFAULT, key)
        took = time.perf_counter() - t
        total += took
        print(f"{fmt.value:5s}: {took:.2f} s  ({len(pkg.data):,} bytes)")
    print(f"total: {total:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
