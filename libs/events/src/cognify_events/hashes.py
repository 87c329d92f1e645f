"""Hash jobs and their results: the evidence the hasher pool produces.

Ingest emits `hash.job_requested` for every dataset registration that needs a root and every
checkpoint save. A worker answers with `hash.computed` or, when the target is gone or
unreadable, `hash.failed`: a gap the audit shows, never a silent absence.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, JsonValue

from .artifacts import HashString, PathText
from .base import EventBase, Ident, LongText, Model, ShortText


class HashTarget(StrEnum):
    CHECKPOINT = "checkpoint"
    DATASET = "dataset"
    MODEL = "model"


class HashJobRequestedPayload(Model):
    job_id: Ident
    target: HashTarget
    target_id: Ident
    source_uri: PathText
    requested_by_event: Ident | None = None


class HashJobRequested(EventBase):
    type: Literal["hash.job_requested"] = "hash.job_requested"
    schema_version: Literal[1] = 1
    payload: HashJobRequestedPayload


class FileHash(Model):
    path: PathText
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class HashComputedPayload(Model):
    job_id: Ident
    target: HashTarget
    target_id: Ident
    hash: HashString
    algorithm: ShortText  # "checkpoint-manifest-v1" or "merkle-rfc6962-v1", see docs/spec/
    files: Annotated[list[FileHash], Field(max_length=100_000)] = []
    record_count: Annotated[int, Field(ge=0)] | None = None
    record_schema: Annotated[dict[str, JsonValue], Field(max_length=1_024)] = {}
    bytes_hashed: Annotated[int, Field(ge=0)] = 0
    duration_s: Annotated[float, Field(ge=0)] = 0.0


class HashComputed(EventBase):
    type: Literal["hash.computed"] = "hash.computed"
    schema_version: Literal[1] = 1
    payload: HashComputedPayload


class HashFailedPayload(Model):
    job_id: Ident
    target: HashTarget
    target_id: Ident
    reason: LongText


class HashFailed(EventBase):
    type: Literal["hash.failed"] = "hash.failed"
    schema_version: Literal[1] = 1
    payload: HashFailedPayload
