"""The exporter's HTTP answers when a seal cannot finish now (pure: the app in memory, with
a fake key table and a seal that times out or stays stale): 503 with Retry-After, recorded
as allowed, never a 500."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cognify_events as ev
import pytest
from cognify_access.keys import issue
from cognify_exporter.http import RETRY_AFTER_S, create_app
from cognify_exporter.workflow import StaleSeal

from tests.unit.access.asgi import call

KEY = issue()
PRODUCER = ev.Producer(kind=ev.ProducerKind.EXPORTER, id="t:1", version="0")


@dataclass
class Keys:
    """The one query the app makes before the route: the key behind the bearer token."""

    async def fetchrow(self, query: str, key_id: str) -> dict[str, str] | None:
        if key_id != KEY.key_id:
            return None
        return {
            "key_id": KEY.key_id,
            "workspace_id": "ws-1",
            "role": "reviewer",
            "key_hash": KEY.key_hash,
            "label": "dana",
            "name": "Dana Reyes",  # the key's holder (people)
        }


@dataclass
class Stuck:
    """An exporter whose seal cannot finish: it raises `error`."""

    error: Exception
    pool: Keys = field(default_factory=Keys)
    producer: ev.Producer = PRODUCER
    published: list[ev.AccessRecorded] = field(default_factory=list)

    async def publish(self, event: ev.AccessRecorded) -> None:
        self.published.append(event)

    async def seal(self, *args: Any) -> dict[str, Any]:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        TimeoutError("run.sealed for run-1 was published but lineage has not folded it"),
        StaleSeal("run-1", 3, "the seal is stale"),
    ],
)
async def test_a_seal_that_cannot_finish_now_is_a_503_to_retry(error: Exception) -> None:
    exporter = Stuck(error)
    auth = [(b"authorization", f"Bearer {KEY.key}".encode())]
    status, body = await call(
        create_app(exporter),  # type: ignore[arg-type]
        "POST",
        b"/v1/runs/run-1/seal",
        b"{}",
        auth,
    )
    assert (status, body) == (503, {"error": str(error)})
    [record] = exporter.published
    assert (record.payload.action, record.payload.allowed) == ("seal", True)
    assert RETRY_AFTER_S == 5


async def test_a_request_without_a_key_is_a_401_before_any_parameter_is_read() -> None:
    app = create_app(Stuck(TimeoutError()))  # type: ignore[arg-type]
    status, body = await call(app, "POST", b"/v1/runs/a%00b/seal", b"{}")
    assert (status, body) == (401, {"error": "a valid API key is needed"})


async def test_a_seal_asks_for_each_format_at_most_once() -> None:
    app = create_app(Stuck(TimeoutError()))  # type: ignore[arg-type]
    auth = [(b"authorization", f"Bearer {KEY.key}".encode())]
    body = b'{"formats": ["pdf", "pdf", "pdf", "pdf", "pdf"]}'
    status, answer = await call(app, "POST", b"/v1/runs/run-1/seal", body, auth)
    assert status == 422 and answer["problems"][0]["name"] == "formats", answer
