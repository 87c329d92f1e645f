"""Anchor segments (cognify_lineage.anchors): the spec's test vector, strict opening, and the
comparison that names the first event a consistent rewrite changed."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cognify_lineage import anchors, chain
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# docs/spec/anchors.md, "Test vector"
SEED = hashlib.sha256(b"cognify anchor test vector").digest()
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
KEY_ID = "ed25519:5713c76af970a1b29adbb093e3cfeff17ef149b17962fa7cc93ab36808680afb"
AT = datetime(2025, 9, 12, 16, 45, tzinfo=UTC)
BODIES = [b'{"n":0}', b'{"n":1}', b'{"n":2}']
PAYLOAD_SHA256 = "0af554f84da80f869944ea0c52100b81f52d2dae60408dbfe272d366df204834"
SIG_0 = "uDK+AGrcYf3fWeJD1NYPfMIPrRP06NiUf6cWnNdwSO7cQMFY4Jrxshl4IKKiBSgsBKRi+7HTtHRtImasPIdcDw=="
SIG_1 = "O7rMlI+vcJZyBflcnfifP1lP61RG5XDf9dczzFCuH5pm1Np+wJma5OK8nDKw3U1qjlqNOkQC3kFY76ms9R5VDw=="
TRUSTED = {KEY_ID: KEY.public_key()}


def first_two() -> anchors.Segment:
    return anchors.extend("run_vector", "ws_vector", 0, chain.GENESIS, BODIES[:2], AT)


def third(after: anchors.Segment) -> anchors.Segment:
    return anchors.extend(
        "run_vector", "ws_vector", 2, after.head, BODIES[2:], AT + timedelta(minutes=1)
    )


def test_the_spec_vector() -> None:
    seg = first_two()
    assert anchors.key_id(KEY.public_key()) == KEY_ID
    assert seg.hashes == (
        "sha256:cfa94966dd3f9be5b9a04717523d662aa23c2c2c1eb62fdc320fb535747ea5bb",
        "sha256:a8a16b5435d1edf0f257a4e68905e8554b83c7010fc337b5f70aa174435760ef",
    )
    assert hashlib.sha256(seg.payload()).hexdigest() == PAYLOAD_SHA256
    envelope = json.loads(anchors.sign(seg, KEY))
    assert envelope["signatures"] == [{"keyid": KEY_ID, "sig": SIG_0}]
    assert json.loads(anchors.sign(third(seg), KEY))["signatures"][0]["sig"] == SIG_1
    # a segment's hashes are the lineage chain's (docs/spec/lineage.md)
    assert seg.head == chain.link(chain.link(chain.GENESIS, BODIES[0]), BODIES[1])


def test_a_signed_segment_opens_to_itself() -> None:
    seg = third(first_two())
    opened = anchors.open_envelope(anchors.sign(seg, KEY), TRUSTED)
    assert opened == seg
    assert (opened.start, opened.length, opened.prev_hash) == (2, 3, first_two().head)


def _edit(data: bytes, change: dict[str, object]) -> bytes:
    envelope = json.loads(data)
    envelope.update(change)
    return json.dumps(envelope).encode()


def _payload_edit(data: bytes, **members: object) -> bytes:
    envelope = json.loads(data)
    body = json.loads(base64.b64decode(envelope["payload"]))
    body.update(members)
    envelope["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    return json.dumps(envelope).encode()


def test_anything_but_a_trusted_untouched_envelope_is_refused() -> None:
    good = anchors.sign(first_two(), KEY)
    other = Ed25519PrivateKey.generate()
    sig = json.loads(good)["signatures"][0]
    forged = anchors.sign(first_two(), other)
    cases = {
        "another key": forged,
        "another key claiming ours": _edit(
            forged, {"signatures": [{**json.loads(forged)["signatures"][0], "keyid": KEY_ID}]}
        ),
        "an edited payload": _payload_edit(good, start=0, hashes=[]),
        "two signatures": _edit(good, {"signatures": [sig, sig]}),
        "no signature": _edit(good, {"signatures": []}),
        "non-canonical base64": _edit(good, {"payload": json.loads(good)["payload"] + "="}),
        "another payload type": _edit(good, {"payloadType": "application/vnd.in-toto+json"}),
        "an extra member": _edit(good, {"extra": 1}),
        "not JSON": b"\x00",
    }
    for what, data in cases.items():
        with pytest.raises(anchors.AnchorInvalid):
            anchors.open_envelope(data, TRUSTED)
            pytest.fail(f"{what} was accepted")


def test_a_segment_must_be_well_formed_even_when_signed() -> None:
    def signed(**members: object) -> bytes:
        body = json.loads(first_two().payload())
        body.update(members)
        payload = json.dumps(body).encode()
        envelope = {
            "payloadType": anchors.PAYLOAD_TYPE,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [
                {
                    "keyid": KEY_ID,
                    "sig": base64.b64encode(
                        KEY.sign(anchors.pae(anchors.PAYLOAD_TYPE, payload))
                    ).decode(),
                }
            ],
        }
        return json.dumps(envelope).encode()

    assert anchors.open_envelope(signed(), TRUSTED) == first_two()
    for bad in (
        {"length": 3},
        {"head": chain.GENESIS},
        {"start": 1},
        {"hashes": ["sha256:XYZ"]},
        {"anchored_at": "2025-09-12T16:45:00"},
        {"_type": "https://cognify.dev/audit-package/v1"},
    ):
        with pytest.raises(anchors.AnchorInvalid):
            anchors.open_envelope(signed(**bad), TRUSTED)


def _history(n: int) -> list[bytes]:
    return [json.dumps({"seq": i, "loss": 1 / (i + 1)}).encode() for i in range(n)]


def _segments(bodies: list[bytes], cuts: list[int]) -> list[anchors.Segment]:
    out, start, head = [], 0, chain.GENESIS
    for i, cut in enumerate(cuts):
        seg = anchors.extend(
            "run-a", "ws", start, head, bodies[start:cut], AT + timedelta(minutes=i)
        )
        out.append(seg)
        start, head = cut, seg.head
    return out


def test_an_untouched_chain_agrees_with_its_anchors_and_may_have_grown_since() -> None:
    bodies = _history(12)
    check = anchors.compare("run-a", anchors.recompute(bodies), _segments(bodies, [4, 9]))
    assert check.valid
    assert (check.segments, check.anchored_length) == (2, 9)
    assert check.anchored_head == anchors.recompute(bodies)[8]


def test_a_consistent_rewrite_is_named_at_the_first_changed_event() -> None:
    bodies = _history(12)
    segs = _segments(bodies, [4, 9, 12])
    rewritten = list(bodies)
    rewritten[6] = json.dumps({"seq": 6, "loss": 0.001}).encode()  # chain recomputed: consistent
    check = anchors.compare("run-a", anchors.recompute(rewritten), segs)
    assert not check.valid
    assert check.difference is not None
    assert (check.difference.index, check.difference.exact, check.difference.after) == (6, True, 5)
    assert check.difference.anchored_at == AT + timedelta(minutes=1)
    assert "rewritten after the anchor" in check.difference.reason


def test_removed_events_and_anchors_that_disagree_are_reported() -> None:
    bodies = _history(8)
    segs = _segments(bodies, [3, 8])
    removed = anchors.compare("run-a", anchors.recompute(bodies[:5]), segs)
    assert removed.difference is not None and removed.difference.index == 5
    assert "removed" in removed.difference.reason
    # a second segment that does not continue the first (as a forger with the key would write)
    forged = anchors.extend("run-a", "ws", 3, chain.GENESIS.replace("0", "1"), bodies[3:8], AT)
    check = anchors.compare("run-a", anchors.recompute(bodies), [segs[0], forged])
    assert not check.valid and check.problems


def test_with_a_gap_in_the_anchors_the_change_is_bounded() -> None:
    bodies = _history(10)
    first, _, last = _segments(bodies, [3, 6, 10])
    rewritten = list(bodies)
    rewritten[4] = b'{"forged":true}'
    check = anchors.compare("run-a", anchors.recompute(rewritten), [first, last])
    assert check.difference is not None
    # positions 3 and 4 were never anchored: the change is after #2 and at or before #5
    # (the last segment's prev_hash anchors #5)
    assert (check.difference.index, check.difference.exact, check.difference.after) == (5, False, 2)
