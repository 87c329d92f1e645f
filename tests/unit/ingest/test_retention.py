"""Retention only grows through the API."""

from __future__ import annotations

from cognify_events import ExportFormat
from cognify_ingest.retention import RetentionPatch, apply_patch, default_for


def test_a_new_healthcare_workspace_starts_at_its_floor() -> None:
    r = default_for("healthcare")
    assert (r.retention_years, r.floor_years) == (6, 6)


def test_lengthening_and_other_settings_are_accepted() -> None:
    new = apply_patch(
        default_for("standard"),
        RetentionPatch(
            retention_years=7,
            archive_after_days=90,
            auto_export_on_seal=True,
            auto_export_format=ExportFormat.JSON,
        ),
    )
    assert not isinstance(new, list)
    assert (new.retention_years, new.auto_export_on_seal) == (7, True)


def test_shortening_is_refused_with_the_reason() -> None:
    current = apply_patch(default_for("standard"), RetentionPatch(retention_years=7))
    assert not isinstance(current, list)
    refused = apply_patch(current, RetentionPatch(retention_years=3))
    assert isinstance(refused, list) and "shortened" in refused[0]


def test_the_floor_holds() -> None:
    healthcare = default_for("healthcare")
    below = apply_patch(healthcare, RetentionPatch(retention_years=2))
    assert isinstance(below, list) and any("floor" in p for p in below)
    assert isinstance(
        apply_patch(healthcare, RetentionPatch(archive_after_days=99_999 % 36_500)), list
    )


def test_an_auto_export_template_brings_its_floor() -> None:
    """EU AI Act packages are kept 10 years, HIPAA 6: an auto-export template below its
    floor is refused with the reason, at it accepted, and the floor is shown."""
    from cognify_events import ExportTemplate

    standard = default_for("standard")
    refused = apply_patch(standard, RetentionPatch(auto_export_template=ExportTemplate.EU_AI_ACT))
    assert isinstance(refused, list)
    assert any("10 years a eu_ai_act package" in p for p in refused), refused
    hipaa = apply_patch(
        standard,
        RetentionPatch(retention_years=6, auto_export_template=ExportTemplate.HIPAA),
    )
    assert not isinstance(hipaa, list)
    assert hipaa.public()["auto_export_template"] == "hipaa"
    assert hipaa.public()["template_floor_years"] == 6
    assert isinstance(apply_patch(hipaa, RetentionPatch(retention_years=5)), list)
