"""A training run as the SDK sees it: identity, sequence numbers, and emitting events.

`Run.emit` is what every API call and callback hook uses. It only enqueues a small tuple;
the event is built, numbered, signed and encoded on the publisher thread, in queue order, so
sequence numbers follow the order in which things happened.

A run ends itself when the process ends without `finish()`: on an exception (failed), on
Ctrl-C (interrupted), and on SIGTERM, what schedulers send before they stop a job
(interrupted, "terminated by SIGTERM"). Python's default SIGTERM action stops the process
without running `atexit`, which would lose the events still queued in memory; so unless the
application has a SIGTERM handler of its own, the SDK installs one that exits the normal way
(`SystemExit(143)`), and `close` then ends the run and flushes or spools what is queued.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Union

import cognify_events as ev
from cognify_events.codec import encode
from cognify_events.signing import sign

from ._version import __version__
from .config import Settings
from .publisher import Publisher, Record
from .transport import KafkaTransport, Transport

log = logging.getLogger("cognify")

PayloadSource = Union[ev.EventBase, Any]  # a payload model, or a callable building one
Item = tuple[type[ev.EventBase], Any, float]


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"run_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(3)[:5]}"


def is_world_process_zero() -> bool:
    """Only global rank 0 speaks for a distributed run (torchrun sets RANK)."""
    return os.environ.get("RANK", "0") == "0"


class Run:
    """One run: its settings, its publisher, and what the callback needs to link events."""

    def __init__(
        self,
        settings: Settings,
        run_id: str | None = None,
        transport: Callable[[], Transport] | None = None,
    ) -> None:
        self.settings = settings
        self.run_id = run_id or new_run_id()
        self.ended = False
        self.last_step: int | None = None
        self.last_checkpoint_id: str | None = None
        self._next_seq = 0
        self._evals = 0
        self.host = socket.gethostname()
        self.publisher_version = __version__
        self._exception: type[BaseException] | None = None
        self._terminated = False  # SIGTERM arrived (see the module docstring)
        self._closed = False
        self._producer = ev.Producer(
            kind=ev.ProducerKind.SDK,
            id=f"{socket.gethostname()}:{os.getpid()}"[:256],
            version=__version__,
        )
        make_transport = transport or (
            lambda: KafkaTransport(settings.kafka_bootstrap, settings.delivery_timeout_s)
        )
        self.publisher = Publisher(
            settings.spool_dir,
            make_transport,
            self._build,
            max_spool_bytes=settings.spool_max_bytes,
            tick=self._heartbeat,
            tick_interval_s=settings.heartbeat_interval_s,
        )
        self.publisher.start()
        self._previous_excepthook = sys.excepthook
        sys.excepthook = self._excepthook
        atexit.register(self.close)
        self._sigterm_handler = self._install_sigterm()

    # --- emitting ------------------------------------------------------------------------
    def emit(self, cls: type[ev.EventBase], payload: PayloadSource) -> None:
        """Enqueue an event; `payload` may be a callable, built later off the caller's thread."""
        self.publisher.submit((cls, payload, time.time()))

    def _build(self, item: Item) -> Record | None:
        cls, source, at = item
        payload = source() if callable(source) else source
        if payload is None:
            return None
        event = cls(
            workspace_id=self.settings.workspace_id,
            project=self.settings.project,
            run_id=self.run_id,
            seq=self._next_seq,
            time=datetime.fromtimestamp(at, timezone.utc),
            producer=self._producer,
            payload=payload,
        )
        self._next_seq += 1
        signed = sign(event, self.settings.api_key)
        return ev.partition_key(signed), encode(signed)  # type: ignore[arg-type]

    def _heartbeat(self) -> None:
        if not self.ended:
            self.emit(
                ev.Heartbeat,
                ev.HeartbeatPayload(
                    step=self.last_step, interval_s=self.settings.heartbeat_interval_s
                ),
            )

    def eval_counter(self) -> int:
        self._evals += 1
        return self._evals

    # --- ending --------------------------------------------------------------------------
    def end(
        self,
        status: ev.RunStatus,
        error: BaseException | type[BaseException] | None = None,
        message: str | None = None,
    ) -> None:
        if self.ended:
            return
        self.ended = True
        error_type = None
        if error is not None:
            error_type = (error if isinstance(error, type) else type(error)).__name__
        self.emit(
            ev.RunEnded,
            lambda: ev.RunEndedPayload(
                status=status,
                error_type=error_type,
                error_message=message,
                global_step=self.last_step,
                last_seq=self._next_seq,
            ),
        )

    def _install_sigterm(self) -> Callable[[int, Any], None] | None:
        """Exit the normal way on SIGTERM, unless the application handles it (or this is
        not the main thread, where no handler can be set)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:  # may be a plain 0 too
            return None

        def on_sigterm(signum: int, frame: Any) -> None:
            if self._closed:  # closed off the main thread, which cannot put the default back
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            self._terminated = True
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_sigterm)
        return on_sigterm

    def _excepthook(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        self._exception = kind
        self._previous_excepthook(kind, value, tb)

    def close(self, timeout_s: float | None = None) -> int:
        """End the run if nobody did (failed/interrupted), then flush with a bounded wait.

        Returns the number of bytes still spooled; they are delivered by the next process
        that uses the SDK, or by `cognify sync`."""
        if not self.ended:
            kind = self._exception
            if kind is not None and issubclass(kind, KeyboardInterrupt):
                self.end(ev.RunStatus.INTERRUPTED, kind, "interrupted (KeyboardInterrupt)")
            elif kind is not None:
                self.end(ev.RunStatus.FAILED, kind, "the training process raised")
            elif self._terminated:
                self.end(ev.RunStatus.INTERRUPTED, None, "terminated by SIGTERM")
            else:
                self.end(ev.RunStatus.INTERRUPTED, None, "the process exited before training ended")
        atexit.unregister(self.close)
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_excepthook
        self._closed = True
        handler, self._sigterm_handler = self._sigterm_handler, None
        on_main = threading.current_thread() is threading.main_thread()
        if handler is not None and on_main and signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (off the main thread: see on_sigterm)
        wait = self.settings.flush_timeout_s if timeout_s is None else timeout_s
        left = self.publisher.close(wait)
        if left:
            log.warning(
                "cognify: %d bytes of events for run %s are still spooled in %s; they "
                "will be delivered by the next process using the SDK or `cognify sync`",
                left,
                self.run_id,
                self.publisher.spool_dir,
            )
        return left
