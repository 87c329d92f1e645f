"""The envelope every Cognify event shares, and the base class of all events.

An event is a frozen fact. Its wire name is the literal `type` field of its class (never a
Python class path), its payload is a typed model, and `schema_version` says which version of
that payload the producer wrote. Models read tolerantly by default (unknown fields are
ignored, so a newer producer never breaks an older consumer); the codec validates strictly
where untrusted bytes enter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ._backports import UTC, StrEnum

# Identifiers are short, printable and safe to use as Kafka keys, object-store key parts and
# SQL values; the pattern keeps path separators and whitespace out.
IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
Ident = Annotated[str, Field(pattern=IDENT_PATTERN)]
ShortText = Annotated[str, Field(max_length=256)]
LongText = Annotated[str, Field(max_length=16_384)]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone (UTC)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC, which has no date
        raise ValueError("timestamp is outside the years 1 to 9999 in UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Base of every payload and event: frozen, tolerant of unknown fields when reading."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ProducerKind(StrEnum):
    SDK = "sdk"
    INGEST = "ingest"
    HASHER = "hasher"
    LINEAGE = "lineage"
    EXPORTER = "exporter"
    API = "api"


class Producer(Model):
    """Who wrote the event: a component kind, an instance id (host:pid) and its version."""

    kind: ProducerKind
    id: ShortText
    version: Annotated[str, Field(max_length=64)] = "0"


class EventBase(Model):
    """The envelope. Subclasses add `type: Literal[...]`, `schema_version` and `payload`.

    `seq` is the producer's per-run sequence number (0, 1, 2, ... for one run's SDK events)
    so that consumers can show a gap as a gap; events that services emit about a run (hash
    results, approvals, seals) have no producer sequence and carry `seq=None`.
    `run_id` is None only for workspace-level events (retention changes).
    `signature` is "hmac-sha256:<hex>" over the canonical bytes of every other field
    (see docs/spec/events.md); it is None until the producer signs the event.
    """

    event_id: UUID = Field(default_factory=uuid4)
    workspace_id: Ident
    project: Ident
    run_id: Ident | None
    seq: Annotated[int, Field(ge=0)] | None = None
    time: UtcDatetime = Field(default_factory=utcnow)
    producer: Producer
    signature: Annotated[str, Field(max_length=128)] | None = None
