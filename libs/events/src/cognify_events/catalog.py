"""The closed set of event types: one discriminated union, one TypeAdapter built once."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from .artifacts import CheckpointSaved, DatasetRegistered, ModelRegistered
from .base import EventBase
from .documentation import DocumentationUpdated
from .exports import (
    AccessRecorded,
    ExportCompleted,
    RetentionUpdated,
    RunSealed,
    SealRefused,
    SealRequested,
)
from .hashes import (
    HashChunkComputed,
    HashChunkFailed,
    HashChunkRequested,
    HashComputed,
    HashFailed,
    HashJobRequested,
    HashProgress,
)
from .provenance import DatasetProvenanceIncomplete, WorkspaceTierChanged
from .reviews import (
    AnnotationAdded,
    DatasetChanged,
    DatasetDiffDocumented,
    RunApproved,
    RunRejected,
)
from .runs import (
    ConfigCaptured,
    EvaluationRecorded,
    Heartbeat,
    MetricsLogged,
    RunEnded,
    RunStarted,
    SystemInfoCaptured,
)

# Union, not `A | B`: `|` between classes needs Python 3.10; the SDK imports this on 3.9.
Event = Annotated[
    Union[
        RunStarted,
        ConfigCaptured,
        SystemInfoCaptured,
        Heartbeat,
        MetricsLogged,
        EvaluationRecorded,
        RunEnded,
        DatasetRegistered,
        CheckpointSaved,
        ModelRegistered,
        HashJobRequested,
        HashComputed,
        HashFailed,
        HashChunkRequested,
        HashChunkComputed,
        HashChunkFailed,
        HashProgress,
        DatasetChanged,
        DatasetDiffDocumented,
        DatasetProvenanceIncomplete,
        AnnotationAdded,
        RunApproved,
        RunRejected,
        SealRequested,
        RunSealed,
        SealRefused,
        ExportCompleted,
        RetentionUpdated,
        AccessRecorded,
        DocumentationUpdated,
        WorkspaceTierChanged,
    ],
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_CLASSES: tuple[type[EventBase], ...] = (
    RunStarted,
    ConfigCaptured,
    SystemInfoCaptured,
    Heartbeat,
    MetricsLogged,
    EvaluationRecorded,
    RunEnded,
    DatasetRegistered,
    CheckpointSaved,
    ModelRegistered,
    HashJobRequested,
    HashComputed,
    HashFailed,
    HashChunkRequested,
    HashChunkComputed,
    HashChunkFailed,
    HashProgress,
    DatasetChanged,
    DatasetDiffDocumented,
    DatasetProvenanceIncomplete,
    AnnotationAdded,
    RunApproved,
    RunRejected,
    SealRequested,
    RunSealed,
    SealRefused,
    ExportCompleted,
    RetentionUpdated,
    AccessRecorded,
    DocumentationUpdated,
    WorkspaceTierChanged,
)


def wire_name(cls: type[EventBase]) -> str:
    default = cls.model_fields["type"].default
    assert isinstance(default, str)
    return default


def current_version(cls: type[EventBase]) -> int:
    default = cls.model_fields["schema_version"].default
    assert isinstance(default, int)
    return default


BY_TYPE: dict[str, type[EventBase]] = {wire_name(cls): cls for cls in EVENT_CLASSES}
CURRENT_VERSIONS: dict[str, int] = {name: current_version(c) for name, c in BY_TYPE.items()}
