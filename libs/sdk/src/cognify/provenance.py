"""Provenance requirements per compliance tier, and the warning for what is missing."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

REQUIRED: dict[str, tuple[str, ...]] = {
    "standard": (),
    "finance": ("source_system", "authorized_use"),
    "healthcare": ("deidentification_method", "authorized_use"),
    "eu_ai_act": ("source_system", "authorized_use", "extraction_date"),
}


class ProvenanceWarning(UserWarning):
    """Provenance lacks fields that the workspace's compliance tier requires."""


def missing_fields(provenance: Mapping[str, object], tier: str) -> list[str]:
    return [f for f in REQUIRED.get(tier, ()) if provenance.get(f) in (None, "")]


def check(provenance: Mapping[str, object], tier: str, dataset_name: str) -> list[str]:
    """Warn (never raise) about required fields that are missing; returns the warnings."""
    missing = missing_fields(provenance, tier)
    if not missing:
        return []
    message = (
        f"dataset {dataset_name!r}: provenance is missing {', '.join(missing)}, "
        f"required for the {tier} compliance tier"
    )
    warnings.warn(message, ProvenanceWarning, stacklevel=3)
    return [message]
