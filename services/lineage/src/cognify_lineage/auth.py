"""Who is calling the read API: bearer keys of the `api_keys` table (pure: no I/O).

The key format and hashing are cognify_access.keys, shared with ingest (which issues keys)
and the exporter. Every role of a workspace may read that workspace.
"""

from __future__ import annotations

from dataclasses import dataclass

from cognify_access.keys import key_id_of, matches
from cognify_access.records import actor_of

__all__ = ["Principal", "key_id_of", "matches"]

ROLES = ("writer", "reviewer", "admin")


@dataclass(frozen=True)
class Principal:
    key_id: str
    workspace_id: str
    role: str
    label: str
    person: str | None = None  # the holder's name (`people`); none for a machine's key

    @property
    def actor(self) -> str:
        return actor_of(self.key_id, self.label, self.person)

    @property
    def may_read(self) -> bool:
        return self.role in ROLES
