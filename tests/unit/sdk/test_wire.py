"""The publisher's plain encoding of `metrics.logged` (wire.py) is `encode(sign(event))` of
the pydantic event byte for byte, over generated names, numbers, steps, epochs, times and
run identities; what it declines goes the pydantic way."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime

import cognify_events as ev
import pytest
from cognify.records import as_payload, metric_values
from cognify.run import signed_bytes
from cognify.wire import Envelope, MetricValues, render_float
from cognify_events.base import IDENT_PATTERN
from cognify_events.codec import decode_strict
from cognify_events.signing import signing_key, verify
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

KEY = signing_key("cgk_wire")
idents = st.from_regex(IDENT_PATTERN, fullmatch=True)
names = st.text(max_size=40) | st.sampled_from(['"signature":null', "loss", 'é😀\n\t\\"', ""])
finite = st.floats(allow_nan=False, allow_infinity=False)
producers = st.builds(
    ev.Producer,
    kind=st.just(ev.ProducerKind.SDK),
    id=st.text(max_size=40),
    version=st.text(max_size=10),
)


def _pydantic(env: Envelope, values: MetricValues, seq: int, at: float, plain: bytes) -> bytes:
    """What the publisher wrote before: the models, dumped and signed (same id and time)."""
    event = ev.MetricsLogged(
        event_id=uuid.UUID(json.loads(plain)["event_id"]),
        workspace_id=env.head["workspace_id"],
        project=env.head["project"],
        run_id=env.head["run_id"],
        seq=seq,
        time=datetime.fromtimestamp(at, UTC),
        producer=ev.Producer.model_validate(env.producer),
        payload=as_payload(values),
    )
    return signed_bytes(event, KEY)


@settings(max_examples=300, deadline=None)
@given(
    ids=st.tuples(idents, idents, idents),
    producer=producers,
    metrics=st.dictionaries(names, finite, max_size=8),
    nonfinite=st.dictionaries(names, st.sampled_from(["nan", "inf", "-inf"]), max_size=3),
    step=st.integers(0, 2**53 - 1),
    seq=st.integers(0, 2**53 - 1),
    epoch=st.none() | finite,
    at=st.floats(0, 4e9),
)
def test_plain_bytes_are_the_pydantic_bytes(
    ids: tuple[str, str, str],
    producer: ev.Producer,
    metrics: dict[str, float],
    nonfinite: dict[str, str],
    step: int,
    seq: int,
    epoch: float | None,
    at: float,
) -> None:
    env = Envelope(*ids, producer)
    values = MetricValues(
        step, epoch, metrics, {k: v for k, v in nonfinite.items() if k not in metrics}
    )
    plain = env.plain(values, seq, at, KEY)
    assert plain is not None  # names of at most 256 characters, finite numbers: the plain way
    assert plain == _pydantic(env, values, seq, at, plain)


@settings(max_examples=2000, deadline=None)
@given(value=finite)
def test_floats_are_written_as_pydantic_writes_them(value: float) -> None:
    assert render_float(value) == TypeAdapter(float).dump_json(value).decode()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-5, "0.00001"),
        (-1.5e-5, "-0.000015"),
        (1e-6, "1e-6"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (-0.0, "-0.0"),
        (5e-324, "5e-324"),
    ],
)
def test_the_float_formats_where_repr_differs(value: float, text: str) -> None:
    assert render_float(value) == text


def test_what_pydantic_must_judge_is_left_to_it() -> None:
    producer = ev.Producer(kind=ev.ProducerKind.SDK, id="h:1")
    env = Envelope("ws-1", "p", "run_1", producer)
    declined = [
        MetricValues(1, None, {"x" * 257: 1.0}, {}),  # a name too long: the model refuses it
        MetricValues(-1, None, {"loss": 1.0}, {}),
        MetricValues(1, math.nan, {"loss": 1.0}, {}),
        MetricValues(1, None, {"loss": 1}, {}),  # an int: the model would make it 1.0
        MetricValues(1, None, {"loss\ud800": 1.0}, {}),  # a lone surrogate
    ]
    for values in declined:
        assert env.plain(values, 0, 0.0, KEY) is None
    with pytest.raises(ValidationError):
        as_payload(declined[0])
    assert (
        Envelope("ws/1", "p", "run_1", producer).plain(MetricValues(1, None, {}, {}), 0, 0.0, KEY)
        is None
    )


def test_what_it_writes_passes_ingests_gate_and_verifies() -> None:
    producer = ev.Producer(kind=ev.ProducerKind.SDK, id="gpu-7:42", version="0.1.0")
    values = metric_values(7, 1, {"loss": 0.5, "grad_norm": math.inf, "step": 7})
    assert values == MetricValues(7, 1.0, {"loss": 0.5}, {"grad_norm": "inf"})
    data = Envelope("ws-1", "proj", "run_1", producer).plain(values, 3, 1.7e9, KEY)
    assert data is not None
    event = decode_strict(data)
    assert isinstance(event, ev.MetricsLogged) and event.seq == 3
    assert event.payload.nonfinite_metrics == {"grad_norm": "inf"}
    assert verify(json.loads(data), KEY)


def test_event_ids_are_version_4_uuids() -> None:
    from cognify.wire import _uuid4

    ids = {_uuid4() for _ in range(1000)}
    assert len(ids) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
