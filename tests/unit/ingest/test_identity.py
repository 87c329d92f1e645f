"""Keys are people (issue 13): who annotates, approves, rejects, documents a diff or asks
for a seal comes from the key, never from the request body."""

from __future__ import annotations

import cognify_events as ev
import pytest
from cognify_events import Producer, ProducerKind
from cognify_ingest import commands
from cognify_ingest.credentials import Person, Principal, Role

API = Producer(kind=ProducerKind.API, id="ingest-1:1", version="0.1.0")
DANA = Principal(
    "0123456789ab", "ws-1", Role.REVIEWER, "laptop", Person("p-000000000001", "Dana Reyes", "QA")
)
MACHINE = Principal("ba9876543210", "ws-1", Role.ADMIN, "ops-bot")


def test_the_key_names_the_person_whatever_the_body_says() -> None:
    approved = commands.decision(DANA, "p", "run-1", True, commands.DecisionIn(), API)
    assert isinstance(approved, ev.RunApproved)
    # the key's holder, and the key itself (docs/spec/package.md, "Approval statements")
    assert approved.payload.reviewer == ev.Reviewer(
        name="Dana Reyes", role="QA", key_id="0123456789ab"
    )
    note = commands.AnnotationIn(node_id="ds_1", text="checked")
    assert commands.annotation(DANA, "p", "run-1", note, API).payload.author.name == "Dana Reyes"
    sealed = commands.seal_request(DANA, "p", "run-1", commands.SealIn(), API)
    assert sealed.payload.requested_by == "Dana Reyes"
    diff = commands.diff_documented(
        DANA, "p", "run-1", "ds_1", commands.DiffIn(description="d"), API
    )
    assert diff.payload.documented_by == "Dana Reyes"


@pytest.mark.parametrize(
    "name, role",
    [("Dr. Ana Ortiz", "QA"), ("Dana Reyes", "admin"), ("dana reyes", "QA"), ("Dana Reyes ", "QA")],
)
def test_a_body_naming_anyone_else_is_refused(name: str, role: str) -> None:
    given = commands.ReviewerIn(name=name, role=role)
    why = commands.impersonation(DANA, given)
    assert why is not None and "never from the request" in why
    with pytest.raises(ValueError, match="never from the request"):
        commands.decision(DANA, "p", "run-1", False, commands.DecisionIn(reviewer=given), API)


def test_a_body_naming_the_holder_or_no_one_is_accepted() -> None:
    assert commands.impersonation(DANA, None) is None
    assert commands.impersonation(DANA, commands.ReviewerIn(name="Dana Reyes", role="QA")) is None


def test_a_key_without_a_holder_acts_as_its_label_and_role() -> None:
    assert commands.identity(MACHINE) == ev.Reviewer(
        name="ops-bot", role="admin", key_id="ba9876543210"
    )
    assert commands.impersonation(MACHINE, commands.ReviewerIn(name="Dana Reyes", role="QA"))
