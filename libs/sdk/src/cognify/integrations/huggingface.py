"""`CognifyTrainerCallback`: the audit trail of a `transformers.Trainer` (or TRL `SFTTrainer`,
or anything else built on the callback protocol).

Every hook does the least it can on the training thread: it reads a few fields of `state`
and enqueues a tuple. Building payloads (TrainingArguments to dict, parameter counts, the
checkpoint's file list, git state) happens on the SDK's publisher thread. Only world process
zero records anything, so a distributed job has one run record.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import cognify_events as ev
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from cognify import api, records, system
from cognify.dataset_ref import DatasetRef
from cognify.run import Run

log = logging.getLogger("cognify")


def _config_payload(
    args: TrainingArguments,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    trainer_class: str | None,
    capture: bool,
) -> ev.ConfigCapturedPayload:
    as_dict = args.to_dict() if capture else {}  # type: ignore[no-untyped-call]
    return records.config_payload(
        as_dict,
        model,
        _optimizer_name(optimizer, args),
        _scheduler_name(scheduler, args),
        trainer_class,
    )


def _optimizer_name(optimizer: Any, args: TrainingArguments) -> str:
    # accelerate wraps the real optimizer; the auditor wants AdamW, not the wrapper.
    inner = getattr(optimizer, "optimizer", optimizer)
    optim = getattr(args.optim, "value", args.optim)
    return f"{type(inner).__name__} ({optim})" if inner is not None else str(optim)


def _scheduler_name(scheduler: Any, args: TrainingArguments) -> str:
    kind = str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type))
    return kind if scheduler is None else f"{kind} ({type(scheduler).__name__})"


_checkpoint_payload = records.checkpoint_payload
_metric_values = records.metric_values


class CognifyTrainerCallback(TrainerCallback):
    def __init__(
        self,
        train_dataset_ref: DatasetRef | None = None,
        eval_dataset_ref: DatasetRef | None = None,
        capture_hyperparams: bool = True,
        capture_checkpoints: bool = True,
        capture_system_info: bool = True,
        run: Run | None = None,
    ) -> None:
        self.train_dataset_ref = train_dataset_ref
        self.eval_dataset_ref = eval_dataset_ref
        self.capture_hyperparams = capture_hyperparams
        self.capture_checkpoints = capture_checkpoints
        self.capture_system_info = capture_system_info
        self._run = run
        self._trainer_class: str | None = None
        self._evals = 0
        self._last_checkpoint_path: Path | None = None

    @property
    def run(self) -> Run | None:
        return self._run or api.current_run()

    def _active(self, state: TrainerState) -> Run | None:
        if not state.is_world_process_zero:
            return None
        return self.run

    def on_init_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.run is None and state.is_world_process_zero:
            log.warning(
                "cognify: CognifyTrainerCallback has no run; call cognify.init() "
                "before creating the Trainer. Nothing will be recorded."
            )

    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        model: Any = None,
        optimizer: Any = None,
        lr_scheduler: Any = None,
        **kwargs: Any,
    ) -> None:
        run = self._active(state)
        if run is None:
            return
        run.emit(
            ev.ConfigCaptured,
            partial(
                _config_payload,
                args,
                model,
                optimizer,
                lr_scheduler,
                self._trainer_class,
                self.capture_hyperparams,
            ),
        )
        if self.capture_system_info:
            run.emit(ev.SystemInfoCaptured, lambda: ev.SystemInfoPayload(**system.collect()))

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        run = self._active(state)
        if run is None or not logs:
            return
        run.last_step = state.global_step
        # The Trainer appends a copy of `logs` to log_history before calling back; callbacks
        # earlier in the list (PrinterCallback) may have turned `logs` itself into strings.
        # Nothing changes either dict afterwards, so it is read later, on the publisher thread.
        history = state.log_history
        values = history[-1] if history and history[-1].get("step") == state.global_step else logs
        run.emit(ev.MetricsLogged, partial(_metric_values, state.global_step, state.epoch, values))

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        run = self._active(state)
        if run is None or not metrics:
            return
        self._evals += 1
        values, nonfinite = records.split_finite(
            {
                k: float(v)
                for k, v in metrics.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
        )
        run.emit(
            ev.EvaluationRecorded,
            ev.EvaluationRecordedPayload(
                eval_id=f"eval_trainer_step_{state.global_step}_{self._evals}",
                source=ev.EvaluationSource.TRAINER,
                step=state.global_step,
                metrics=values,
                nonfinite_metrics=nonfinite,
                eval_dataset_id=self.eval_dataset_ref.dataset_id if self.eval_dataset_ref else None,
                checkpoint_id=run.last_checkpoint_id,
            ),
        )

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        run = self._active(state)
        if run is None or not self.capture_checkpoints:
            return
        checkpoint_id = f"ckpt_step_{state.global_step}"
        path = Path(args.output_dir or ".").resolve() / f"checkpoint-{state.global_step}"
        run.last_checkpoint_id, self._last_checkpoint_path = checkpoint_id, path
        run.emit(
            ev.CheckpointSaved, partial(_checkpoint_payload, path, state.global_step, checkpoint_id)
        )

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        run = self._active(state)
        if run is None:
            return
        run.last_step = state.global_step
        path = self._last_checkpoint_path
        if state.best_model_checkpoint:  # load_best_model_at_end: that one is the model
            path = Path(state.best_model_checkpoint).resolve()
        if path is not None:
            checkpoint_id = f"ckpt_step_{path.name.removeprefix('checkpoint-')}"
            run.emit(
                ev.ModelRegistered,
                ev.ModelRegisteredPayload(
                    model_id=f"model_{run.run_id}", path=str(path), checkpoint_id=checkpoint_id
                ),
            )
        run.end(ev.RunStatus.COMPLETED)


__all__ = ["CognifyTrainerCallback"]
