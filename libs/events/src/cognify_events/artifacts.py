"""Artifacts a run touches: datasets, checkpoints and the final model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue

from .base import EventBase, Ident, Model, ShortText

HashString = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
PathText = Annotated[str, Field(max_length=4_096)]


class FileEntry(Model):
    path: PathText
    size: Annotated[int, Field(ge=0)]


class DatasetRegisteredPayload(Model):
    """A dataset version entering a run. `merkle_root` is set when the SDK hashed an
    in-memory dataset itself; otherwise the hasher pool computes it from `source_uri`."""

    dataset_id: Ident
    name: ShortText
    version: ShortText
    role: Literal["train", "eval", "other"] = "other"
    source_uri: PathText | None = None
    record_count: Annotated[int, Field(ge=0)] | None = None
    record_schema: Annotated[dict[str, JsonValue], Field(max_length=1_024)] = {}
    provenance: Annotated[dict[str, JsonValue], Field(max_length=256)] = {}
    provenance_warnings: Annotated[list[ShortText], Field(max_length=64)] = []
    merkle_root: HashString | None = None
    format: ShortText | None = None


class DatasetRegistered(EventBase):
    type: Literal["dataset.registered"] = "dataset.registered"
    schema_version: Literal[1] = 1
    payload: DatasetRegisteredPayload


class CheckpointSavedPayload(Model):
    checkpoint_id: Ident
    step: Annotated[int, Field(ge=0)]
    path: PathText
    files: Annotated[list[FileEntry], Field(max_length=100_000)] = []
    total_bytes: Annotated[int, Field(ge=0)] = 0


class CheckpointSaved(EventBase):
    type: Literal["checkpoint.saved"] = "checkpoint.saved"
    schema_version: Literal[1] = 1
    payload: CheckpointSavedPayload


class ModelRegisteredPayload(Model):
    """The run's output model; `checkpoint_id` links it to the checkpoint it came from."""

    model_id: Ident
    path: PathText
    checkpoint_id: Ident | None = None
    files: Annotated[list[FileEntry], Field(max_length=100_000)] = []
    model_hash: HashString | None = None


class ModelRegistered(EventBase):
    type: Literal["model.registered"] = "model.registered"
    schema_version: Literal[1] = 1
    payload: ModelRegisteredPayload
