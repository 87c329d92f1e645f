"""SIGTERM ends a run the normal way, unless the application handles SIGTERM itself."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cognify.config import Settings
from cognify.run import Run


class Sink:
    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    async def start(self) -> None:
        pass

    async def send(self, records: list[tuple[bytes, bytes]]) -> None:
        self.records += records

    async def stop(self) -> None:
        pass


def _run(tmp_path: Path, sink: Sink) -> Run:
    settings = Settings("ws-1", "cgk_test", "p", "127.0.0.1:1", tmp_path / "spool")
    return Run(settings, transport=lambda: sink)


@pytest.fixture
def default_sigterm() -> Iterator[None]:
    """Python's default action, whatever an earlier test (a server) left installed."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("default_sigterm")
def test_sigterm_exits_the_normal_way_and_ends_the_run_as_interrupted(tmp_path: Path) -> None:
    sink = Sink()
    run = _run(tmp_path, sink)
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler)
    with pytest.raises(SystemExit) as stopped:
        handler(signal.SIGTERM, None)
    assert stopped.value.code == 143
    assert run.close(5.0) == 0
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back
    assert b'"error_message":"terminated by SIGTERM"' in sink.records[-1][1]
    assert b'"status":"interrupted"' in sink.records[-1][1]


def test_an_application_handler_of_sigterm_is_left_alone(tmp_path: Path) -> None:
    def own(signum: int, frame: Any) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, own)
    try:
        run = _run(tmp_path, Sink())
        assert signal.getsignal(signal.SIGTERM) is own
        run.close(5.0)
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("default_sigterm")
def test_a_run_closed_off_the_main_thread_leaves_sigterm_to_its_default(tmp_path: Path) -> None:
    """Only the main thread may set signal handlers: a run closed on another thread (the
    benchmark's, an async app's executor) cannot put the default back, so its handler then
    does what the default does."""
    run = _run(tmp_path, Sink())
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler)
    closer = threading.Thread(target=run.close, args=(5.0,))
    closer.start()
    closer.join()
    assert signal.getsignal(signal.SIGTERM) is handler  # could not be changed there
    killed: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "kill", lambda pid, sig: killed.append(sig))
        handler(signal.SIGTERM, None)  # no SystemExit: the run is over
    assert killed == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
