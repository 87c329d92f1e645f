"""The workspace's compliance tier, as ingest reports it, for provenance warnings.

The tier belongs to the workspace (its admin sets it) and ingest enforces it: a dataset
lacking the provenance the tier requires becomes a finding that blocks the seal. The SDK
asks ingest (`GET /v1/whoami`, the key's workspace with its tier and required fields) at
`init`, in a daemon thread, so that the person training hears about it at
`cognify.dataset` rather than from a refused seal. It never blocks the training thread on
the network: `cognify.dataset` checks against what is known at that moment (the
workspace's tier once ingest has answered, else the configured one) and a dataset
registered before the answer is checked again when it comes, with a warning then if the
workspace's tier asks for more. An admin may change the workspace's tier during a long run
(`cognify-admin set-tier`): an answer older than `REFRESH_S` (10 minutes) is asked again, in
the background, by the next `cognify.dataset`, which is checked again when the new answer
differs; the change is logged once. Ingest checks every registration against the tier the
workspace has when it arrives, whatever the SDK knew. Unreachable ingest (a GPU node that
only sees Kafka) leaves the tier configured locally (`COGNIFY_COMPLIANCE_TIER`), and says so
once; a refresh that fails keeps the last answer.
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

LOOKUP_TIMEOUT_S = 2.0  # the HTTP request's own timeout, on the lookup's thread
REFRESH_S = 600.0  # an answer older than this is asked again at the next dataset
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
    """The workspace's tier as ingest last reported it, asked in the background, never
    waited for: `check` answers at once with what is known (the workspace's tier once
    ingest has answered, else the configured one) and asks again, in the background, when
    the answer is older than `refresh_s`; datasets checked while a question is out are
    checked again when its answer differs from what they were checked against."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str,
        configured: str,
        timeout_s: float = LOOKUP_TIMEOUT_S,
        fetch: Fetch | None = None,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self.configured: Requirement = (configured, tuple(prov.REQUIRED.get(configured, ())))
        self.learned: Requirement | None = None
        self.finished = threading.Event()  # no question out, and late datasets checked
        self._lock = threading.Lock()
        self._pending: list[tuple[str, dict[str, Any], Requirement]] = []
        self._question = (base_url, api_key, timeout_s, fetch or fetch_whoami)
        self._refresh_s = refresh_s
        self._asked_at = float("-inf")
        self._asking = False
        self._failed_before = False
        if base_url is None:
            self.finished.set()
            return
        with self._lock:
            self._ask_in_background()

    def _ask_in_background(self) -> None:
        """(Called holding the lock.)"""
        self._asking, self._asked_at = True, time.monotonic()
        self.finished.clear()
        threading.Thread(target=self._ask, name="cognify-tier", daemon=True).start()

    def _ask(self) -> None:
        base_url, api_key, timeout_s, fetch = self._question
        assert base_url is not None
        try:
            learned: Requirement | None = _requirement(fetch(base_url, api_key, timeout_s))
        except (OSError, ValueError, urllib.error.URLError) as exc:
            learned = None
            if not self._failed_before and self.learned is None:
                log.warning(
                    "cognify: could not learn the workspace's compliance tier from ingest at "
                    "%s (%s); provenance is checked against the %s tier configured here "
                    "(COGNIFY_COMPLIANCE_TIER), and ingest still checks it against the "
                    "workspace's",
                    base_url,
                    exc,
                    self.configured[0],
                )
            else:  # a refresh that failed: what was learned (or configured) stays
                log.debug("cognify: could not ask ingest for the tier again (%s)", exc)
            self._failed_before = True
        with self._lock:
            previous = self.learned
            if learned is not None:
                self.learned = learned
            pending, self._pending = self._pending, []
            self._asking = False
        if learned is not None and previous is not None and learned != previous:
            log.warning(
                "cognify: the workspace's compliance tier is now %s (it was %s); datasets "
                "registered from now on are checked against it",
                learned[0],
                previous[0],
            )
        for name, provenance, checked in pending:
            if learned is not None and learned != checked:
                prov.check(provenance, learned[0], name, learned[1], late=True)
        with self._lock:
            if not self._asking:
                self.finished.set()

    def requirement(self) -> Requirement:
        """The tier to check a dataset against now, without waiting: the workspace's when
        ingest has answered, else the one configured here."""
        return self.learned or self.configured

    def check(self, provenance: Mapping[str, Any], name: str) -> Requirement:
        """The requirement `provenance` is checked against now; if a question to ingest is
        out (the first, or a refresh of an old answer that this call starts), the dataset
        is checked again when it is answered (and warned about then, if the answer
        differs)."""
        with self._lock:
            found = self.learned or self.configured
            if (
                not self._asking
                and self._question[0] is not None
                and time.monotonic() - self._asked_at >= self._refresh_s
            ):
                self._ask_in_background()
            if self._asking:
                self._pending.append((name, dict(provenance), found))
        return found
