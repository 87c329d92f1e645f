"""Dead letters of the consume loop: an id per message position, a bounded record."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from cognify_events import DeadLetter
from cognify_events.deadletter import letter_id
from cognify_kafka import DeadLetters, Record
from cognify_kafka.deadletters import ORIGINAL_LIMIT
from cognify_kafka.settings import MAX_MESSAGE_BYTES


def _letters() -> DeadLetters:
    producer: Any = None  # letter() builds the record only; send() is tested against Kafka
    return DeadLetters(producer, "cognify.events.dlq", "lineage")


def test_a_letter_id_names_one_position_and_only_it() -> None:
    assert letter_id("t", 0, 1) == letter_id("t", 0, 1)
    assert len({letter_id("t", 0, 1), letter_id("t", 1, 0), letter_id("u", 0, 1)}) == 3
    assert uuid.UUID(letter_id("t", 0, 1)).version == 5
    # The documented derivation (docs/spec/events.md), so anyone can recompute it.
    namespace = uuid.UUID("3b0f6a52-8d1e-5c47-9a2b-6e4d1f0c7a93")
    assert letter_id("cognify.events", 3, 42) == str(uuid.uuid5(namespace, "cognify.events/3/42"))
    assert letter_id("cognify.events", 3, 42) == "f7626e55-f6a3-5336-b826-234d842edcb6"


def test_a_letter_carries_the_reason_the_bytes_and_the_position() -> None:
    record = Record("cognify.events", 2, 17, b"run-1", b'{"seq": 9223372036854775808}')
    letter = _letters().letter(record, OverflowError("int too big to convert"))
    assert letter.reason == "OverflowError: int too big to convert"
    assert letter.original == record.value
    assert (letter.source_topic, letter.partition, letter.offset) == ("cognify.events", 2, 17)
    assert letter.letter_id == letter_id("cognify.events", 2, 17)
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


def test_an_old_dead_letter_without_an_id_still_decodes() -> None:
    old = b'{"reason": "r", "original_b64": "", "source_topic": "t", "rejected_by": "x"}'
    assert DeadLetter.model_validate_json(old).letter_id is None


def test_a_huge_poison_message_is_cut_so_its_letter_fits_a_kafka_record() -> None:
    value = b"[" * (ORIGINAL_LIMIT + 1_000)
    letter = _letters().letter(Record("t", 0, 5, None, value), RecursionError("too deep"))
    assert len(letter.model_dump_json()) < MAX_MESSAGE_BYTES
    assert letter.original == value[:ORIGINAL_LIMIT]
    assert hashlib.sha256(value).hexdigest() in letter.reason
    assert f"{len(value):,} bytes" in letter.reason
