"""The consume loop's dead letters: a poison message, its reason, and an id of its position.

The record is cognify_events.DeadLetter (docs/spec/events.md, "Dead letters"); its Kafka
key is its `letter_id`, so the same message dead-lettered twice (a crash after the dead
letter, before the position was stored) is recognisable as one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from cognify_events import DeadLetter

from .failures import reason

if TYPE_CHECKING:
    from .consume import Record

__all__ = ["ORIGINAL_LIMIT", "DeadLetters"]

# The most of a poison message's bytes its dead letter carries: base64 makes 4/3 of it, and
# the record must stay under MAX_MESSAGE_BYTES (32 MiB). A longer original is cut, and the
# reason says so with its size and SHA-256 (the whole message stays on its source topic).
ORIGINAL_LIMIT = 16 * 1024 * 1024


class DeadLetters:
    """Writes a poison message to the dead-letter topic and waits for the acknowledgement.

    The record's Kafka key is its `letter_id`, so the same message dead-lettered twice (a
    crash after the dead letter, before the position was stored) is recognisable as one."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, rejected_by: str) -> None:
        self.producer = producer
        self.topic = topic
        self.rejected_by = rejected_by

    def letter(self, record: Record, exc: BaseException) -> DeadLetter:
        why, original = reason(exc), record.value
        if len(original) > ORIGINAL_LIMIT:
            digest = hashlib.sha256(original).hexdigest()
            why += (
                f" (original of {len(original):,} bytes cut to its first {ORIGINAL_LIMIT:,} "
                f"here; sha256 {digest})"
            )
            original = original[:ORIGINAL_LIMIT]
        return DeadLetter.of(
            original, why, record.topic, self.rejected_by, record.partition, record.offset
        )

    async def send(self, record: Record, exc: BaseException) -> DeadLetter:
        letter = self.letter(record, exc)
        key = (letter.letter_id or "").encode()
        await (await self.producer.send(self.topic, letter.model_dump_json().encode(), key=key))
        return letter
