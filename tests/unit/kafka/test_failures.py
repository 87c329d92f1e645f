"""Transient or deterministic: the consume loop's first decision, by exception type."""

from __future__ import annotations

import errno
import socket

import asyncpg
import pytest
import urllib3.exceptions
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
)
from cognify_kafka.failures import REASON_CHARS, is_transient, label, reason
from cognify_objectstore.store import ObjectStoreError

TRANSIENT = [
    KafkaConnectionError("Unable to bootstrap"),
    KafkaTimeoutError(),
    NodeNotReadyError(),
    RequestTimedOutError(),
    NotLeaderForPartitionError(),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.PostgresConnectionError("connection failure"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.TooManyConnectionsError("too many clients"),
    asyncpg.SerializationError("could not serialize access"),
    asyncpg.DeadlockDetectedError("deadlock detected"),
    asyncpg.InterfaceError("cannot perform operation: connection is closed"),
    ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"),
    ConnectionResetError(),
    TimeoutError(),
    socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    OSError("Multiple exceptions: [Errno 111] Connect call failed"),
    OSError(errno.ENETUNREACH, "Network is unreachable"),
    OSError(errno.ENOSPC, "No space left on device"),
    # Object storage (the exporter's MinIO) out of reach, or asking to come back later:
    urllib3.exceptions.MaxRetryError(None, "/cognify-audit", "Connection refused"),  # type: ignore[arg-type]
    urllib3.exceptions.ProtocolError("Connection aborted."),
    ObjectStoreError("Please reduce your request rate.", "SlowDown"),
]

DETERMINISTIC = [
    # What issue 12's poison pills raise in lineage and ingest:
    OverflowError("int too big to convert"),
    asyncpg.exceptions._base.DataError("invalid input for query argument $1: 9223372036854775808"),
    asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence: \\u0000"),
    RecursionError("maximum recursion depth exceeded"),
    MessageSizeTooLargeError(),
    asyncpg.UniqueViolationError("duplicate key"),
    asyncpg.NumericValueOutOfRangeError("integer out of range"),
    ValueError("bad value"),
    KeyError("missing"),
    FileNotFoundError(errno.ENOENT, "No such file or directory"),
    PermissionError(errno.EACCES, "Permission denied"),
    OSError(errno.EISDIR, "Is a directory"),
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    ObjectStoreError("Object is WORM protected and cannot be overwritten", "AccessDenied"),
]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_an_outage_is_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", DETERMINISTIC, ids=lambda e: type(e).__name__)
def test_a_failure_the_data_causes_is_deterministic(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_the_reason_names_the_type_and_the_message_without_a_traceback() -> None:
    assert (
        reason(OverflowError("int too big to convert")) == "OverflowError: int too big to convert"
    )
    assert reason(KeyError()) == "KeyError"
    assert label(asyncpg.UntranslatableCharacterError("x")) == "UntranslatableCharacterError"


def test_a_hostile_message_cannot_bloat_or_break_the_reason() -> None:
    why = reason(ValueError("a\0b\ud800" + "x" * 100_000))
    assert "\0" not in why and "\ud800" not in why
    why.encode("utf-8")  # no lone surrogate left: the dead letter serialises
    assert len(why) < REASON_CHARS + 100
    assert why.endswith("characters)")
