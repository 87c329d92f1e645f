"""Checked-in JSON Schemas stay current; old payloads stay readable for ever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cognify_events import CURRENT_VERSIONS, upcasting
from cognify_events.codec import decode, decode_strict, encode
from cognify_events.schema import render, schemas

from .samples import all_samples

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"


def test_checked_in_json_schemas_are_current() -> None:
    stale = [
        name
        for name, schema in schemas().items()
        if not (ROOT / "docs/events" / name).exists()
        or (ROOT / "docs/events" / name).read_text() != render(schema)
    ]
    assert not stale, (
        f"docs/events is stale for {stale}: run "
        "`uv run python -m cognify_events.schema docs/events`"
    )


@pytest.mark.parametrize("event", all_samples(), ids=lambda e: e.type)
def test_every_event_validates_against_its_published_schema(event: Any) -> None:
    schema = json.loads((ROOT / "docs/events" / f"{event.type}.json").read_text())
    jsonschema.validate(json.loads(encode(event)), schema)


def test_every_current_event_version_has_a_golden_file() -> None:
    expected = {f"{name}.v{version}.json" for name, version in CURRENT_VERSIONS.items()}
    assert expected <= {p.name for p in GOLDEN.glob("*.json")}


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.name)
def test_golden_payloads_of_every_version_still_decode(path: Path) -> None:
    event = decode(path.read_bytes())
    assert event.type == path.name.split(".v")[0]
    decode_strict(path.read_bytes())


def test_an_old_event_without_a_later_optional_field_still_decodes() -> None:
    # The additive rule: run.started gained `host` with a default; events written before it
    # have no such member and must still decode, at ingest too.
    raw = json.loads((GOLDEN / "run.started.v1.json").read_text())
    raw["payload"].pop("host", None)
    event = decode_strict(json.dumps(raw).encode())
    assert event.payload.host is None  # type: ignore[union-attr]


def test_a_chunk_request_from_before_source_version_still_decodes() -> None:
    # hash.chunk_requested gained `source_version` (the version of an s3:// source its plan
    # was made from) with a default: the v1 golden file, written before it, lacks it.
    raw = json.loads((GOLDEN / "hash.chunk_requested.v1.json").read_text())
    assert "source_version" not in raw["payload"]
    event = decode_strict(json.dumps(raw).encode())
    assert event.payload.source_version is None  # type: ignore[union-attr]
    raw["payload"]["source_version"] = "etag:0b34ee47b333ff0dc3caafcdcb1650f8"
    event = decode_strict(json.dumps(raw).encode())
    assert event.payload.source_version == "etag:0b34ee47b333ff0dc3caafcdcb1650f8"  # type: ignore[union-attr]
    raw["payload"]["source_version"] = "v2"  # not one of the documented forms
    with pytest.raises(ValueError, match=r"payload\.source_version: String should match"):
        decode_strict(json.dumps(raw).encode())


def test_a_hash_result_from_before_source_version_still_decodes() -> None:
    # hash.computed gained `source_version` (the version of an s3:// source that was
    # hashed) with a default: the v1 golden file, written before it, lacks it.
    raw = json.loads((GOLDEN / "hash.computed.v1.json").read_text())
    assert "source_version" not in raw["payload"]
    event = decode_strict(json.dumps(raw).encode())
    assert event.payload.source_version is None  # type: ignore[union-attr]
    raw["payload"]["source_version"] = "objects-sha256:" + "ab" * 32
    event = decode_strict(json.dumps(raw).encode())
    assert event.payload.source_version == "objects-sha256:" + "ab" * 32  # type: ignore[union-attr]
    raw["payload"]["source_version"] = "latest"  # not one of the documented forms
    with pytest.raises(ValueError, match=r"payload\.source_version: String should match"):
        decode_strict(json.dumps(raw).encode())


def test_a_heartbeat_from_before_the_spool_members_still_decodes() -> None:
    # run.heartbeat gained `spool_bytes` and `spool_events` (what the SDK's spool holds that
    # the broker has not acknowledged) with defaults: the v1 golden file lacks them.
    raw = json.loads((GOLDEN / "run.heartbeat.v1.json").read_text())
    assert "spool_bytes" not in raw["payload"] and "spool_events" not in raw["payload"]
    event = decode_strict(json.dumps(raw).encode())
    assert event.payload.spool_bytes is None  # type: ignore[union-attr]
    assert event.payload.spool_events is None  # type: ignore[union-attr]
    raw["payload"].update(spool_bytes=1_048_576, spool_events=3_000)
    event = decode_strict(json.dumps(raw).encode())
    assert (event.payload.spool_bytes, event.payload.spool_events) == (1_048_576, 3_000)  # type: ignore[union-attr]
    raw["payload"]["spool_events"] = -1
    with pytest.raises(ValueError, match=r"payload\.spool_events: Input should be greater"):
        decode_strict(json.dumps(raw).encode())


def test_a_breaking_change_is_bridged_by_an_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend run.started v0 named the tags `labels`; its upcaster renames them.
    def v0_to_v1(raw: dict[str, Any]) -> dict[str, Any]:
        payload = dict(raw["payload"])
        payload["tags"] = payload.pop("labels")
        return {**raw, "payload": payload, "schema_version": 1}

    monkeypatch.setitem(upcasting.UPCASTERS, ("run.started", 0), v0_to_v1)
    raw = json.loads((GOLDEN / "run.started.v1.json").read_text())
    raw["schema_version"] = 0
    raw["payload"]["labels"] = raw["payload"].pop("tags")
    event = decode_strict(json.dumps(raw).encode())
    assert event.schema_version == 1 and event.payload.tags == {"team": "ml-platform"}  # type: ignore[union-attr]


def test_a_version_without_an_upcaster_is_refused_with_the_field_named() -> None:
    raw = json.loads((GOLDEN / "run.started.v1.json").read_text())
    raw["schema_version"] = 0
    with pytest.raises(ValueError, match=r"^schema_version: Input should be 1"):
        decode_strict(json.dumps(raw).encode())
