"""Retention settings and the rule for changing them (pure: no I/O).

`PATCH /v2/workspaces/{workspace_id}/retention` takes the members of the audit-trail seed,
each optional (PATCH). Retention may be lengthened, never shortened: a value below the
current one, below the floor an admin set for the workspace (by compliance tier, e.g.
six years for healthcare) or below the floor of the auto-export template (EU AI Act 10
years, HIPAA 6: `TEMPLATE_RETENTION_FLOORS`) is refused, so an audit record cannot be
aged out early through the API.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from cognify_events import TEMPLATE_RETENTION_FLOORS, ExportFormat, ExportTemplate
from pydantic import BaseModel, ConfigDict, Field

# Default floor (years) for a new workspace, by compliance tier.
TIER_FLOORS = {"standard": 1, "healthcare": 6, "finance": 7, "eu_ai_act": 10}


class RetentionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retention_years: Annotated[int, Field(ge=1, le=100)] | None = None
    archive_after_days: Annotated[int, Field(ge=0, le=36_500)] | None = None
    auto_export_on_seal: bool | None = None
    auto_export_format: ExportFormat | None = None
    auto_export_template: ExportTemplate | None = None


@dataclass(frozen=True)
class Retention:
    retention_years: int
    archive_after_days: int
    auto_export_on_seal: bool
    auto_export_format: ExportFormat
    floor_years: int
    auto_export_template: ExportTemplate = ExportTemplate.DEFAULT

    def public(self) -> dict[str, object]:
        return {
            "retention_years": self.retention_years,
            "archive_after_days": self.archive_after_days,
            "auto_export_on_seal": self.auto_export_on_seal,
            "auto_export_format": self.auto_export_format.value,
            "floor_years": self.floor_years,
            "auto_export_template": self.auto_export_template.value,
            "template_floor_years": TEMPLATE_RETENTION_FLOORS[self.auto_export_template],
        }


def default_for(tier: str) -> Retention:
    floor = TIER_FLOORS.get(tier, 1)
    return Retention(floor, 90, False, ExportFormat.JSON, floor)


def apply_patch(current: Retention, patch: RetentionPatch) -> Retention | list[str]:
    """The new settings, or the reasons the change is refused."""
    changes = patch.model_dump(exclude_none=True)
    new = replace(current, **changes)
    problems = []
    if new.retention_years < current.retention_years:
        problems.append(
            f"retention_years: may not be shortened below the current "
            f"{current.retention_years} years"
        )
    if new.retention_years < current.floor_years:
        problems.append(
            f"retention_years: below the workspace's floor of {current.floor_years} years"
        )
    template_floor = TEMPLATE_RETENTION_FLOORS[new.auto_export_template]
    if new.retention_years < template_floor:
        problems.append(
            f"retention_years: below the {template_floor} years a "
            f"{new.auto_export_template.value} package must be kept"
        )
    if new.archive_after_days > new.retention_years * 365:
        problems.append("archive_after_days: longer than the retention period")
    return problems or new
