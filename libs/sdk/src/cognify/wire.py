"""`metrics.logged`, the event of nearly every step, signed and encoded without pydantic.

Building the payload and event models, dumping one for the signature and rendering the
other cost the publisher thread about 100 µs an event, taken from the training process's
share of the GIL. Here the event is a plain dict (what `model_dump(mode="json")` gives) for
the signature and is written straight to JSON in the same bytes as `encode(sign(event))`:
pydantic's field order, compact separators, non-ASCII kept, and its float format (the
shortest round-trip digits, like `repr`, but `0.00001` where `repr` says `1e-05` and
`1e-7` where it says `1e-07`). tests/unit/sdk/test_wire.py checks the equality over
generated metrics. Anything the models would refuse or that this module does not write
(`plain` returns None) goes the pydantic way, which raises as before.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from json.encoder import encode_basestring
from typing import NamedTuple

from cognify_events.base import IDENT_PATTERN, Producer
from cognify_events.signing import signature_of

_IDENT = re.compile(IDENT_PATTERN)
_NONFINITE = ("nan", "inf", "-inf")
_MAX_INT = 2**53 - 1  # what ingest admits (docs/spec/events.md, "Bounds")


class MetricValues(NamedTuple):
    """A `metrics.logged` payload as plain values: finite numbers, and NaN/infinities by
    name ("nan", "inf", "-inf")."""

    step: int
    epoch: float | None
    metrics: dict[str, float]
    nonfinite: dict[str, str]


def render_float(value: float) -> str:
    """A finite float as pydantic writes it in JSON."""
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, _, exponent = text.partition("e")
    power = int(exponent)
    if power == -5:  # pydantic writes 1.5e-05 as 0.000015
        sign, digits = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
        return f"{sign}0.0000{digits.replace('.', '')}"
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _uuid4() -> str:
    """`str(uuid.uuid4())` in a fifth of its time: random bits, version 4, RFC 4122 variant."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _name_ok(name: object) -> bool:
    return type(name) is str and len(name) <= 256


def _valid(v: MetricValues) -> bool:
    """Would the payload model take these values exactly as they are (no coercion)?"""
    if type(v.step) is not int or not 0 <= v.step <= _MAX_INT:
        return False
    if v.epoch is not None and (type(v.epoch) is not float or v.epoch != v.epoch):
        return False
    if v.epoch is not None and abs(v.epoch) == float("inf"):
        return False
    if len(v.metrics) > 1_024 or len(v.nonfinite) > 1_024:
        return False
    for name, value in v.metrics.items():
        if not _name_ok(name) or type(value) is not float or value != value:
            return False
        if abs(value) == float("inf"):
            return False
    return all(_name_ok(n) and s in _NONFINITE for n, s in v.nonfinite.items())


class Envelope:
    """What every event of one run shares, rendered once."""

    def __init__(self, workspace_id: str, project: str, run_id: str, producer: Producer) -> None:
        self.usable = all(_IDENT.match(x) for x in (workspace_id, project, run_id))
        self.head = {"workspace_id": workspace_id, "project": project, "run_id": run_id}
        self.head_json = ",".join(
            f"{encode_basestring(k)}:{encode_basestring(x)}" for k, x in self.head.items()
        )
        self.producer = producer.model_dump(mode="json")
        self.producer_json = producer.model_dump_json()
        # The signed bytes are the canonical JSON of the event (keys sorted at every level,
        # compact, non-ASCII kept, floats as `repr`: cognify_events.signing), written here
        # directly rather than built as a dict and canonicalised; around the per-event parts
        # everything is fixed for the run.
        canonical = json.dumps(
            self.producer, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        self.canonical_middle = (
            f',"producer":{canonical},"project":{encode_basestring(project)},'
            f'"run_id":{encode_basestring(run_id)},"schema_version":1,"seq":'
        )
        self.canonical_tail = (
            f',"type":"metrics.logged","workspace_id":{encode_basestring(workspace_id)}}}'
        )

    def plain(self, values: MetricValues, seq: int, at: float, key: bytes) -> bytes | None:
        """The signed `metrics.logged` bytes, or None where pydantic must judge."""
        if not self.usable or not _valid(values):
            return None
        try:
            return self._render(values, seq, at, key)
        except UnicodeEncodeError:  # a lone surrogate in a name: pydantic's to judge
            return None

    def canonical(self, values: MetricValues, event_id: str, seq: int, when: str) -> bytes:
        """The signed bytes: `cognify_events.signing.canonical_bytes` of the event object,
        written directly (tests/unit/sdk/test_wire.py checks the equality)."""
        epoch = "null" if values.epoch is None else repr(values.epoch)
        metrics = ",".join(
            f"{encode_basestring(k)}:{x!r}" for k, x in sorted(values.metrics.items())
        )
        nonfinite = ",".join(
            f'{encode_basestring(k)}:"{x}"' for k, x in sorted(values.nonfinite.items())
        )
        return (
            f'{{"event_id":"{event_id}","payload":{{"epoch":{epoch},"metrics":{{{metrics}}},'
            f'"nonfinite_metrics":{{{nonfinite}}},"step":{values.step}}}'
            f'{self.canonical_middle}{seq},"time":"{when}"{self.canonical_tail}'
        ).encode()

    def _render(self, values: MetricValues, seq: int, at: float, key: bytes) -> bytes:
        event_id = _uuid4()
        when = datetime.fromtimestamp(at, timezone.utc).isoformat().replace("+00:00", "Z")
        signature = signature_of(self.canonical(values, event_id, seq, when), key)
        epoch = "null" if values.epoch is None else render_float(values.epoch)
        metrics = ",".join(
            f"{encode_basestring(k)}:{render_float(x)}" for k, x in values.metrics.items()
        )
        nonfinite = ",".join(f'{encode_basestring(k)}:"{x}"' for k, x in values.nonfinite.items())
        return (
            f'{{"event_id":"{event_id}",{self.head_json},"seq":{seq},"time":"{when}",'
            f'"producer":{self.producer_json},"signature":"{signature}",'
            f'"type":"metrics.logged","schema_version":1,"payload":{{"step":{values.step},'
            f'"epoch":{epoch},"metrics":{{{metrics}}},"nonfinite_metrics":{{{nonfinite}}}}}}}'
        ).encode()
