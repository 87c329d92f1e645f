"""Events to bytes and back.

`encode` writes compact JSON. `decode_strict` is for untrusted bytes (ingest): size-limited,
within the bounds of `bounds.py` (nesting depth before parsing; strings, integers and numbers
after), no type coercion, unknown fields refused, and every problem reported as
`field.path: reason`.
`decode` is the tolerant reader every downstream consumer uses: unknown fields are ignored
and older payload versions are upcast.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import from_json

from . import bounds
from .catalog import BY_TYPE, EVENT_ADAPTER, Event
from .upcasting import needs_upcast, upcast

# An untrusted event's size limit at ingest (docs/spec/events.md): room for a checkpoint of
# the 100,000 files a payload may list, and half of every topic's message limit
# (cognify_kafka.MAX_MESSAGE_BYTES, 32 MiB), so ingest can always republish what it accepts.
MAX_EVENT_BYTES = 16 * 1024 * 1024
# Members a Python caller may leave to their defaults (a new id, the current time) but that
# untrusted bytes must carry: read without them, the same bytes would be a different event
# at every decode (a new id: never a duplicate; a new time: a rebuild that differs).
WIRE_REQUIRED = ("event_id", "time", "type")


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
    _refuse(bounds.shape_problems(data, max_containers=bounds.MAX_CONTAINERS))
    raw = parse_object(data, strict=True)
    kind = raw.get("type")
    # else the type is what is wrong (_validate says so); an object or a list is no type
    if isinstance(kind, str) and kind in BY_TYPE:
        _refuse([f"{name}: Field required" for name in WIRE_REQUIRED if name not in raw])
    if bounds.may_hold_bad_values(data):
        _refuse(bounds.value_problems(raw, strings=b"\\u" in data))
    event = _validate(data, raw, mode="strict")
    _refuse(bounds.event_problems(event))
    return event, raw


def _refuse(problems: list[str]) -> None:
    if problems:
        raise InvalidEvent(problems)


class _BareConstant(ValueError):
    pass


def _bare_constant(name: str) -> Any:
    raise _BareConstant(name)


def parse_object(data: bytes, *, strict: bool = False) -> dict[str, Any]:
    """The raw JSON object of an event, for signature checks and upcasting.

    The result is always what `json.loads` gives: pydantic-core's parser (jiter) reads the
    common case more than twice as fast, with the same integers of any size, NaN and
    duplicate-key rules; what it refuses (lone surrogates in escapes...) is read by `json`,
    which decides, once the text is known not to nest deeper than it can recurse.
    `strict` (untrusted bytes) refuses the bare `NaN`, `Infinity` and `-Infinity` that
    `json` reads by default (they are not JSON), and reads UTF-8 only, strictly (`json`
    would read UTF-16 and UTF-32 too, and surrogates encoded in UTF-8)."""
    try:
        raw = from_json(data, allow_inf_nan=not strict)
    except ValueError:
        _refuse(bounds.shape_problems(data))
        try:
            if strict:
                raw = json.loads(data.decode(), parse_constant=_bare_constant)
            else:
                raw = json.loads(data)
        except _BareConstant as exc:
            raise InvalidEvent(
                [f"event: {exc} is not a JSON number; non-finite values are written by name"]
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEvent([f"event: not valid UTF-8 JSON ({exc})"]) from None
        except (ValueError, RecursionError) as exc:  # a number of more than 4,300 digits
            raise InvalidEvent([f"event: not JSON that can be read ({exc})"]) from None
    if not isinstance(raw, dict):
        raise InvalidEvent([f"event: expected a JSON object, got {type(raw).__name__}"])
    return raw


def _validate(
    data: bytes, raw: dict[str, Any] | None = None, *, mode: Literal["strict", "tolerant"]
) -> Event:
    raw = parse_object(data) if raw is None else raw
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in BY_TYPE:  # an object or list is unhashable
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
