"""A large sealed run in memory for the PDF's lineage drawing and its non-finite results:
200 checkpoints (one never hashed), 20 trainer evaluations (one whose loss was NaN), a
benchmark evaluation whose accuracy was infinite, and the model."""

from __future__ import annotations

from datetime import timedelta

import cognify_events as ev
from cognify_exporter import report, seal

from tests.unit.exporter.fixtures import REVIEWER, approval, folded
from tests.unit.lineage.script import Script, root

CHECKPOINTS, EVALS, STEPS = 200, 20, 2_000


def _eval(
    s: Script, eval_id: str, step: int, metrics: dict[str, float], nonfinite: dict[str, str]
) -> ev.EvaluationRecorded:
    return ev.EvaluationRecorded(
        **s.env(),
        payload=ev.EvaluationRecordedPayload(
            eval_id=eval_id,
            source=ev.EvaluationSource.TRAINER,
            step=step,
            metrics=metrics,
            nonfinite_metrics=nonfinite,
        ),
    )


def _benchmark(s: Script, step: int) -> ev.EvaluationRecorded:
    return ev.EvaluationRecorded(
        **s.env(),
        payload=ev.EvaluationRecordedPayload(
            eval_id="eval_medqa",
            source=ev.EvaluationSource.BENCHMARK,
            step=step,
            benchmark_name="medqa",
            benchmark_version="2",
            metrics={"f1": 0.61},
            nonfinite_metrics={"calibration_error": "inf"},
        ),
    )


def events(s: Script) -> list[ev.Event]:
    out: list[ev.Event] = [
        s.started(),
        s.config(),
        s.dataset("ds_notes_v3", merkle_root=root(1)),
        s.dataset("ds_eval_v1", name="eval-notes", role="eval", merkle_root=root(2)),
    ]
    for step in range(1, STEPS + 1):
        if step % 10 == 0:
            out.append(s.metrics(step, 2.0 / (1 + step / 100)))
        if step % (STEPS // CHECKPOINTS) == 0:
            out.append(s.checkpoint(step))
            if step != 1_000:  # one checkpoint is never hashed: pending at the seal
                out.append(s.hashed(ev.HashTarget.CHECKPOINT, f"ckpt_step_{step}", root(step)))
        if step % (STEPS // EVALS) == 0:
            if step == 1_300:
                out.append(_eval(s, f"eval_step_{step}", step, {}, {"eval_loss": "nan"}))
            else:
                out.append(_eval(s, f"eval_step_{step}", step, {"eval_loss": 0.5}, {}))
    out += [
        _benchmark(s, STEPS),
        s.model(f"ckpt_step_{STEPS}"),
        s.ended(),
        s.hashed(ev.HashTarget.MODEL, "model_final", root(7)),
        approval(s),
    ]
    return out


def large_report() -> report.Report:
    s = Script("ws-1", "run-large")
    evs = events(s)
    run = folded(evs, "run-large")
    chain = seal.Chain("sha256:" + "cd" * 32, len(evs))
    when = s.t0 + timedelta(hours=5)
    sealed = seal.seal_event(run, chain, "exporter", when, REVIEWER)
    run = folded([*evs, sealed], "run-large")
    at = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return report.build(
        run,
        evs,
        report.Seal(str(sealed.event_id), at, "exporter", chain.head, chain.length, "ed25519:00"),
        {"intended_use": "Drafting discharge summaries for clinician review."},
    )
