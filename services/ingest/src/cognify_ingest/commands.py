"""Reviewer and admin commands made into events (pure: no I/O).

The HTTP front door authenticates the caller, checks the object, and records what was
asked as a fact: an annotation, a decision, a seal request, a documented dataset diff, a
retention change, and an access record for every call. Those events come from Cognify
itself (producer kind `api`, no SDK sequence number, no signature) and go straight to the
canonical topic.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from cognify_access.records import WORKSPACE_PROJECT
from cognify_events import (
    AnnotationAdded,
    AnnotationAddedPayload,
    DatasetDiffDocumented,
    DatasetDiffDocumentedPayload,
    DecisionPayload,
    ExportFormat,
    ExportTemplate,
    Producer,
    RetentionUpdated,
    RetentionUpdatedPayload,
    Reviewer,
    RunApproved,
    RunRejected,
    SealRequested,
    SealRequestedPayload,
    WorkspaceTierChanged,
    WorkspaceTierChangedPayload,
)
from cognify_events.base import IDENT_PATTERN
from cognify_events.bounds import value_problems
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .credentials import Principal
from .retention import Retention


class Body(BaseModel):
    """A command body: whatever it admits, the event it becomes can hold (no NUL, no lone
    surrogate, docs/spec/events.md "Bounds"): refused here as a 422, never accepted with a
    201 and dead-lettered downstream, where the reviewer would not see it was lost."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> Body:
        problems = value_problems(self.model_dump(mode="json"))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ReviewerIn(Body):
    """Accepted for compatibility, and only when it states the key's own holder: identity
    comes from the key, never from the body (a body naming someone else is a 422)."""

    name: Annotated[str, Field(min_length=1, max_length=256)]
    role: Annotated[str, Field(min_length=1, max_length=256)]


class AnnotationIn(Body):
    node_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    text: Annotated[str, Field(min_length=1, max_length=16_384)]
    author: ReviewerIn | None = None


class DecisionIn(Body):
    reviewer: ReviewerIn | None = None
    comment: Annotated[str, Field(max_length=16_384)] | None = None


class SealIn(Body):
    formats: Annotated[list[ExportFormat], Field(max_length=4)] = []
    template: ExportTemplate = ExportTemplate.DEFAULT


class DiffIn(Body):
    description: Annotated[str, Field(min_length=1, max_length=16_384)]


def identity(principal: Principal) -> Reviewer:
    """The person acting, from the key alone: its holder's printed name and title, or, for a
    key without a recorded holder (issued before people were), its label and role."""
    if principal.person is not None:
        return Reviewer(
            name=principal.person.name, role=principal.person.title, key_id=principal.key_id
        )
    return Reviewer(name=principal.actor, role=principal.role.value, key_id=principal.key_id)


def impersonation(principal: Principal, given: ReviewerIn | None) -> str | None:
    """Why a body that names a person is refused (422): it names someone other than the
    key's holder. None when it names no one, or exactly the holder."""
    if given is None:
        return None
    me = identity(principal)
    if (given.name, given.role) == (me.name, me.role):
        return None
    return (
        f"the body names {given.name!r} ({given.role}), but this key is {me.name!r} "
        f"({me.role}): who acts comes from the key, never from the request"
    )


def reviewer(principal: Principal, given: ReviewerIn | None) -> Reviewer:
    """The person acting; `given` must be the key's holder (see `impersonation`)."""
    why = impersonation(principal, given)
    if why is not None:
        raise ValueError(why)
    return identity(principal)


def annotation(
    p: Principal, project: str, run_id: str, body: AnnotationIn, producer: Producer
) -> AnnotationAdded:
    return AnnotationAdded(
        workspace_id=p.workspace_id,
        project=project,
        run_id=run_id,
        producer=producer,
        payload=AnnotationAddedPayload(
            annotation_id=f"ann-{uuid.uuid4().hex[:16]}",
            node_id=body.node_id,
            author=reviewer(p, body.author),
            text=body.text,
        ),
    )


def decision(
    p: Principal,
    project: str,
    run_id: str,
    approve: bool,
    body: DecisionIn,
    producer: Producer,
    reviewed: tuple[str, int] | None = None,
) -> RunApproved | RunRejected:
    """A decision by the key's holder about the run as its chain stands (`reviewed`: head,
    length), so that a later change makes it stale (docs/spec/trust.md)."""
    head, length = reviewed if reviewed is not None else (None, None)
    payload = DecisionPayload(
        reviewer=reviewer(p, body.reviewer),
        comment=body.comment,
        reviewed_chain_head=head,
        reviewed_chain_length=length,
    )
    cls = RunApproved if approve else RunRejected
    return cls(
        workspace_id=p.workspace_id,
        project=project,
        run_id=run_id,
        producer=producer,
        payload=payload,
    )


def seal_request(
    p: Principal, project: str, run_id: str, body: SealIn, producer: Producer
) -> SealRequested:
    return SealRequested(
        workspace_id=p.workspace_id,
        project=project,
        run_id=run_id,
        producer=producer,
        payload=SealRequestedPayload(
            requested_by=identity(p).name, formats=body.formats, template=body.template
        ),
    )


def diff_documented(
    p: Principal, project: str, run_id: str, dataset_id: str, body: DiffIn, producer: Producer
) -> DatasetDiffDocumented:
    return DatasetDiffDocumented(
        workspace_id=p.workspace_id,
        project=project,
        run_id=run_id,
        producer=producer,
        payload=DatasetDiffDocumentedPayload(
            dataset_id=dataset_id,
            description=body.description,
            documented_by=identity(p).name,
        ),
    )


def retention_updated(p: Principal, new: Retention, producer: Producer) -> RetentionUpdated:
    return RetentionUpdated(
        workspace_id=p.workspace_id,
        project=WORKSPACE_PROJECT,
        run_id=None,
        producer=producer,
        payload=RetentionUpdatedPayload(
            retention_years=new.retention_years,
            archive_after_days=new.archive_after_days,
            auto_export_on_seal=new.auto_export_on_seal,
            auto_export_format=new.auto_export_format,
            updated_by=p.actor,
            auto_export_template=new.auto_export_template,
        ),
    )


class TierChange(BaseModel):
    """`PUT /v2/workspaces/{workspace_id}/tier`: the workspace's new compliance tier."""

    model_config = ConfigDict(extra="forbid")
    tier: Annotated[str, Field(max_length=64)]


def tier_changed(
    p: Principal, previous: str, tier: str, producer: Producer
) -> WorkspaceTierChanged:
    return WorkspaceTierChanged(
        workspace_id=p.workspace_id,
        project=WORKSPACE_PROJECT,
        run_id=None,
        producer=producer,
        payload=WorkspaceTierChangedPayload(
            previous_tier=previous, tier=tier, changed_by=identity(p).name, key_id=p.key_id
        ),
    )
