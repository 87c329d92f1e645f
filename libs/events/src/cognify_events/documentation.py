"""The organisation's documentation of a workspace, as facts (docs/spec/events.md).

What an audit template needs that only the organisation can say (intended use, known
limitations, oversight, ...) is set through ingest's API with an admin key, each change a
`documentation.updated` event naming who made it. The document at any time is the fold
of the workspace's events in store order; its version is the number of changes folded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ._backports import StrEnum
from .base import EventBase, LongText, Model, ShortText


class DocField(StrEnum):
    INTENDED_USE = "intended_use"
    KNOWN_LIMITATIONS = "known_limitations"  # known limitations and failure modes
    DEPLOYMENT_RESTRICTIONS = "deployment_restrictions"
    ACCEPTABLE_USE_POLICY = "acceptable_use_policy"
    DATA_SOURCE_CATEGORIES = "data_source_categories"
    HUMAN_OVERSIGHT = "human_oversight"
    RISK_MANAGEMENT = "risk_management"  # a reference to the risk management system
    STANDARDS_APPLIED = "standards_applied"
    DECLARATION_OF_CONFORMITY = "declaration_of_conformity"
    POST_MARKET_MONITORING = "post_market_monitoring"
    PHI_HANDLING = "phi_handling"
    INCIDENT_POLICY_URL = "incident_policy_url"
    ENCRYPTION_AT_REST = "encryption_at_rest"


class DocumentationUpdatedPayload(Model):
    """One change: the fields given new text and the fields cleared; `updated_by` and
    `key_id` come from the admin key that made it, never from the request body."""

    set: Annotated[dict[DocField, LongText], Field(max_length=len(DocField))] = {}
    cleared: Annotated[list[DocField], Field(max_length=len(DocField))] = []
    updated_by: ShortText
    key_id: ShortText | None = None


class DocumentationUpdated(EventBase):
    type: Literal["documentation.updated"] = "documentation.updated"
    schema_version: Literal[1] = 1
    payload: DocumentationUpdatedPayload
