"""The gate, without servers: every reason an event is refused, and what is accepted."""

from __future__ import annotations

import json

import cognify_events as ev
import pytest
from cognify_events.signing import signing_key
from cognify_ingest.credentials import Role
from cognify_ingest.validate import Accepted, Directory, KeyInfo, Rejected, check

from tests.unit.lineage.script import HASHER, Script

WRITER, REVIEWER, OTHER = "cgk_writer", "cgk_reviewer", "cgk_other"


def directory(**changes: object) -> Directory:
    d = Directory(
        workspaces={"ws-a", "ws-b"},
        keys={
            "ws-a": (
                KeyInfo("w1", Role.WRITER, signing_key(WRITER)),
                KeyInfo("r1", Role.REVIEWER, signing_key(REVIEWER)),
            ),
            "ws-b": (KeyInfo("w2", Role.WRITER, signing_key(OTHER)),),
        },
        owners={"run-1": "ws-a", "run-b": "ws-b"},
    )
    for k, v in changes.items():
        setattr(d, k, v)
    return d


def signed(event: ev.EventBase, key: str = WRITER) -> bytes:
    return ev.sign(event, key).model_dump_json().encode()


def reason(data: bytes, d: Directory | None = None, **kw: str) -> str:
    verdict = check(data, d or directory(), **kw)
    assert isinstance(verdict, Rejected), verdict
    return verdict.reason


def test_a_signed_event_of_a_known_run_is_accepted() -> None:
    verdict = check(signed(Script("ws-a", "run-1").started()), directory())
    assert isinstance(verdict, Accepted) and verdict.key_id == "w1" and not verdict.needs_claim


def test_the_first_event_of_a_new_run_claims_it() -> None:
    verdict = check(signed(Script("ws-a", "run-new").started()), directory())
    assert isinstance(verdict, Accepted) and verdict.needs_claim


def test_a_forged_signature_is_refused() -> None:
    assert reason(signed(Script("ws-a", "run-1").started(), "cgk_guess")).startswith("signature:")
    unsigned = Script("ws-a", "run-1").started().model_dump_json().encode()
    assert reason(unsigned).startswith("signature:")
    obj = json.loads(signed(Script("ws-a", "run-1").heartbeat(3)))
    obj["payload"]["step"] = 4  # altered after signing
    assert reason(json.dumps(obj).encode()).startswith("signature:")


def test_unknown_workspace_and_another_workspaces_run_are_refused() -> None:
    assert "unknown workspace" in reason(signed(Script("ws-zz", "run-z").started()))
    assert "another workspace" in reason(signed(Script("ws-b", "run-1").started(), OTHER))
    assert "another workspace" in reason(
        signed(Script("ws-a", "run-1").started()), bearer_workspace="ws-b"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"\xff\xfe not json", "event: not valid UTF-8 JSON"),
        (b"[1, 2]", "event: expected a JSON object"),
        (json.dumps({"type": "run.exploded"}).encode(), "type: unknown event type"),
    ],
)
def test_malformed_bytes_and_unknown_types_are_refused(data: bytes, field: str) -> None:
    assert reason(data).startswith(field)


def test_schema_violations_name_the_field() -> None:
    obj = json.loads(signed(Script("ws-a", "run-1").metrics(1, 0.5)))
    obj["payload"]["step"] = "5"
    assert reason(json.dumps(obj).encode()).startswith("payload.step:")


def test_a_sealed_run_takes_nothing_more() -> None:
    assert "sealed" in reason(
        signed(Script("ws-a", "run-1").heartbeat(9)), directory(sealed={"run-1"})
    )


def test_roles_and_service_events() -> None:
    assert "reviewer key" in reason(signed(Script("ws-a", "run-1").started(), REVIEWER))
    s = Script("ws-a", "run-1")
    forged_result = s.hashed(ev.HashTarget.CHECKPOINT, "ckpt_step_100", "sha256:" + "0" * 64)
    assert forged_result.producer == HASHER
    assert "written by Cognify's services" in reason(signed(forged_result))
