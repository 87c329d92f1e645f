"""Training-run lifecycle events: what the SDK and its Trainer callback report."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue

from ._backports import StrEnum
from .base import EventBase, Ident, LongText, Model, ShortText
from .bounds import NONFINITE_NAMES

JsonObject = Annotated[dict[str, JsonValue], Field(max_length=2_048)]
Metrics = Annotated[dict[Annotated[str, Field(max_length=256)], float], Field(max_length=1_024)]
# NaN and infinities cannot be JSON numbers, and a NaN loss is exactly what an auditor must
# see: a payload with `metrics` keeps them by name in `nonfinite_metrics`, as "nan", "inf" or
# "-inf" (bounds.event_problems; docs/spec/events.md, "Bounds").
NonfiniteMetrics = Annotated[
    dict[
        Annotated[str, Field(max_length=256)],
        Annotated[str, Field(max_length=8, json_schema_extra={"enum": list(NONFINITE_NAMES)})],
    ],
    Field(max_length=1_024),
]
Tags = Annotated[
    dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=256)]],
    Field(max_length=64),
]


class RunStartedPayload(Model):
    run_name: ShortText | None = None
    tags: Tags = {}
    sdk_version: ShortText
    started_by: ShortText | None = None
    host: ShortText | None = None


class RunStarted(EventBase):
    type: Literal["run.started"] = "run.started"
    schema_version: Literal[1] = 1
    payload: RunStartedPayload


class ConfigCapturedPayload(Model):
    """Hyperparameters and model configuration; secrets are redacted by the SDK."""

    config_id: Ident
    training_args: JsonObject = {}
    model_architecture: JsonObject = {}  # the model's config (config.json), not its weights
    model_type: ShortText | None = None
    parameter_count: Annotated[int, Field(ge=0)] | None = None
    trainable_parameter_count: Annotated[int, Field(ge=0)] | None = None
    peft_config: JsonObject | None = None
    optimizer: ShortText | None = None
    lr_scheduler: ShortText | None = None
    trainer_class: ShortText | None = None
    redacted_keys: Annotated[list[ShortText], Field(max_length=256)] = []
    config_hash: ShortText | None = None


class ConfigCaptured(EventBase):
    type: Literal["run.config_captured"] = "run.config_captured"
    schema_version: Literal[1] = 1
    payload: ConfigCapturedPayload


class SystemInfoPayload(Model):
    host: ShortText
    os: ShortText
    python_version: ShortText
    packages: Annotated[dict[ShortText, ShortText], Field(max_length=64)] = {}
    gpu_model: ShortText | None = None
    gpu_count: Annotated[int, Field(ge=0)] = 0
    cuda_version: ShortText | None = None
    git_commit: ShortText | None = None
    git_dirty: bool | None = None
    world_size: Annotated[int, Field(ge=1)] = 1


class SystemInfoCaptured(EventBase):
    type: Literal["run.system_info"] = "run.system_info"
    schema_version: Literal[1] = 1
    payload: SystemInfoPayload


class HeartbeatPayload(Model):
    step: Annotated[int, Field(ge=0)] | None = None
    interval_s: Annotated[float, Field(gt=0)]
    # additive in v1: the SDK's spool at the time of the beat, what it holds that the broker
    # has not acknowledged yet (null from SDKs before these members, and from other senders)
    spool_bytes: Annotated[int, Field(ge=0)] | None = None
    spool_events: Annotated[int, Field(ge=0)] | None = None


class Heartbeat(EventBase):
    type: Literal["run.heartbeat"] = "run.heartbeat"
    schema_version: Literal[1] = 1
    payload: HeartbeatPayload


class MetricsLoggedPayload(Model):
    step: Annotated[int, Field(ge=0)]
    epoch: float | None = None
    metrics: Metrics
    nonfinite_metrics: NonfiniteMetrics = {}


class MetricsLogged(EventBase):
    type: Literal["metrics.logged"] = "metrics.logged"
    schema_version: Literal[1] = 1
    payload: MetricsLoggedPayload


class EvaluationSource(StrEnum):
    TRAINER = "trainer"  # Trainer.evaluate() inside the training loop
    BENCHMARK = "benchmark"  # cognify.eval(): an external, compliance-relevant benchmark


class EvaluationRecordedPayload(Model):
    eval_id: Ident
    source: EvaluationSource
    step: Annotated[int, Field(ge=0)] | None = None
    metrics: Metrics
    nonfinite_metrics: NonfiniteMetrics = {}  # additive in v1: a diverged benchmark metric
    benchmark_name: ShortText | None = None
    benchmark_version: ShortText | None = None
    eval_dataset_id: Ident | None = None
    checkpoint_id: Ident | None = None
    notes: LongText | None = None


class EvaluationRecorded(EventBase):
    type: Literal["evaluation.recorded"] = "evaluation.recorded"
    schema_version: Literal[1] = 1
    payload: EvaluationRecordedPayload


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class RunEndedPayload(Model):
    status: RunStatus
    error_type: ShortText | None = None
    error_message: LongText | None = None
    global_step: Annotated[int, Field(ge=0)] | None = None
    last_seq: Annotated[int, Field(ge=0)] | None = None


class RunEnded(EventBase):
    type: Literal["run.ended"] = "run.ended"
    schema_version: Literal[1] = 1
    payload: RunEndedPayload
