"""The record written to the dead-letter topic for every rejected event."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from pydantic import Field

from .base import Model, UtcDatetime, utcnow

_LETTER_NAMESPACE = uuid.UUID("3b0f6a52-8d1e-5c47-9a2b-6e4d1f0c7a93")


def letter_id(source_topic: str, partition: int, offset: int) -> str:
    """The id of the dead letter of the message at (topic, partition, offset): the same
    message dead-lettered twice (a crash before its position was stored) gets the same id.
    docs/spec/events.md, "Dead letters"."""
    return str(uuid.uuid5(_LETTER_NAMESPACE, f"{source_topic}/{partition}/{offset}"))


class DeadLetter(Model):
    reason: Annotated[str, Field(max_length=16_384)]
    original_b64: str
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    rejected_by: str
    rejected_at: UtcDatetime = Field(default_factory=utcnow)
    letter_id: str | None = None  # letter_id(...) when the message came from Kafka

    @classmethod
    def of(
        cls,
        original: bytes,
        reason: str,
        source_topic: str,
        rejected_by: str,
        partition: int | None = None,
        offset: int | None = None,
    ) -> DeadLetter:
        return cls(
            reason=reason,
            original_b64=base64.b64encode(original).decode(),
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            rejected_by=rejected_by,
            letter_id=None
            if partition is None or offset is None
            else letter_id(source_topic, partition, offset),
        )

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)
