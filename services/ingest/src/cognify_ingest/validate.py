"""The gate: is this untrusted event one Cognify accepts? (pure: no I/O)

`check` takes the raw bytes and a `Directory`, the slice of ingest's state that the event
needs (workspaces and their compliance tiers, their keys, run owners, sealed runs), read
beforehand by the adapter. It returns a `Verdict`: accepted (with whether the run still
has to be claimed for the workspace) or rejected with a reason of the form `field:
problem`, which goes to the dead-letter topic verbatim. The Kafka worker and the HTTP
front door share it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from cognify_events import Event, InvalidEvent, decode_strict_object
from cognify_events.signing import PREFIX, canonical_bytes, signature_of

from .credentials import TRAINING_EVENTS, Role


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: Role
    signing_key: bytes


@dataclass
class Directory:
    """What `check` may know about the world; the adapter fills it for a batch."""

    workspaces: set[str] = field(default_factory=set)
    tiers: dict[str, str] = field(default_factory=dict)  # workspace_id -> compliance tier
    keys: dict[str, tuple[KeyInfo, ...]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # run_id -> workspace_id
    sealed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Accepted:
    event: Event
    key_id: str
    needs_claim: bool  # first event of a run: the run is claimed for its workspace


@dataclass(frozen=True)
class Rejected:
    reason: str


Verdict = Accepted | Rejected


def parse(data: bytes) -> tuple[Event, dict[str, Any]] | Rejected:
    """Strict decoding: the event and its raw JSON object (for the signature), or why not."""
    try:
        return decode_strict_object(data)
    except InvalidEvent as exc:
        return Rejected(str(exc))


def authorize(
    event: Event,
    obj: dict[str, Any],
    directory: Directory,
    *,
    bearer_workspace: str | None = None,
) -> Verdict:
    """Authenticate (signature) and authorize (workspace, role, run owner, seal) one event.

    `bearer_workspace` is set on the HTTP path, where the caller already proved a key of
    that workspace: an event naming another workspace is then refused outright."""
    ws = event.workspace_id
    if bearer_workspace is not None and ws != bearer_workspace:
        return Rejected(f"workspace_id: the caller's key belongs to another workspace than {ws!r}")
    if ws not in directory.workspaces:
        return Rejected(f"workspace_id: unknown workspace {ws!r}")
    key = _signer(obj, directory.keys.get(ws, ()))
    if key is None:
        return Rejected(f"signature: does not verify with any active key of workspace {ws!r}")
    if key.role is Role.REVIEWER:
        return Rejected(f"type: a reviewer key may not write events ({event.type})")
    if event.type not in TRAINING_EVENTS:
        return Rejected(f"type: {event.type} is written by Cognify's services, not by a key")
    run_id = event.run_id
    if run_id is None:
        return Rejected(f"run_id: a {event.type} event needs a run")
    owner = directory.owners.get(run_id)
    if owner is not None and owner != ws:
        return Rejected(f"run_id: run {run_id!r} belongs to another workspace")
    if run_id in directory.sealed:
        return Rejected(f"run_id: run {run_id!r} is sealed (AUDIT_SEALED); nothing may be added")
    return Accepted(event, key.key_id, needs_claim=owner is None)


def check(data: bytes, directory: Directory, *, bearer_workspace: str | None = None) -> Verdict:
    """`parse` then `authorize`: the whole gate for one event."""
    parsed = parse(data)
    if isinstance(parsed, Rejected):
        return parsed
    return authorize(*parsed, directory, bearer_workspace=bearer_workspace)


def _signer(obj: dict[str, Any], keys: tuple[KeyInfo, ...]) -> KeyInfo | None:
    """The key whose HMAC matches the event's signature, if any."""
    claimed = obj.get("signature")
    if not isinstance(claimed, str) or not claimed.startswith(PREFIX):
        return None
    body = canonical_bytes(obj)  # computed once, whatever the number of keys
    for key in keys:
        if hmac.compare_digest(claimed, signature_of(body, key.signing_key)):
            return key
    return None


def owner_conflict(run_id: str) -> Rejected:
    """A run claimed concurrently by another workspace between snapshot and claim."""
    return Rejected(f"run_id: run {run_id!r} belongs to another workspace")
