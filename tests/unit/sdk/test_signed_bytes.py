"""The publisher's encoding (`signed_bytes`) is `encode(sign(event))` byte for byte."""

from __future__ import annotations

import json
from typing import Any

import cognify_events as ev
from cognify.run import signed_bytes
from cognify_events.codec import decode_strict, encode
from cognify_events.signing import sign, signing_key, verify
from hypothesis import given, settings
from hypothesis import strategies as st

API_KEY = "cgk_signed_bytes"
PRODUCER = ev.Producer(kind=ev.ProducerKind.SDK, id='host"name:12', version="0.1.0")

keys = st.text(min_size=1, max_size=20) | st.sampled_from(["signature", '"signature":null'])
floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | floats | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=10,
)


def _envelope(payload: Any, cls: type[ev.EventBase], seq: int) -> ev.EventBase:
    return cls(
        workspace_id="ws-1",
        project="p",
        run_id="run_1",
        seq=seq,
        producer=PRODUCER,
        payload=payload,
    )


@settings(max_examples=200, deadline=None)
@given(
    metrics=st.dictionaries(keys, floats, max_size=8),
    step=st.integers(0, 10**9),
    epoch=st.none() | floats,
)
def test_metrics_encode_as_sign_then_encode(
    metrics: dict[str, float], step: int, epoch: float | None
) -> None:
    event = _envelope(
        ev.MetricsLoggedPayload(step=step, epoch=epoch, metrics=metrics), ev.MetricsLogged, step
    )
    assert signed_bytes(event, signing_key(API_KEY)) == encode(sign(event, API_KEY))  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(args=st.dictionaries(keys, json_values, max_size=6), tags=st.dictionaries(keys, keys))
def test_config_and_tags_that_look_like_the_signature_encode_the_same(
    args: dict[str, Any], tags: dict[str, str]
) -> None:
    config = _envelope(
        ev.ConfigCapturedPayload(
            config_id="cfg_1", config_hash="sha256:" + "0" * 64, training_args=args
        ),
        ev.ConfigCaptured,
        1,
    )
    started = _envelope(ev.RunStartedPayload(tags=tags, sdk_version="0.1.0"), ev.RunStarted, 0)
    for event in (config, started):
        data = signed_bytes(event, signing_key(API_KEY))
        assert data == encode(sign(event, API_KEY))  # type: ignore[arg-type]


def test_what_it_writes_passes_ingests_gate_and_verifies() -> None:
    event = _envelope(ev.MetricsLoggedPayload(step=3, metrics={"loss": 1e-5}), ev.MetricsLogged, 3)
    data = signed_bytes(event, signing_key(API_KEY))
    decoded = decode_strict(data)
    assert isinstance(decoded, ev.MetricsLogged) and isinstance(event, ev.MetricsLogged)
    assert decoded.signature is not None and decoded.payload == event.payload
    assert verify(json.loads(data), signing_key(API_KEY))
    assert not verify(json.loads(data), signing_key("cgk_other"))
