"""A command body the event contract could not hold is a 422 at the door, never a 201 whose
event lineage then dead-letters (the reviewer would never learn the annotation was lost)."""

from __future__ import annotations

import re

import pytest
from cognify_ingest import commands
from cognify_ingest.documentation import DocumentationPatch
from pydantic import BaseModel, ValidationError


@pytest.mark.parametrize(
    ("model", "body", "reason"),
    [
        (commands.AnnotationIn, {"node_id": "ds_1", "text": "a\u0000b"}, "U+0000"),
        # pydantic itself refuses a lone surrogate in a str field
        (commands.AnnotationIn, {"node_id": "ds_1", "text": "\ud800"}, "unicode string"),
        (commands.DecisionIn, {"comment": "ok\u0000"}, "U+0000"),
        (commands.DiffIn, {"description": "rows \udfff dropped"}, "unicode string"),
        (
            commands.DecisionIn,
            {"reviewer": {"name": "Dana\u0000", "role": "officer"}},
            "U+0000",
        ),
        (DocumentationPatch, {"intended_use": "triage\u0000only"}, "U+0000"),
    ],
)
def test_a_body_holding_what_no_event_may_hold_is_refused(
    model: type[BaseModel], body: dict[str, object], reason: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(reason)):
        model.model_validate(body)


def test_ordinary_text_and_astral_characters_are_admitted() -> None:
    note = commands.AnnotationIn(node_id="ds_1", text="checked \U0001f600 émigré")
    assert note.text.endswith("émigré")
    assert commands.DecisionIn(comment=None).comment is None


def test_documentation_text_is_admitted_and_null_still_clears() -> None:
    patch = DocumentationPatch.model_validate({"intended_use": " triage ", "phi_handling": None})
    assert patch.intended_use == "triage"
    assert patch.model_fields_set == {"intended_use", "phi_handling"}
