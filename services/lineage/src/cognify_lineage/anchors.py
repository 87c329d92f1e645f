"""Chain heads anchored outside the database (pure: no I/O). Spec: docs/spec/anchors.md.

The event store's hash chain shows any change made to a stored event, unless whoever made
it could also recompute the chain and `chain_heads` (the owner role, a superuser, anyone
with the database files). An anchor is the answer: lineage writes, every few seconds and
at every seal, a **segment** for each chain that grew since its last one, signed with a
key of lineage's own (Ed25519, in a DSSE envelope), to Object Lock storage, where nobody
can change or delete it. A segment holds the chain hashes of the events it adds, so
comparing the store with every segment of a chain names the first event that differs.

A segment continues the one before it: it starts at the length the previous segment
anchored, from that segment's head (`prev_hash`), and its hashes are computed here from
the stored bytes on top of that head, never copied from the database. So the segments of
a chain always form one chain, even when the database was rewritten in between.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cognify_events import chain
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PAYLOAD_TYPE = "application/vnd.cognify.chain-anchor+json"
ANCHOR_TYPE = "https://cognify.dev/chain-anchor/v1"
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_MEMBERS = {
    "_type",
    "chain_id",
    "workspace_id",
    "anchored_at",
    "start",
    "prev_hash",
    "length",
    "head",
    "hashes",
}


class AnchorInvalid(ValueError):
    """An object in the anchor space that is not a segment signed by a trusted key."""


def key_id(public: Ed25519PublicKey) -> str:
    """`ed25519:` + 64 hex of SHA-256 of the 32 raw public-key bytes (as the seal keys)."""
    return (
        "ed25519:" + hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()
    )


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Segment:
    """The chain hashes of events `start` .. `length - 1` of one chain, anchored at a time;
    `prev_hash` is the chain hash of event `start - 1` (the genesis value when 0)."""

    chain_id: str
    workspace_id: str
    start: int
    prev_hash: str
    hashes: tuple[str, ...]
    anchored_at: datetime

    @property
    def length(self) -> int:
        return self.start + len(self.hashes)

    @property
    def head(self) -> str:
        return self.hashes[-1] if self.hashes else self.prev_hash

    def payload(self) -> bytes:
        """Sorted keys, no whitespace: the same segment always gives the same bytes."""
        body = {
            "_type": ANCHOR_TYPE,
            "chain_id": self.chain_id,
            "workspace_id": self.workspace_id,
            "anchored_at": iso(self.anchored_at),
            "start": self.start,
            "prev_hash": self.prev_hash,
            "length": self.length,
            "head": self.head,
            "hashes": list(self.hashes),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def extend(
    chain_id: str,
    workspace_id: str,
    start: int,
    prev_hash: str,
    bodies: Iterable[bytes],
    anchored_at: datetime,
) -> Segment:
    """The segment after an anchored head: the chain computed over the stored bytes of
    events `start`, `start + 1`, ... on top of `prev_hash`."""
    hashes, head = [], prev_hash
    for body in bodies:
        head = chain.link(head, body)
        hashes.append(head)
    return Segment(chain_id, workspace_id, start, prev_hash, tuple(hashes), anchored_at)


def sign(segment: Segment, private: Ed25519PrivateKey) -> bytes:
    """The segment's DSSE envelope, as stored (one signature, keyid the key's fingerprint)."""
    payload = segment.payload()
    signature = private.sign(pae(PAYLOAD_TYPE, payload))
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": key_id(private.public_key()), "sig": base64.b64encode(signature).decode()}
        ],
    }
    return (json.dumps(envelope, sort_keys=True, indent=2) + "\n").encode()


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise AnchorInvalid(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise AnchorInvalid(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise AnchorInvalid(f"{what} is not canonical base64")
    return raw


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise AnchorInvalid("a JSON object repeats a member")
    return out


def _json(data: bytes, what: str) -> dict[str, object]:
    try:
        found = json.loads(data, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise AnchorInvalid(f"{what} is not JSON: {exc}") from None
    if not isinstance(found, dict):
        raise AnchorInvalid(f"{what} is not a JSON object")
    return found


def open_envelope(data: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> Segment:
    """The segment an envelope carries, checked strictly: exactly one signature, by one of
    the `trusted` keys (by fingerprint), over the PAE of the payload, and a payload that is
    a well-formed segment. Raises AnchorInvalid saying what does not hold."""
    envelope = _json(data, "the envelope")
    if set(envelope) != {"payloadType", "payload", "signatures"}:
        raise AnchorInvalid(f"envelope members are {sorted(envelope)}")
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise AnchorInvalid(f"payloadType is {envelope['payloadType']!r}, not {PAYLOAD_TYPE}")
    payload = _b64(envelope["payload"], "the payload")
    signatures = envelope["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise AnchorInvalid("an anchor carries exactly one signature")
    entry = signatures[0]
    if not isinstance(entry, dict) or set(entry) != {"keyid", "sig"}:
        raise AnchorInvalid("the signature is not {keyid, sig}")
    public = trusted.get(str(entry["keyid"]))
    if public is None:
        raise AnchorInvalid(f"signed by {entry['keyid']!r}, not a trusted anchor key")
    try:
        public.verify(_b64(entry["sig"], "the signature"), pae(PAYLOAD_TYPE, payload))
    except InvalidSignature:
        raise AnchorInvalid(f"the signature does not verify under {entry['keyid']}") from None
    return _segment(_json(payload, "the payload"))


def _segment(body: dict[str, object]) -> Segment:
    if set(body) != _MEMBERS or body["_type"] != ANCHOR_TYPE:
        raise AnchorInvalid(f"not a {ANCHOR_TYPE} segment")
    chain_id, ws, start, prev, hashes = (
        body["chain_id"],
        body["workspace_id"],
        body["start"],
        body["prev_hash"],
        body["hashes"],
    )
    if not (isinstance(chain_id, str) and isinstance(ws, str) and isinstance(prev, str)):
        raise AnchorInvalid("chain_id, workspace_id and prev_hash must be strings")
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise AnchorInvalid("start must be a non-negative integer")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise AnchorInvalid("hashes must be a list of strings")
    if not all(_HASH.match(h) for h in [prev, *hashes]):
        raise AnchorInvalid("every hash must be sha256:<64 lowercase hex>")
    if (start == 0) != (prev == chain.GENESIS):
        raise AnchorInvalid("prev_hash is the genesis value exactly when start is 0")
    try:
        at = datetime.fromisoformat(str(body["anchored_at"]))
    except ValueError:
        raise AnchorInvalid("anchored_at is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise AnchorInvalid("anchored_at has no time zone")
    segment = Segment(chain_id, ws, start, prev, tuple(hashes), at)
    if (body["length"], body["head"]) != (segment.length, segment.head):
        raise AnchorInvalid("length and head are not start + len(hashes) and the last hash")
    return segment


@dataclass(frozen=True)
class Difference:
    """Where the store first disagrees with the anchors."""

    index: int  # the first chain position whose content is not what was anchored
    exact: bool  # every position before it was anchored and agrees: it is the changed event
    after: int  # the last anchored position before it that agrees (-1: none)
    anchored_at: datetime  # when the disagreeing hash was anchored
    reason: str


@dataclass(frozen=True)
class AnchorCheck:
    """The store's chain compared with its anchored segments."""

    chain_id: str
    segments: int
    anchored_length: int  # how many of the chain's events the segments cover
    anchored_head: str | None
    last_anchored_at: datetime | None
    difference: Difference | None = None
    problems: tuple[str, ...] = ()  # segments that disagree with each other

    @property
    def valid(self) -> bool:
        return self.difference is None and not self.problems


def recompute(bodies: Iterable[bytes]) -> list[str]:
    """The chain hashes of stored bytes, from the genesis (never the stored `hash` column)."""
    out, head = [], chain.GENESIS
    for body in bodies:
        head = chain.link(head, body)
        out.append(head)
    return out


def compare(chain_id: str, stored: Sequence[str], segments: Sequence[Segment]) -> AnchorCheck:
    """Compare a chain's hashes recomputed from the store (`stored`, position order) with
    its anchored segments. A change to event i changes the chain hash at i and after it,
    so the first anchored position that disagrees is the first changed event, exactly
    when every position before it was anchored; otherwise it lies after the last position
    that agrees. Segments that disagree with each other (two hashes for one position, or a
    segment not continuing the anchored hash before it) are problems too."""
    anchored: dict[int, tuple[str, datetime]] = {}
    problems: list[str] = []
    for seg in sorted(segments, key=lambda s: (s.start, s.anchored_at)):
        points = [(seg.start - 1, seg.prev_hash)] if seg.start > 0 else []
        points += [(seg.start + i, h) for i, h in enumerate(seg.hashes)]
        for index, value in points:
            known = anchored.get(index)
            if known is None:
                anchored[index] = (value, seg.anchored_at)
            elif known[0] != value:
                problems.append(
                    f"anchors disagree at event #{index}: {known[0]} (anchored {iso(known[1])})"
                    f" and {value} (anchored {iso(seg.anchored_at)})"
                )
    if not anchored:
        return AnchorCheck(chain_id, len(segments), 0, None, None, None, tuple(problems))
    last = max(anchored)
    check = AnchorCheck(
        chain_id,
        len(segments),
        last + 1,
        anchored[last][0],
        max(s.anchored_at for s in segments),
        None,
        tuple(problems),
    )
    agreed = -1
    for index in sorted(anchored):
        value, at = anchored[index]
        if index >= len(stored):
            why = (
                f"the store holds {len(stored)} events, the anchor of {iso(at)} holds "
                f"event #{index}: events were removed"
            )
            return replace(check, difference=Difference(len(stored), False, agreed, at, why))
        if stored[index] != value:
            exact = all(i in anchored for i in range(index))
            why = (
                f"event #{index} is not what was anchored at {iso(at)} (anchored {value}, "
                f"the store gives {stored[index]}): history was rewritten after the anchor"
            )
            return replace(check, difference=Difference(index, exact, agreed, at, why))
        agreed = index
    return check
