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
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Union

import cognify_events as ev
from cognify_events.signing import signature_for, signing_key

from . import records
from ._version import __version__
from .config import Settings
from .publisher import Publisher, Record
from .tier import TierLookup
from .transport import KafkaTransport, Transport
from .wire import Envelope, MetricValues

log = logging.getLogger("cognify")

PayloadSource = Union[ev.EventBase, Any]  # a payload model, or a callable building one
Item = tuple[type[ev.EventBase], Any, float]


_UNSIGNED = b'"signature":null'


def signed_bytes(event: ev.EventBase, key: bytes) -> bytes:
    """`encode(sign(event, api_key))`, byte for byte, with one JSON rendering instead of two
    and no copy of the event: the signature (of the event's JSON object, as `sign` computes
    it) is written into the rendering in place of `"signature":null`. That member's first
    occurrence is the envelope's own: the members before it (ids, sequence, time, producer)
    hold no quote character. tests/unit/sdk/test_signed_bytes.py checks equality."""
    signature = signature_for(event.model_dump(mode="json"), key)
    raw = event.model_dump_json().encode()
    return raw.replace(_UNSIGNED, b'"signature":"' + signature.encode() + b'"', 1)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"run_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(3)[:5]}"


def is_world_process_zero() -> bool:
    """Only global rank 0 speaks for a distributed run: torchrun, accelerate and deepspeed
    set RANK; processes started otherwise (torch.multiprocessing) are asked through
    torch.distributed once their process group is initialised (never importing torch)."""
    if os.environ.get("RANK", "0") != "0":
        return False
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return int(dist.get_rank()) == 0
    return True


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
        self._last_checkpoint_path: Path | None = None
        self._next_seq = 0
        self._signing_key = signing_key(settings.api_key)  # derived once, not per event
        # the configured tier until init asks ingest for the workspace's (tier.py)
        self.tier = TierLookup(None, settings.api_key, settings.compliance_tier)
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
            lambda: KafkaTransport(
                settings.kafka_bootstrap, settings.delivery_timeout_s, settings.raw_topic
            )
        )
        self._envelope = Envelope(
            settings.workspace_id, settings.project, self.run_id, self._producer
        )
        self._key = self.run_id.encode()  # the partition key (ev.partition_key): the run
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
        if isinstance(payload, MetricValues):  # nearly every event: no pydantic (wire.py)
            plain = self._envelope.plain(payload, self._next_seq, at, self._signing_key)
            if plain is not None:
                self._next_seq += 1
                return self._key, plain
            payload = records.as_payload(payload)  # which raises what the model refuses
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
        return ev.partition_key(event), signed_bytes(event, self._signing_key)

    def _heartbeat(self) -> None:
        """Called on the publisher thread (its tick), the one that owns the spool: the
        spool's depth is read from counters kept there, no lock and no I/O."""
        if not self.ended:
            self.emit(
                ev.Heartbeat,
                ev.HeartbeatPayload(
                    step=self.last_step,
                    interval_s=self.settings.heartbeat_interval_s,
                    spool_bytes=self.publisher.pending_bytes,
                    spool_events=self.publisher.pending_events,
                ),
            )

    def eval_counter(self) -> int:
        self._evals += 1
        return self._evals

    # --- what a custom training loop records (the callback records the same) ------------
    def log_config(
        self,
        config: Mapping[str, Any],
        *,
        model: Any = None,
        optimizer: Any = None,
        lr_scheduler: Any = None,
    ) -> None:
        """The run's hyperparameters (secrets redacted by name), and the model's architecture
        and parameter counts when `model` is given."""
        self.emit(
            ev.ConfigCaptured,
            partial(
                records.config_payload,
                dict(config),
                model,
                _class_name(optimizer),
                _class_name(lr_scheduler),
                None,
            ),
        )

    def log_metrics(
        self, step: int, metrics: Mapping[str, Any], *, epoch: float | None = None
    ) -> None:
        """Training metrics at `step`: numbers, or one-element tensors (read off the
        training thread). NaN and infinities are kept as such, by name."""
        self.last_step = step
        self.emit(ev.MetricsLogged, partial(records.metric_values, step, epoch, dict(metrics)))

    def log_checkpoint(
        self, path: str | os.PathLike[str], step: int, *, checkpoint_id: str | None = None
    ) -> str:
        """A checkpoint directory just written (`save_pretrained`, `accelerator.save_state`,
        or `torch.save` files in one directory): its files are listed off the training
        thread and hashed by the hasher pool, as the Trainer's are. Returns its id, which
        `cognify.eval` links to by default."""
        where = Path(path).resolve()
        if not where.is_dir():
            raise ValueError(f"log_checkpoint needs the checkpoint's directory; {where} is not one")
        checkpoint_id = checkpoint_id or f"ckpt_step_{step}"
        self.last_step, self.last_checkpoint_id = step, checkpoint_id
        self._last_checkpoint_path = where
        self.emit(
            ev.CheckpointSaved, partial(records.checkpoint_payload, where, step, checkpoint_id)
        )
        return checkpoint_id

    def log_model(self, path: str | os.PathLike[str] | None = None) -> None:
        """The run's final model: `path` (hashed like a checkpoint), by default the last
        checkpoint logged."""
        where = Path(path).resolve() if path is not None else self._last_checkpoint_path
        if where is None:
            raise ValueError("log_model needs a path: no checkpoint was logged")
        checkpoint = self.last_checkpoint_id if where == self._last_checkpoint_path else None
        self.emit(
            ev.ModelRegistered,
            ev.ModelRegisteredPayload(
                model_id=f"model_{self.run_id}", path=str(where), checkpoint_id=checkpoint
            ),
        )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leaving the block ends the run: completed, or failed (interrupted for Ctrl-C)
        with the exception's type when one escapes it; then flushes (bounded wait)."""
        if kind is None:
            self.end(ev.RunStatus.COMPLETED)
        elif issubclass(kind, KeyboardInterrupt):
            self.end(ev.RunStatus.INTERRUPTED, kind, "interrupted (KeyboardInterrupt)")
        else:
            self.end(ev.RunStatus.FAILED, kind, f"{kind.__name__} raised in the run's block")
        from . import api  # (api imports this module)

        if api.current_run() is self:
            api.finish()
        else:
            self.close()

    # --- ending --------------------------------------------------------------------------
    def end(
        self,
        status: ev.RunStatus | str,
        error: BaseException | type[BaseException] | None = None,
        message: str | None = None,
    ) -> None:
        """End the run: "completed", "failed" or "interrupted" (once; later calls do nothing)."""
        try:
            status = ev.RunStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in ev.RunStatus)
            raise ValueError(f"run status {status!r} is not one of {allowed}") from None
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


def _class_name(obj: Any) -> str | None:
    # accelerate wraps the real optimizer; the auditor wants AdamW, not the wrapper.
    inner = getattr(obj, "optimizer", obj)
    return None if inner is None else type(inner).__name__


class QuietRun:
    """What `cognify.start_run` gives ranks other than 0: the same calls, recording nothing."""

    run_id = None
    ended = True

    def log_config(self, config: Mapping[str, Any], **kwargs: Any) -> None:
        pass

    def log_metrics(self, step: int, metrics: Mapping[str, Any], **kwargs: Any) -> None:
        pass

    def log_checkpoint(self, path: str | os.PathLike[str], step: int, **kwargs: Any) -> str:
        return kwargs.get("checkpoint_id") or f"ckpt_step_{step}"

    def log_model(self, path: str | os.PathLike[str] | None = None) -> None:
        pass

    def end(self, status: ev.RunStatus | str, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> QuietRun:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
