"""Provenance requirements per compliance tier, and the warning for what is missing.

The table is the events library's (`cognify_events.REQUIRED_PROVENANCE`), the one ingest
enforces; which tier applies is the workspace's, learned from ingest (tier.py)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence

from cognify_events import REQUIRED_PROVENANCE

REQUIRED = REQUIRED_PROVENANCE
log = logging.getLogger("cognify")


class ProvenanceWarning(UserWarning):
    """Provenance lacks fields that the workspace's compliance tier requires."""


def missing_fields(
    provenance: Mapping[str, object], tier: str, required: Sequence[str] | None = None
) -> list[str]:
    """The fields of `required` (else the tier's) that are absent, null or blank text."""
    out = []
    for name in REQUIRED.get(tier, ()) if required is None else required:
        value = provenance.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(name)
    return out


def check(
    provenance: Mapping[str, object],
    tier: str,
    dataset_name: str,
    required: Sequence[str] | None = None,
    *,
    workspace: bool = False,
    late: bool = False,
) -> list[str]:
    """Warn (never raise) about required fields that are missing; returns the warnings.
    `workspace`: the tier is the workspace's, as ingest reported it (which then records a
    finding); `late`: it became known after the dataset was registered."""
    missing = missing_fields(provenance, tier, required)
    if not missing:
        return []
    message = (
        f"dataset {dataset_name!r}: provenance is missing {', '.join(missing)}, "
        f"required for the {tier} compliance tier"
    )
    if workspace or late:
        message += (
            " of the workspace: the run gets a provenance-incomplete finding, which a "
            "reviewer must annotate before the run can be sealed"
        )
    if late:
        log.warning("cognify: %s", message)
    warnings.warn(message, ProvenanceWarning, stacklevel=3)
    return [message]
