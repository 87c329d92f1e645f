"""What people add to a run: dataset change findings and diffs, annotations, approvals."""

from __future__ import annotations

from typing import Literal

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


class RunApproved(EventBase):
    type: Literal["run.approved"] = "run.approved"
    schema_version: Literal[1] = 1
    payload: DecisionPayload


class RunRejected(EventBase):
    type: Literal["run.rejected"] = "run.rejected"
    schema_version: Literal[1] = 1
    payload: DecisionPayload
