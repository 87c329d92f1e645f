"""The event contract: every event round-trips, and bad bytes are refused by name."""

from __future__ import annotations

import json
from typing import Any

import cognify_events as ev
import pytest
from cognify_events.codec import (
    MAX_EVENT_BYTES,
    InvalidEvent,
    decode,
    decode_strict,
    decode_strict_object,
    encode,
    parse_object,
)
from cognify_kafka import MAX_MESSAGE_BYTES
from hypothesis import given
from hypothesis import strategies as st

from .samples import all_samples


def _sample_json(type_name: str) -> dict[str, Any]:
    sample = next(s for s in all_samples() if s.type == type_name)
    obj: dict[str, Any] = json.loads(encode(sample))
    return obj


def _problems(raw: dict[str, Any] | bytes) -> list[str]:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    with pytest.raises(InvalidEvent) as info:
        decode_strict(data)
    return info.value.problems


def test_the_samples_cover_every_event_type() -> None:
    assert {s.type for s in all_samples()} == set(ev.BY_TYPE)


@pytest.mark.parametrize("event", all_samples(), ids=lambda e: e.type)
def test_every_event_type_round_trips_through_the_codec(event: ev.Event) -> None:
    data = encode(event)
    assert decode(data) == event
    assert decode_strict(data) == event
    assert encode(decode(data)) == data


def test_a_missing_field_is_named() -> None:
    raw = _sample_json("checkpoint.saved")
    del raw["payload"]["step"]
    assert _problems(raw) == ["payload.step: Field required"]


def test_a_wrong_type_is_named_and_not_coerced_at_ingest() -> None:
    raw = _sample_json("checkpoint.saved")
    raw["payload"]["step"] = "2500"
    assert _problems(raw) == ["payload.step: Input should be a valid integer"]


def test_downstream_reading_is_tolerant_of_coercible_values() -> None:
    raw = _sample_json("checkpoint.saved")
    raw["payload"]["step"] = "2500"
    event = decode(json.dumps(raw).encode())
    assert isinstance(event, ev.CheckpointSaved) and event.payload.step == 2500


def test_an_unknown_type_is_refused_naming_the_type() -> None:
    raw = _sample_json("run.started")
    raw["type"] = "run.exploded"
    assert _problems(raw) == ["type: unknown event type 'run.exploded'"]
    with pytest.raises(InvalidEvent):
        decode(json.dumps(raw).encode())


@pytest.mark.parametrize("kind", [{}, [], ["run.started"], 7, None])
def test_a_type_that_is_not_a_string_is_a_reason_not_a_crash(kind: object) -> None:
    """schemathesis sent `"type": {}`: a 500 (unhashable dict) before this was a reason."""
    raw = _sample_json("dataset.registered")
    raw["type"] = kind
    problems = _problems(raw)
    assert problems and all(p.startswith("type") for p in problems), problems


def test_unknown_fields_are_refused_at_ingest_and_ignored_downstream() -> None:
    raw = _sample_json("checkpoint.saved")
    raw["payload"]["files"][1]["owner"] = "mallory"
    raw["debug"] = True
    assert sorted(_problems(raw)) == [
        "debug: unknown field",
        "payload.files[1].owner: unknown field",
    ]
    assert decode(json.dumps(raw).encode()).payload.files[1].path == "c.json"  # type: ignore[union-attr]


def test_an_oversized_event_is_refused_before_parsing() -> None:
    raw = _sample_json("metrics.logged")
    raw["padding"] = "x" * MAX_EVENT_BYTES
    (problem,) = _problems(raw)
    assert problem.startswith("event: ") and "over the limit of 16,777,216 bytes" in problem


def test_an_oversized_field_is_named() -> None:
    raw = _sample_json("evaluation.recorded")
    raw["payload"]["notes"] = "n" * 20_000
    assert _problems(raw) == ["payload.notes: String should have at most 16384 characters"]


def test_too_many_metrics_in_one_event_are_refused() -> None:
    raw = _sample_json("metrics.logged")
    raw["payload"]["metrics"] = {f"m{i}": 1.0 for i in range(2_000)}
    (problem,) = _problems(raw)
    assert problem.startswith("payload.metrics: ")


def test_bytes_that_are_not_json_are_refused_with_a_reason() -> None:
    (problem,) = _problems(b"\xff\xfe not json")
    assert problem.startswith("event: not valid UTF-8 JSON")
    assert _problems(b"[1, 2]") == ["event: expected a JSON object, got list"]


def test_naive_timestamps_are_refused() -> None:
    raw = _sample_json("run.started")
    raw["time"] = "2025-09-12T14:30:22"
    (problem,) = _problems(raw)
    assert problem.startswith("time: ") and "timezone" in problem


def test_identifiers_cannot_carry_path_separators() -> None:
    raw = _sample_json("run.started")
    raw["run_id"] = "../../etc"
    (problem,) = _problems(raw)
    assert problem.startswith("run_id: String should match pattern")


def test_events_are_frozen_facts() -> None:
    event = all_samples()[0]
    with pytest.raises(ValueError):
        event.seq = 99  # type: ignore[misc]


def test_run_events_are_keyed_by_run_and_workspace_events_by_workspace() -> None:
    by_type = {s.type: s for s in all_samples()}
    assert ev.partition_key(by_type["checkpoint.saved"]) == b"run_20250912_143022_a7f3c"
    assert ev.partition_key(by_type["retention.updated"]) == b"workspace:ws-clinical"


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1.5, 2e-05, -0, 1E400, "x"], "c": {"d": null, "e": true}}',
        '{"big": 123456789012345678901234567890, "neg": -99999999999999999999}',
        '{"f": 0.0033333333333333335, "g": 12345678901234567890.5, "h": 1234567890123456789012e5}',
        '{"nan": NaN, "inf": Infinity, "minf": -Infinity}',
        '{"lone": "\\ud800", "pair": "\\ud83d\\ude00", "ctl": "\\u0001\\n"}',
        '{"dup": 1, "dup": 2}',
        '{"é": "ü", "emoji": "😀"}',
    ],
)
def test_parse_object_reads_exactly_what_json_loads_reads(text: str) -> None:
    """jiter takes the common case; what it refuses, json decides: the result is json's."""
    data = text.encode()
    assert repr(parse_object(data)) == repr(json.loads(data))


@pytest.mark.parametrize("data", [b"[1, 2]", b'"text"', b"{", b"\xff{}", b""])
def test_parse_object_refuses_what_is_not_one_json_object(data: bytes) -> None:
    with pytest.raises(InvalidEvent, match=r"^event: "):
        parse_object(data)


def test_decode_strict_object_returns_the_event_and_the_object_it_read() -> None:
    event = all_samples()[0]
    data = encode(event)
    decoded, raw = decode_strict_object(data)
    assert decoded == event
    assert raw == json.loads(data)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _JSON_VALUES, max_size=6))
def test_parse_object_agrees_with_json_loads_on_any_object(value: dict[str, Any]) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    assert repr(parse_object(data)) == repr(json.loads(data))


def test_a_checkpoint_of_the_most_files_a_payload_may_list_fits_the_limit() -> None:
    """100,000 file entries with 80-character paths: about 10 MB, accepted at ingest, and
    under half of every topic's message limit."""
    raw = _sample_json("checkpoint.saved")
    raw["payload"]["files"] = [
        {"path": f"shard-{i:06d}/" + "p" * 60 + ".safetensors", "size": i} for i in range(100_000)
    ]
    data = json.dumps(raw).encode()
    assert 8_000_000 < len(data) <= MAX_EVENT_BYTES
    assert len(decode_strict(data).payload.files) == 100_000  # type: ignore[union-attr]
    assert MAX_EVENT_BYTES * 2 <= MAX_MESSAGE_BYTES
