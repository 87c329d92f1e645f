"""API keys and what each role may do (pure: no I/O).

The key format and its hashing are cognify_access.keys, shared with the other services.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cognify_access.keys import IssuedKey, issue, key_hash, key_id_of, matches
from cognify_access.records import actor_of

__all__ = ["IssuedKey", "issue", "key_hash", "key_id_of", "matches"]


class Role(StrEnum):
    WRITER = "writer"  # the SDK: training events only
    REVIEWER = "reviewer"  # read, annotate, approve/reject, request a seal, document diffs
    ADMIN = "admin"  # everything, including retention and key management


# Event types a key may sign for the raw topic or POST /v1/events. Everything else is made
# by the services or by the API on a reviewer's behalf, never accepted from outside.
TRAINING_EVENTS = frozenset(
    {
        "run.started",
        "run.config_captured",
        "run.system_info",
        "run.heartbeat",
        "metrics.logged",
        "evaluation.recorded",
        "run.ended",
        "dataset.registered",
        "checkpoint.saved",
        "model.registered",
        "run.seal_requested",  # cognify.export_audit() in the SDK
    }
)


class Action(StrEnum):
    READ = "read"
    WRITE_EVENTS = "write-events"
    REVIEW = "review"  # annotate, approve, reject, request seal, document a dataset diff
    ADMINISTER = "administer"  # retention, keys


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.WRITER: frozenset({Action.READ, Action.WRITE_EVENTS}),
    Role.REVIEWER: frozenset({Action.READ, Action.REVIEW}),
    Role.ADMIN: frozenset(Action),
}


def may(role: Role, action: Action) -> bool:
    return action in ALLOWED[role]


@dataclass(frozen=True)
class Person:
    """Who holds a key (`people`, migration 0008): the printed name and title they sign
    with. A name is unique in its workspace; rotation gives the same person another key."""

    person_id: str
    name: str
    title: str
    email: str | None = None


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: one key of one workspace, held by a person (keys issued
    before people were recorded, and machine keys, have none)."""

    key_id: str
    workspace_id: str
    role: Role
    label: str
    person: Person | None = None

    @property
    def actor(self) -> str:
        return actor_of(self.key_id, self.label, self.person.name if self.person else None)
