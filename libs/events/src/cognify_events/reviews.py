"""What people add to a run: dataset change findings and diffs, annotations, approvals."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .artifacts import HashString, PathText
from .base import EventBase, Ident, LongText, Model, ShortText


class DatasetChangedPayload(Model):
    """A dataset registered again under the same name and source with a different root."""

    dataset_id: Ident
    name: ShortText
    source_uri: PathText | None = None
    previous_root: HashString
    new_root: HashString
    previous_run_id: Ident | None = None


class DatasetChanged(EventBase):
    type: Literal["dataset.changed"] = "dataset.changed"
    schema_version: Literal[1] = 1
    payload: DatasetChangedPayload


class DatasetDiffDocumentedPayload(Model):
    dataset_id: Ident
    description: LongText
    documented_by: ShortText


class DatasetDiffDocumented(EventBase):
    type: Literal["dataset.diff_documented"] = "dataset.diff_documented"
    schema_version: Literal[1] = 1
    payload: DatasetDiffDocumentedPayload


class Reviewer(Model):
    name: ShortText
    role: ShortText
    # The id of the API key the person acted with (additive in v1, issue 13): ingest sets
    # it from the key, as it does the name and title; absent in events recorded before.
    key_id: ShortText | None = None


class AnnotationAddedPayload(Model):
    annotation_id: Ident
    node_id: Ident
    author: Reviewer
    text: LongText


class AnnotationAdded(EventBase):
    type: Literal["annotation.added"] = "annotation.added"
    schema_version: Literal[1] = 1
    payload: AnnotationAddedPayload


class DecisionPayload(Model):
    reviewer: Reviewer
    comment: LongText | None = None
    # What was reviewed (additive in v1): the run's event chain as the decision was taken.
    # A decision whose chain has since grown by more than reviews is stale (docs/spec/trust.md).
    reviewed_chain_head: HashString | None = None
    reviewed_chain_length: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class RunApproved(EventBase):
    type: Literal["run.approved"] = "run.approved"
    schema_version: Literal[1] = 1
    payload: DecisionPayload


class RunRejected(EventBase):
    type: Literal["run.rejected"] = "run.rejected"
    schema_version: Literal[1] = 1
    payload: DecisionPayload
