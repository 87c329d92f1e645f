"""The organisation's documentation of a workspace as the report uses it (pure).

The document is the fold of the workspace's `documentation.updated` events stored before
the run's seal (so a sealed run's package never changes with a later edit); its version is
the number of changes folded. Each field keeps who set it, when and in which version, so
a template can cite it. Before any event, the legacy `workspace_documentation` row (set
directly in PostgreSQL) is used, cited as such, version 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cognify_events as ev
from cognify_lineage_model.model import iso

LEGACY = "workspace_documentation table"


@dataclass(frozen=True)
class DocValue:
    text: str
    version: int
    set_by: str
    set_at: str | None
    event_id: str | None

    def source(self) -> str:
        if self.event_id is None:
            return f"organisation documentation ({LEGACY})"
        return (
            f"organisation documentation v{self.version}, set by {self.set_by} "
            f"at {self.set_at} (event {self.event_id})"
        )


@dataclass(frozen=True)
class OrgDocs:
    version: int = 0
    event_id: str | None = None
    updated_by: str | None = None
    updated_at: str | None = None
    fields: dict[str, DocValue] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "event_id": self.event_id,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
            "fields": {
                k: {
                    "text": v.text,
                    "version": v.version,
                    "set_by": v.set_by,
                    "set_at": v.set_at,
                    "event_id": v.event_id,
                }
                for k, v in sorted(self.fields.items())
            },
        }


def fold(events: Iterable[ev.EventBase], legacy: Mapping[str, str | None] | None = None) -> OrgDocs:
    docs = OrgDocs(
        fields={k: DocValue(v, 0, LEGACY, None, None) for k, v in (legacy or {}).items() if v}
    )
    for e in events:
        if not isinstance(e, ev.DocumentationUpdated):
            continue
        p, version, at = e.payload, docs.version + 1, iso(e.time)
        fields = {k: v for k, v in docs.fields.items() if k not in {c.value for c in p.cleared}}
        for name, text in p.set.items():
            fields[name.value] = DocValue(text, version, p.updated_by, at, str(e.event_id))
        docs = OrgDocs(version, str(e.event_id), p.updated_by, at, fields)
    return docs
