"""The record written to the dead-letter topic for every rejected event."""

from __future__ import annotations

import base64
from typing import Annotated

from pydantic import Field

from .base import Model, UtcDatetime, utcnow


class DeadLetter(Model):
    reason: Annotated[str, Field(max_length=16_384)]
    original_b64: str
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    rejected_by: str
    rejected_at: UtcDatetime = Field(default_factory=utcnow)

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
        )

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)
