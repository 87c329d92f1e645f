"""Hash jobs and their results: the evidence the hasher pool produces.

Ingest emits `hash.job_requested` for every dataset registration that needs a root and every
checkpoint save. A worker answers with `hash.computed` or, when the target is gone or
unreadable, `hash.failed`: a gap the audit shows, never a silent absence.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue

from ._backports import StrEnum
from .artifacts import FileEntry, HashString, PathText
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


# The version of an s3:// source a job read or was planned from (docs/spec/hashing.md,
# "Versions of s3:// sources"):
# `version-id:<S3 VersionId>`, `etag:<ETag>` (a bucket without versions), or
# `objects-sha256:<hex>` (the objects under a prefix, each with its own version).
SourceVersion = Annotated[str, Field(pattern=r"^(version-id|etag|objects-sha256):[!-~]{1,1024}$")]
# The version of one s3:// object: the first two forms.
ObjectVersion = Annotated[str, Field(pattern=r"^(version-id|etag):[!-~]{1,1024}$")]


class FileHash(Model):
    path: PathText
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    # A file of an s3:// checkpoint: the version of its object that was hashed (what an
    # auditor fetches). None for local files (and results from before it existed).
    version: ObjectVersion | None = None


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
    # s3:// sources: the version that was hashed (docs/spec/hashing.md, "Versions of s3://
    # sources"), so an auditor can fetch exactly it later. None for local paths (and results
    # from before it existed).
    source_version: SourceVersion | None = None


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


# Chunked jobs (docs/spec/hashing.md, "Hasher pool"). A large job is planned once into chunks
# that several workers hash in parallel; these three events never reach the canonical log:
# chunk work travels on cognify.hash.jobs and chunk results on cognify.hash.chunks, and only
# the combined `hash.computed` (or `hash.failed`) is evidence.

PlanId = Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]


class HashChunkRequestedPayload(Model):
    """One chunk of a planned job: a power-of-two record range of a dataset, or a group of
    checkpoint files (with the sizes seen when planning)."""

    job_id: Ident
    plan_id: PlanId
    chunk_index: Annotated[int, Field(ge=0)]
    chunk_count: Annotated[int, Field(ge=1)]
    target: HashTarget
    target_id: Ident
    source_uri: PathText
    record_offset: Annotated[int, Field(ge=0)] | None = None
    record_count: Annotated[int, Field(ge=1)] | None = None
    # JSON Lines only: the byte position of the line holding record `record_offset`, found
    # while planning, so the chunk's worker seeks there instead of skipping lines.
    byte_offset: Annotated[int, Field(ge=0)] | None = None
    files: Annotated[list[FileEntry], Field(max_length=100_000)] = []
    # s3:// datasets: the version of the source the plan was made from. Every read of the
    # chunk asks for exactly that version, and the chunk fails if it is gone or no longer
    # current. None for local paths and checkpoints (and chunks planned before it existed).
    source_version: SourceVersion | None = None


class HashChunkRequested(EventBase):
    type: Literal["hash.chunk_requested"] = "hash.chunk_requested"
    schema_version: Literal[1] = 1
    payload: HashChunkRequestedPayload


class HashChunkComputedPayload(Model):
    """A chunk's result: the subtree root of its record range, or its files' hashes."""

    job_id: Ident
    plan_id: PlanId
    chunk_index: Annotated[int, Field(ge=0)]
    chunk_count: Annotated[int, Field(ge=1)]
    target: HashTarget
    target_id: Ident
    record_offset: Annotated[int, Field(ge=0)] | None = None
    record_count: Annotated[int, Field(ge=0)] | None = None
    root: HashString | None = None
    record_schema: Annotated[dict[str, JsonValue], Field(max_length=1_024)] = {}
    files: Annotated[list[FileHash], Field(max_length=100_000)] = []
    bytes_hashed: Annotated[int, Field(ge=0)] = 0
    duration_s: Annotated[float, Field(ge=0)] = 0.0
    # The request's `source_version`, carried to the combiner for the job's result.
    source_version: SourceVersion | None = None


class HashChunkComputed(EventBase):
    type: Literal["hash.chunk_computed"] = "hash.chunk_computed"
    schema_version: Literal[1] = 1
    payload: HashChunkComputedPayload


class HashChunkFailedPayload(Model):
    job_id: Ident
    plan_id: PlanId
    chunk_index: Annotated[int, Field(ge=0)]
    chunk_count: Annotated[int, Field(ge=1)]
    target: HashTarget
    target_id: Ident
    reason: LongText


class HashChunkFailed(EventBase):
    type: Literal["hash.chunk_failed"] = "hash.chunk_failed"
    schema_version: Literal[1] = 1
    payload: HashChunkFailedPayload


class HashProgressPayload(Model):
    """Work done so far on a job (or on one chunk of it: sum the chunks for the job).
    Totals are None where they are not known in advance. Not evidence: it goes to
    cognify.hash.progress, for the CLI and the dashboard."""

    job_id: Ident
    chunk_index: Annotated[int, Field(ge=0)] | None = None
    chunk_count: Annotated[int, Field(ge=1)] = 1
    target: HashTarget
    target_id: Ident
    bytes_done: Annotated[int, Field(ge=0)] = 0
    bytes_total: Annotated[int, Field(ge=0)] | None = None
    records_done: Annotated[int, Field(ge=0)] = 0
    records_total: Annotated[int, Field(ge=0)] | None = None
    finished: bool = False


class HashProgress(EventBase):
    type: Literal["hash.progress"] = "hash.progress"
    schema_version: Literal[1] = 1
    payload: HashProgressPayload
