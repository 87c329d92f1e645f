"""The access record every service writes for each API use (the audit system auditing itself).

Conventions shared by ingest, lineage and the exporter (docs/spec/events.md, "Access
records"): an action name per route, the object as `run:<run_id>` (a part of a run as
`run:<run_id>/<kind>:<id>`) or `workspace:<workspace_id>`, the client's address, and
`allowed` false for a refusal given to a caller with a valid key (403, 404, 409; ingest's
422). A request without a valid key (401) names nobody and is not recorded.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cache
from typing import Protocol

from cognify_events import AccessRecorded, AccessRecordedPayload, Producer
from fastapi.requests import HTTPConnection

WORKSPACE_PROJECT = "workspace"  # the project of workspace-level events (run_id is null)


class Caller(Protocol):
    @property
    def workspace_id(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str: ...


# Peers whose `X-Forwarded-For` is believed: the dashboard, which forwards its reviewers'
# requests (docs/spec/dashboard.md). Addresses or networks, comma-separated; loopback by
# default, where the local stack runs the dashboard. Set it to the dashboard's address
# wherever it runs elsewhere, or to "" to believe no one.
TRUSTED_PROXIES_ENV = "COGNIFY_TRUSTED_PROXIES"
DEFAULT_TRUSTED = "127.0.0.1/32,::1/128"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def trusted_networks(setting: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    )


def forwarded_for(peer: str | None, header: str | None, trusted: tuple[Network, ...]) -> str | None:
    """The client's address: the last entry of `X-Forwarded-For` (the one the trusted proxy
    wrote) when the peer is a trusted proxy and the entry is an address; the peer otherwise."""
    if peer is None or not header or not trusted:
        return peer
    try:
        if not any(ipaddress.ip_address(peer) in net for net in trusted):
            return peer
        return str(ipaddress.ip_address(header.split(",")[-1].strip()))
    except ValueError:
        return peer


def client_address(request: HTTPConnection) -> str | None:
    """The address the request came from: the peer of the connection as the server saw it,
    or the reviewer's address a trusted proxy (the dashboard) forwarded."""
    peer = request.client.host if request.client else None
    setting = os.environ.get(TRUSTED_PROXIES_ENV, DEFAULT_TRUSTED)
    return forwarded_for(peer, request.headers.get("x-forwarded-for"), trusted_networks(setting))


def actor_of(key_id: str, label: str, person: str | None) -> str:
    """Who an access record names: the person who holds the key, with the key's label
    ("Dana Reyes (reviewer@ws-1)"), the label alone for a key no person holds (a machine's),
    else `key:<key_id>`. Every service's principal reads the holder from the shared `people`
    table (migration 0008), so the access log says who, not which key, whichever service
    wrote it."""
    name = label or f"key:{key_id}"
    if person:
        name = f"{person} ({name})" if label else person
    return name[:256]


def access_recorded(
    p: Caller, action: str, object_id: str, address: str | None, allowed: bool, producer: Producer
) -> AccessRecorded:
    """A workspace-level record (never in a run's chain, which a seal has fixed): who did
    what to which object, from where, and whether it was allowed."""
    return AccessRecorded(
        workspace_id=p.workspace_id,
        project=WORKSPACE_PROJECT,
        run_id=None,
        producer=producer,
        payload=AccessRecordedPayload(
            actor=p.actor,
            role=str(p.role),
            action=action,
            object_id=object_id[:256],
            address=address,
            allowed=allowed,
        ),
    )


def request_recorded(
    p: Caller,
    request: HTTPConnection,
    action: str,
    object_id: str,
    allowed: bool,
    producer: Producer,
) -> AccessRecorded:
    """The access record of one API request: `access_recorded` from the request's address."""
    return access_recorded(p, action, object_id, client_address(request), allowed, producer)
