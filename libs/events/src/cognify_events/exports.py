"""Sealing, exports, retention and the audit system's record of its own use."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from ._backports import StrEnum
from .artifacts import HashString
from .base import EventBase, LongText, Model, ShortText, UtcDatetime


class ExportFormat(StrEnum):
    PDF = "pdf"
    JSON = "json"
    XLSX = "xlsx"
    CYCLONEDX = "cyclonedx"  # a CycloneDX 1.6 ML-BOM (issue 15)


class ExportTemplate(StrEnum):
    DEFAULT = "default"
    EU_AI_ACT = "eu_ai_act"
    HIPAA = "hipaa"
    HEALTHCARE = "healthcare"


# The shortest retention (years) of a package of each template, below which no setting
# goes: EU AI Act Art. 18 keeps technical documentation 10 years after placing on the
# market; HIPAA 45 CFR 164.316(b)(2)(i) keeps documentation 6 years (docs/spec/retention.md).
TEMPLATE_RETENTION_FLOORS: dict[ExportTemplate, int] = {
    ExportTemplate.DEFAULT: 1,
    ExportTemplate.EU_AI_ACT: 10,
    ExportTemplate.HIPAA: 6,
    ExportTemplate.HEALTHCARE: 6,
}


class SealRequestedPayload(Model):
    """A command made into a fact: someone asked for the seal. `run.sealed` records the
    outcome; a refused request leaves no seal and the reasons are returned to the caller."""

    requested_by: ShortText
    formats: Annotated[list[ExportFormat], Field(max_length=4)] = []  # one per format
    template: ExportTemplate = ExportTemplate.DEFAULT


class SealRequested(EventBase):
    type: Literal["run.seal_requested"] = "run.seal_requested"
    schema_version: Literal[1] = 1
    payload: SealRequestedPayload


class RunSealedPayload(Model):
    sealed_at: UtcDatetime
    sealed_by: ShortText
    chain_head: HashString
    event_count: Annotated[int, Field(ge=0)]


class RunSealed(EventBase):
    type: Literal["run.sealed"] = "run.sealed"
    schema_version: Literal[1] = 1
    payload: RunSealedPayload


class SealRefusedPayload(Model):
    """The exporter's answer to a seal it would not make: every reason, precisely enough to
    act on; the `run.seal_requested` event it answers (None when the seal was asked for
    over the exporter's own HTTP API, which answers the caller directly too); and who asked
    (from the request's key, never from a body)."""

    reasons: Annotated[list[LongText], Field(min_length=1, max_length=256)]
    request_id: UUID | None = None
    requested_by: ShortText


class SealRefused(EventBase):
    type: Literal["run.seal_refused"] = "run.seal_refused"
    schema_version: Literal[1] = 1
    payload: SealRefusedPayload


class ExportCompletedPayload(Model):
    format: ExportFormat
    template: ExportTemplate
    bucket: ShortText
    object_key: Annotated[str, Field(max_length=1_024)]
    package_hash: HashString
    size: Annotated[int, Field(ge=0)]
    retain_until: UtcDatetime | None = None


class ExportCompleted(EventBase):
    type: Literal["export.completed"] = "export.completed"
    schema_version: Literal[1] = 1
    payload: ExportCompletedPayload


class RetentionUpdatedPayload(Model):
    """`PATCH /v2/workspaces/{workspace_id}/retention` as a fact (workspace-level event)."""

    retention_years: Annotated[int, Field(ge=1, le=100)]
    archive_after_days: Annotated[int, Field(ge=0, le=36_500)]
    auto_export_on_seal: bool
    auto_export_format: ExportFormat
    updated_by: ShortText
    auto_export_template: ExportTemplate = ExportTemplate.DEFAULT  # additive in v1


class RetentionUpdated(EventBase):
    type: Literal["retention.updated"] = "retention.updated"
    schema_version: Literal[1] = 1
    payload: RetentionUpdatedPayload


class AccessRecordedPayload(Model):
    """Every read or write made through the API: who, from where, what, and the outcome."""

    actor: ShortText
    role: ShortText
    action: ShortText
    object_id: ShortText
    address: ShortText | None = None
    allowed: bool = True


class AccessRecorded(EventBase):
    type: Literal["access.recorded"] = "access.recorded"
    schema_version: Literal[1] = 1
    payload: AccessRecordedPayload
