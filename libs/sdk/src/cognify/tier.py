"""The workspace's compliance tier, as ingest reports it, for provenance warnings.

The tier belongs to the workspace (its admin sets it) and ingest enforces it: a dataset
lacking the provenance the tier requires becomes a finding that blocks the seal. The SDK
asks ingest (`GET /v1/whoami`, the key's workspace with its tier and required fields) once
per run, in a daemon thread, so that the person training hears about it at
`cognify.dataset` rather than from a refused seal. It never blocks training on the answer:
`cognify.dataset` waits for it at most `LOOKUP_TIMEOUT_S` after `init`; a dataset
registered before the answer is checked when it comes. Unreachable ingest (a GPU node that
only sees Kafka) leaves the tier configured locally (`COGNIFY_COMPLIANCE_TIER`), and says so
once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from . import provenance as prov

log = logging.getLogger("cognify")

LOOKUP_TIMEOUT_S = 2.0
Requirement = tuple[str, tuple[str, ...]]  # (tier, required fields)
Fetch = Callable[[str, str, float], Mapping[str, Any]]


def fetch_whoami(base_url: str, api_key: str, timeout_s: float) -> Mapping[str, Any]:
    request = urllib.request.Request(f"{base_url.rstrip('/')}/v1/whoami")
    request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        answer = json.loads(response.read())
    if not isinstance(answer, dict):
        raise ValueError("not a JSON object")
    return answer


def _requirement(answer: Mapping[str, Any]) -> Requirement:
    tier, fields = answer.get("compliance_tier"), answer.get("required_provenance")
    if not isinstance(tier, str) or not isinstance(fields, list):
        raise ValueError("no compliance_tier and required_provenance in the answer")
    return tier, tuple(str(f) for f in fields)


class TierLookup:
    """One question to ingest about the workspace's tier, answered in the background."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str,
        configured: str,
        timeout_s: float = LOOKUP_TIMEOUT_S,
        fetch: Fetch | None = None,
    ) -> None:
        self.configured: Requirement = (configured, tuple(prov.REQUIRED.get(configured, ())))
        self.learned: Requirement | None = None
        self._deadline = time.monotonic() + timeout_s
        self._done = threading.Event()  # the answer is in (or will not come)
        self.finished = threading.Event()  # and the datasets it came late for are checked
        self._lock = threading.Lock()
        self._pending: list[tuple[str, dict[str, Any], Requirement]] = []
        if base_url is None:
            self._done.set()
            self.finished.set()
            return
        thread = threading.Thread(
            target=self._ask,
            args=(base_url, api_key, timeout_s, fetch or fetch_whoami),
            name="cognify-tier",
            daemon=True,
        )
        thread.start()

    def _ask(self, base_url: str, api_key: str, timeout_s: float, fetch: Fetch) -> None:
        try:
            learned: Requirement | None = _requirement(fetch(base_url, api_key, timeout_s))
        except (OSError, ValueError, urllib.error.URLError) as exc:
            learned = None
            log.warning(
                "cognify: could not learn the workspace's compliance tier from ingest at %s "
                "(%s); provenance is checked against the %s tier configured here "
                "(COGNIFY_COMPLIANCE_TIER), and ingest still checks it against the workspace's",
                base_url,
                exc,
                self.configured[0],
            )
        with self._lock:
            self.learned = learned
            pending, self._pending = self._pending, []
            self._done.set()
        for name, provenance, checked in pending:
            if learned is not None and learned != checked:
                prov.check(provenance, learned[0], name, learned[1], late=True)
        self.finished.set()

    def requirement(self) -> Requirement:
        """The tier to check a dataset against now: the workspace's when ingest has answered
        (waiting for it at most until `timeout_s` after the lookup began), else the one
        configured here."""
        self._done.wait(max(0.0, self._deadline - time.monotonic()))
        return self.learned or self.configured

    def check(self, provenance: Mapping[str, Any], name: str) -> Requirement:
        """The requirement `provenance` is checked against now; if ingest has not answered
        yet, the dataset is checked again when it does (and warned about then)."""
        found = self.requirement()
        with self._lock:
            if not self._done.is_set():
                self._pending.append((name, dict(provenance), found))
        return found
