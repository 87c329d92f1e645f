"""Which failures pass by themselves (retry) and which are the data's fault (dead-letter).

A consumer must tell the two apart, by exception type alone, before it decides anything:

- **transient**: the broker or the database is out of reach, restarting, overloaded, or
  the connection broke mid-way. The same work succeeds later, so the consume loop retries
  it with capped backoff for as long as the outage lasts; nothing is skipped and nothing
  is dead-lettered because of it.
- **deterministic**: anything else. The same data fails the same way every time (a value
  PostgreSQL cannot hold, an unparseable body, a bug a message triggers), so retrying
  would hold the partition for ever; the loop isolates the failing message and
  dead-letters it with `reason(exc)`.

Transient, by type: aiokafka errors that aiokafka marks `retriable` (connection, node not
ready, request timeout, leadership moves) and its `KafkaTimeoutError`; asyncpg's lost
connections (`PostgresConnectionError`, class 08), server shutdown and start-up
(`CannotConnectNowError`, `AdminShutdownError`, `CrashShutdownError`), class 53
(insufficient resources, too many connections), class 40 (serialization failure,
deadlock: PostgreSQL asks to retry), and its `InterfaceError` except the ones about the
data (`DataError`: an argument it cannot encode, e.g. an integer above 2^63 - 1) or the
configuration; `ConnectionError`, `TimeoutError`, name resolution failures, and the other
`OSError`s of a network or of exhausted resources (by errno); object storage out of reach
(urllib3's `MaxRetryError`, `ProtocolError`, timeouts: what the MinIO client raises) or
asking to come back later (an S3 error `code` of SlowDown, ServiceUnavailable,
InternalError, RequestTimeout, XMinioServerNotInitialized). Not transient: an `OSError`
about a file (`FileNotFoundError`, `PermissionError`...): a message naming a missing
file names it again on every retry.

asyncpg and urllib3 are imported only if they are installed (cognify_kafka depends on
neither); a process without them cannot raise their errors.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from aiokafka.errors import KafkaError, KafkaTimeoutError

__all__ = ["is_transient", "label", "reason"]

# errnos of a network that is down or unreachable, or of resources that run out and come
# back (file descriptors, buffers, disk space for a spool).
_TRANSIENT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNREFUSED",
        "ECONNRESET",
        "ECONNABORTED",
        "EPIPE",
        "ETIMEDOUT",
        "EHOSTUNREACH",
        "EHOSTDOWN",
        "ENETUNREACH",
        "ENETDOWN",
        "ENETRESET",
        "ENOTCONN",
        "EADDRNOTAVAIL",
        "EAGAIN",
        "EMFILE",
        "ENFILE",
        "ENOBUFS",
        "ENOMEM",
        "ENOSPC",
    )
    if hasattr(errno, name)
)

REASON_CHARS = 4_096  # of the exception's message, in a dead letter's reason


def _asyncpg() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(transient types, InterfaceError subclasses that are about the data, not the link)."""
    try:
        import asyncpg  # optional: see the module docstring
    except ImportError:  # pragma: no cover - asyncpg is in every service's environment
        return (), ()
    e: Any = asyncpg.exceptions
    transient = (
        e.PostgresConnectionError,
        e.CannotConnectNowError,
        e.AdminShutdownError,
        e.CrashShutdownError,
        e.InsufficientResourcesError,
        e.TransactionRollbackError,
        e.InterfaceError,
    )
    about_data = (
        e._base.DataError,
        e.ClientConfigurationError,
        e.UnsupportedClientFeatureError,
        e.UnsupportedServerFeatureError,
    )
    return transient, about_data


_PG_TRANSIENT, _PG_ABOUT_DATA = _asyncpg()


def _urllib3() -> tuple[type[BaseException], ...]:
    try:
        import urllib3.exceptions as u  # optional: see the module docstring
    except ImportError:  # pragma: no cover
        return ()
    return (u.MaxRetryError, u.ProtocolError, u.TimeoutError)


_HTTP_TRANSIENT = _urllib3()
# S3 error codes that mean "come back later" (AWS's and MinIO's documented retryable ones).
_S3_TRANSIENT_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
     "XMinioServerNotInitialized"}
)  # fmt: skip


def is_transient(exc: BaseException) -> bool:
    """True when `exc` says "try again later", false when it says "this data fails"."""
    if isinstance(exc, KafkaError):
        return bool(exc.retriable) or isinstance(exc, KafkaTimeoutError)
    if isinstance(exc, _PG_ABOUT_DATA):
        return False
    if isinstance(exc, _PG_TRANSIENT):
        return True
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror, *_HTTP_TRANSIENT)):
        return True
    if getattr(exc, "code", None) in _S3_TRANSIENT_CODES:
        return True
    if type(exc) is OSError:  # asyncio's "Multiple exceptions" of a failed connect: no errno
        return exc.errno is None or exc.errno in _TRANSIENT_ERRNOS
    if isinstance(exc, OSError):
        return exc.errno in _TRANSIENT_ERRNOS
    return False


def label(exc: BaseException) -> str:
    """The exception's type name: a metric label of bounded cardinality."""
    return type(exc).__name__


def reason(exc: BaseException) -> str:
    """`Type: message` for a dead letter (the message cut to REASON_CHARS, no traceback)."""
    # Hostile input echoed in a message: no NUL, no lone surrogate reaches the record.
    text = str(exc).replace("\0", "\\0").encode("utf-8", "backslashreplace").decode()
    if len(text) > REASON_CHARS:
        text = text[:REASON_CHARS] + f"... ({len(text):,} characters)"
    return f"{label(exc)}: {text}" if text else label(exc)
