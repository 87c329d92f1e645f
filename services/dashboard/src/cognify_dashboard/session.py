"""Who is signed in to the dashboard (pure: no I/O; the clock is passed in).

A session is opened with an API key the services accepted. The browser gets two random
tokens and never the key again: the session token (an HttpOnly cookie, so no script can
read it) and the CSRF token (a cookie the SPA reads and echoes in `X-CSRF-Token`, which a
page of another origin cannot do). Sessions live in this process's memory only: a restart
signs everyone out, which is the price of never writing a key anywhere. A session unused for
`idle_s` (8 hours by default) is gone; so is the least recently used one when the store is
full, so that no number of sign-ins can grow memory without bound.

`SignInLimiter` slows down guessing: after `failures` refused keys from one address within
`window_s`, that address is refused (429) until the oldest failure leaves the window.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IDLE_S = 8 * 3600
MAX_SESSIONS = 10_000
Clock = Callable[[], float]


@dataclass(frozen=True)
class Me:
    """The signed-in key as the services know it (ingest's `GET /v1/whoami`)."""

    workspace_id: str
    role: str
    key_id: str
    name: str
    title: str | None = None
    email: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "role": self.role,
            "key_id": self.key_id,
            "person": {"name": self.name, "title": self.title, "email": self.email},
        }

    @classmethod
    def from_whoami(cls, body: dict[str, Any]) -> Me:
        """Ingest's answer; a machine key (a writer with no holder) is named by its label."""
        person = body.get("person") or {}
        name = person.get("name") or body.get("label") or f"key:{body['key_id']}"
        return cls(
            workspace_id=str(body["workspace_id"]),
            role=str(body["role"]),
            key_id=str(body["key_id"]),
            name=str(name),
            title=person.get("title"),
            email=person.get("email"),
        )


@dataclass
class Session:
    token: str
    csrf: str
    api_key: str
    me: Me
    last_seen: float
    checked_at: float  # when the services last confirmed the key

    def csrf_ok(self, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(header.encode(), self.csrf.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Sessions:
    idle_s: float = IDLE_S
    max_sessions: int = MAX_SESSIONS
    clock: Clock = time.monotonic
    _by_token: OrderedDict[str, Session] = field(default_factory=OrderedDict)

    def open(self, api_key: str, me: Me) -> Session:
        now = self.clock()
        self._expire(now)
        while len(self._by_token) >= self.max_sessions:
            self._by_token.popitem(last=False)  # the least recently used
        session = Session(new_token(), new_token(), api_key, me, now, now)
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, marked as used now; None when unknown or
        idle for too long (then it is gone)."""
        if not token:
            return None
        now = self.clock()
        session = self._by_token.get(token)
        if session is None:
            return None
        if now - session.last_seen > self.idle_s:
            del self._by_token[token]
            return None
        session.last_seen = now
        self._by_token.move_to_end(token)
        return session

    def close(self, token: str | None) -> bool:
        return token is not None and self._by_token.pop(token, None) is not None

    def __len__(self) -> int:
        return len(self._by_token)

    def _expire(self, now: float) -> None:
        # Ordered by last use: the idle ones are at the front.
        while self._by_token:
            oldest = next(iter(self._by_token.values()))
            if now - oldest.last_seen <= self.idle_s:
                break
            self._by_token.popitem(last=False)


@dataclass
class SignInLimiter:
    failures: int = 10
    window_s: float = 600.0
    max_addresses: int = 10_000
    clock: Clock = time.monotonic
    _seen: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try again; 0 when it may now."""
        times = self._recent(address)
        if times is None or len(times) < self.failures:
            return 0.0
        return max(0.0, times[0] + self.window_s - self.clock())

    def failed(self, address: str) -> None:
        times = self._recent(address)
        if times is None:
            while len(self._seen) >= self.max_addresses:
                self._seen.popitem(last=False)
            times = self._seen[address] = deque(maxlen=self.failures)
        times.append(self.clock())
        self._seen.move_to_end(address)

    def succeeded(self, address: str) -> None:
        self._seen.pop(address, None)

    def _recent(self, address: str) -> deque[float] | None:
        times = self._seen.get(address)
        if times is None:
            return None
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._seen[address]
            return None
        return times
