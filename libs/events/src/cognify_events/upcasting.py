"""Bring events written under an older payload version up to the current one.

The rule (docs/spec/events.md): a payload that gains an optional field with a default keeps
its version, because old events still validate. Any other change (a new required field, a
rename, a changed meaning) raises the event's `schema_version` and registers here a pure
function that turns the previous version's JSON object into the next one. Golden files of
every old version live in tests/unit/events/golden/ and must decode for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import CURRENT_VERSIONS

RawEvent = dict[str, Any]
Upcaster = Callable[[RawEvent], RawEvent]

# (wire type, from_version) -> function producing version from_version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def needs_upcast(raw: RawEvent) -> bool:
    current = CURRENT_VERSIONS.get(str(raw.get("type")))
    version = raw.get("schema_version")
    return current is not None and isinstance(version, int) and version < current


def upcast(raw: RawEvent) -> RawEvent:
    """Apply registered upcasters until the event is at its type's current version.

    Unknown types and versions without an upcaster are returned unchanged so that validation
    reports them with a precise message."""
    while needs_upcast(raw):
        step = UPCASTERS.get((raw["type"], raw["schema_version"]))
        if step is None:
            return raw
        raw = step(dict(raw))
    return raw
