"""The access record of an API request (pure: a request scope, no server)."""

from __future__ import annotations

from dataclasses import dataclass

import cognify_events as ev
import pytest
from cognify_access.encoding import accepts_gzip
from cognify_access.records import (
    WORKSPACE_PROJECT,
    actor_of,
    client_address,
    forwarded_for,
    request_recorded,
    trusted_networks,
)
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


def _forwarded(client: tuple[str, int], header: str) -> Request:
    headers = [(b"x-forwarded-for", header.encode())]
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": headers, "client": client}
    )


def test_the_dashboard_on_loopback_is_believed_about_the_reviewer_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COGNIFY_TRUSTED_PROXIES", raising=False)
    assert client_address(_forwarded(("127.0.0.1", 5123), "10.9.8.7")) == "10.9.8.7"
    assert client_address(_forwarded(("::1", 5123), "2001:db8::5")) == "2001:db8::5"


def test_a_forwarded_address_from_anyone_else_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COGNIFY_TRUSTED_PROXIES", raising=False)
    assert client_address(_forwarded(("10.1.2.3", 5123), "127.0.0.1")) == "10.1.2.3"
    monkeypatch.setenv("COGNIFY_TRUSTED_PROXIES", "")
    assert client_address(_forwarded(("127.0.0.1", 5123), "10.9.8.7")) == "127.0.0.1"
    monkeypatch.setenv("COGNIFY_TRUSTED_PROXIES", "10.1.0.0/16")
    assert client_address(_forwarded(("10.1.2.3", 5123), "192.0.2.1")) == "192.0.2.1"
    assert client_address(_forwarded(("127.0.0.1", 5123), "192.0.2.1")) == "127.0.0.1"


def test_only_the_entry_the_trusted_proxy_wrote_counts() -> None:
    trusted = trusted_networks("127.0.0.1")
    # a client's own X-Forwarded-For comes first; the dashboard's entry is the last one
    assert forwarded_for("127.0.0.1", "6.6.6.6, 10.0.0.9", trusted) == "10.0.0.9"
    assert forwarded_for("127.0.0.1", "not-an-address", trusted) == "127.0.0.1"
    assert forwarded_for("127.0.0.1", "", trusted) == "127.0.0.1"
    assert forwarded_for("not-an-address", "10.0.0.9", trusted) == "not-an-address"


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


def test_an_access_record_names_the_person_who_holds_the_key() -> None:
    assert actor_of("0123456789ab", "reviewer@ws-1", "Dana Reyes") == "Dana Reyes (reviewer@ws-1)"
    assert actor_of("0123456789ab", "", "Dana Reyes") == "Dana Reyes"
    assert actor_of("0123456789ab", "ci-runner", None) == "ci-runner"  # a machine's key
    assert actor_of("0123456789ab", "", None) == "key:0123456789ab"
    assert len(actor_of("0123456789ab", "k" * 200, "n" * 200)) == 256  # what the event holds


def test_gzip_is_taken_when_named_or_starred_and_not_refused() -> None:
    assert accepts_gzip("gzip") and accepts_gzip("br, gzip;q=0.8") and accepts_gzip("*")
    assert accepts_gzip("GZIP, deflate") and accepts_gzip("gzip ; q=1")
    assert not accepts_gzip(None) and not accepts_gzip("") and not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("deflate, br")
    assert not accepts_gzip("gzip;q=nonsense")
