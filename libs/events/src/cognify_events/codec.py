"""Events to bytes and back.

`encode` writes compact JSON. `decode_strict` is for untrusted bytes (ingest): size-limited,
no type coercion, unknown fields refused, and every problem reported as `field.path: reason`.
`decode` is the tolerant reader every downstream consumer uses: unknown fields are ignored
and older payload versions are upcast.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import from_json

from .catalog import BY_TYPE, EVENT_ADAPTER, Event
from .upcasting import needs_upcast, upcast

# An untrusted event's size limit at ingest (docs/spec/events.md): room for a checkpoint of
# the 100,000 files a payload may list, and half of every topic's message limit
# (cognify_kafka.MAX_MESSAGE_BYTES, 32 MiB), so ingest can always republish what it accepts.
MAX_EVENT_BYTES = 16 * 1024 * 1024


class InvalidEvent(ValueError):
    """Bytes that are not a valid event; `problems` holds one `field: reason` per error."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()


def decode(data: bytes) -> Event:
    """Tolerant read of bytes that already passed ingest (or that we wrote ourselves)."""
    return _validate(data, mode="tolerant")


def decode_strict(data: bytes) -> Event:
    """Strict read of untrusted bytes: the gate at ingest."""
    return decode_strict_object(data)[0]


def decode_strict_object(data: bytes) -> tuple[Event, dict[str, Any]]:
    """`decode_strict`, and the raw JSON object it read (what the signature covers), from
    one parse of the bytes."""
    if len(data) > MAX_EVENT_BYTES:
        raise InvalidEvent(
            [f"event: {len(data):,} bytes is over the limit of {MAX_EVENT_BYTES:,} bytes"]
        )
    raw = parse_object(data)
    return _validate(data, raw, mode="strict"), raw


def parse_object(data: bytes) -> dict[str, Any]:
    """The raw JSON object of an event, for signature checks and upcasting.

    The result is always what `json.loads` gives: pydantic-core's parser (jiter) reads the
    common case more than twice as fast, with the same integers of any size, NaN and
    duplicate-key rules; what it refuses (lone surrogates in escapes...) is read by `json`,
    which decides."""
    try:
        raw = from_json(data)
    except ValueError:
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEvent([f"event: not valid UTF-8 JSON ({exc})"]) from None
    if not isinstance(raw, dict):
        raise InvalidEvent([f"event: expected a JSON object, got {type(raw).__name__}"])
    return raw


def _validate(
    data: bytes, raw: dict[str, Any] | None = None, *, mode: Literal["strict", "tolerant"]
) -> Event:
    raw = parse_object(data) if raw is None else raw
    kind = raw.get("type")
    if kind not in BY_TYPE:
        raise InvalidEvent([f"type: unknown event type {kind!r}"])
    if needs_upcast(raw):
        data = json.dumps(upcast(raw)).encode()
    try:
        if mode == "strict":
            return EVENT_ADAPTER.validate_json(data, strict=True, extra="forbid")
        return EVENT_ADAPTER.validate_json(data, extra="ignore")
    except ValidationError as exc:
        raise InvalidEvent(describe(exc, str(kind))) from None


def describe(exc: ValidationError, tag: str | None = None) -> list[str]:
    """One `field.path: message` line per error, without the union tag pydantic prepends."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        if loc and loc[0] == tag:
            loc = loc[1:]
        path = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in loc)
        path = path.replace(".[", "[")
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        lines.append(f"{path or 'event'}: {message}")
    return lines
