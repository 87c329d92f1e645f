"""The dataset provenance a workspace's compliance tier requires, and the fact that a
registered dataset lacks some of it.

The tier belongs to the workspace (set by its admin), not to the training job: ingest checks
each `dataset.registered` against it and emits `dataset.provenance_incomplete`, which lineage
shows as a `provenance-incomplete` finding that blocks the seal until a reviewer annotates
it. The SDK reads the same table to warn the person training as early as it can.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field

from .base import EventBase, Ident, Model, ShortText

# Fields each tier requires in `provenance`, in the order a message names them (the
# walkthrough: "deidentification_method and authorized_use are required for healthcare").
REQUIRED_PROVENANCE: Mapping[str, tuple[str, ...]] = {
    "standard": (),
    "finance": ("source_system", "authorized_use"),
    "healthcare": ("deidentification_method", "authorized_use"),
    "eu_ai_act": ("source_system", "authorized_use", "extraction_date"),
}


def missing_provenance(provenance: Mapping[str, object], tier: str) -> list[str]:
    """The fields `tier` requires that `provenance` lacks: absent, null, or blank text.
    An unknown tier requires nothing."""
    out = []
    for name in REQUIRED_PROVENANCE.get(tier, ()):
        value = provenance.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(name)
    return out


class DatasetProvenanceIncompletePayload(Model):
    """A registered dataset lacks provenance fields its workspace's tier requires."""

    dataset_id: Ident
    name: ShortText
    tier: ShortText
    missing: Annotated[list[ShortText], Field(min_length=1, max_length=64)]
    requested_by_event: ShortText  # the dataset.registered event's id


class DatasetProvenanceIncomplete(EventBase):
    type: Literal["dataset.provenance_incomplete"] = "dataset.provenance_incomplete"
    schema_version: Literal[1] = 1
    payload: DatasetProvenanceIncompletePayload


class WorkspaceTierChangedPayload(Model):
    """An admin changed the workspace's compliance tier (workspace-level event). From the
    moment ingest admits it, datasets registered in the workspace are checked against
    `tier`; what was registered before keeps the judgement of the tier it was registered
    under. `changed_by` and `key_id` come from the admin key, never from the body."""

    previous_tier: ShortText
    tier: ShortText
    changed_by: ShortText
    key_id: ShortText | None = None


class WorkspaceTierChanged(EventBase):
    type: Literal["workspace.tier_changed"] = "workspace.tier_changed"
    schema_version: Literal[1] = 1
    payload: WorkspaceTierChangedPayload
