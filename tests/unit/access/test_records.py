"""The access record of an API request (pure: a request scope, no server)."""

from __future__ import annotations

from dataclasses import dataclass

import cognify_events as ev
from cognify_access.records import WORKSPACE_PROJECT, client_address, request_recorded
from fastapi import Request

PRODUCER = ev.Producer(kind=ev.ProducerKind.EXPORTER, id="test:1", version="0")


@dataclass(frozen=True)
class Caller:
    workspace_id: str = "ws-1"
    actor: str = "reviewer@ws-1"
    role: str = "reviewer"


def _request(client: tuple[str, int] | None) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "client": client})


def test_the_address_is_the_peer_of_the_connection() -> None:
    assert client_address(_request(("10.1.2.3", 5123))) == "10.1.2.3"
    assert client_address(_request(None)) is None


def test_a_request_becomes_a_workspace_level_record() -> None:
    record = request_recorded(
        Caller(), _request(("10.1.2.3", 5123)), "seal", "run:r1", False, PRODUCER
    )
    assert isinstance(record, ev.AccessRecorded)
    assert (record.workspace_id, record.project, record.run_id) == ("ws-1", WORKSPACE_PROJECT, None)
    assert ev.partition_key(record) == b"workspace:ws-1"
    p = record.payload
    assert (p.actor, p.role, p.action, p.object_id, p.address, p.allowed) == (
        "reviewer@ws-1",
        "reviewer",
        "seal",
        "run:r1",
        "10.1.2.3",
        False,
    )
    assert ev.decode(ev.encode(record)) == record


def test_a_long_object_id_is_cut_to_the_field_limit() -> None:
    record = request_recorded(
        Caller(), _request(None), "run.read", "run:" + "x" * 400, True, PRODUCER
    )
    assert len(record.payload.object_id) == 256 and record.payload.address is None
