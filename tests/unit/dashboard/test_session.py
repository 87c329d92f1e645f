"""The dashboard's sessions, CSRF tokens, idle expiry and sign-in limiter (pure, a fake
clock)."""

from __future__ import annotations

from cognify_dashboard.session import Me, Sessions, SignInLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ANA = Me("ws-a", "reviewer", "0123456789ab", "Dr. Ana Ortiz", "Compliance officer")


def test_a_session_is_found_by_its_token_and_never_shows_the_key() -> None:
    sessions = Sessions(clock=Clock())
    s = sessions.open("cgk_secret", ANA)
    assert sessions.get(s.token) is s
    assert "cgk_secret" not in (s.token + s.csrf)
    assert s.me.json() == {
        "workspace_id": "ws-a",
        "role": "reviewer",
        "key_id": "0123456789ab",
        "person": {"name": "Dr. Ana Ortiz", "title": "Compliance officer", "email": None},
    }


def test_tokens_are_random_and_distinct() -> None:
    sessions = Sessions(clock=Clock())
    a, b = sessions.open("k1", ANA), sessions.open("k1", ANA)
    assert len({a.token, a.csrf, b.token, b.csrf}) == 4
    assert all(len(t) >= 43 for t in (a.token, a.csrf))  # 32 random bytes


def test_unknown_or_missing_tokens_find_nothing() -> None:
    sessions = Sessions(clock=Clock())
    sessions.open("k", ANA)
    assert sessions.get(None) is None
    assert sessions.get("") is None
    assert sessions.get("not-a-token") is None


def test_a_session_idle_for_eight_hours_is_gone_and_use_keeps_it_alive() -> None:
    clock = Clock()
    sessions = Sessions(clock=clock)
    s = sessions.open("k", ANA)
    clock.now += 8 * 3600 - 1
    assert sessions.get(s.token) is s  # used: idle time starts again
    clock.now += 8 * 3600 - 1
    assert sessions.get(s.token) is s
    clock.now += 8 * 3600 + 1
    assert sessions.get(s.token) is None
    assert len(sessions) == 0


def test_idle_sessions_are_dropped_when_a_new_one_opens() -> None:
    clock = Clock()
    sessions = Sessions(idle_s=10, clock=clock)
    for _ in range(5):
        sessions.open("k", ANA)
    clock.now += 11
    sessions.open("k", ANA)
    assert len(sessions) == 1


def test_a_full_store_drops_the_least_recently_used_session() -> None:
    clock = Clock()
    sessions = Sessions(max_sessions=3, clock=clock)
    first, second, third = (sessions.open("k", ANA) for _ in range(3))
    clock.now += 1
    assert sessions.get(first.token) is first  # now the most recently used
    fourth = sessions.open("k", ANA)
    assert len(sessions) == 3
    assert sessions.get(second.token) is None
    assert [sessions.get(t.token) for t in (first, third, fourth)] == [first, third, fourth]


def test_closing_a_session_ends_it() -> None:
    sessions = Sessions(clock=Clock())
    s = sessions.open("k", ANA)
    assert sessions.close(s.token)
    assert sessions.get(s.token) is None
    assert not sessions.close(s.token)
    assert not sessions.close(None)


def test_csrf_needs_the_session_own_token() -> None:
    sessions = Sessions(clock=Clock())
    a, b = sessions.open("k", ANA), sessions.open("k", ANA)
    assert a.csrf_ok(a.csrf)
    assert not a.csrf_ok(None)
    assert not a.csrf_ok("")
    assert not a.csrf_ok(b.csrf)
    assert not a.csrf_ok(a.token)


def test_me_names_a_machine_key_by_its_label() -> None:
    writer = {"workspace_id": "ws", "role": "writer", "key_id": "ab", "label": "ci", "person": None}
    assert Me.from_whoami(writer).json()["person"] == {"name": "ci", "title": None, "email": None}
    nameless = {**writer, "label": ""}
    assert Me.from_whoami(nameless).name == "key:ab"
    person = {"name": "Sam", "title": "admin", "email": "sam@example.org"}
    assert Me.from_whoami({**writer, "role": "admin", "person": person}).email == "sam@example.org"


def test_ten_refused_keys_from_one_address_block_it_for_the_window() -> None:
    clock = Clock()
    limiter = SignInLimiter(failures=10, window_s=600, clock=clock)
    for _ in range(9):
        limiter.failed("10.0.0.1")
        clock.now += 1
    assert limiter.retry_after("10.0.0.1") == 0
    limiter.failed("10.0.0.1")
    assert 590 < limiter.retry_after("10.0.0.1") <= 600
    assert limiter.retry_after("10.0.0.2") == 0  # another address is not affected
    clock.now += 591  # the first failure leaves the window
    assert limiter.retry_after("10.0.0.1") == 0


def test_a_successful_sign_in_clears_the_address_failures() -> None:
    clock = Clock()
    limiter = SignInLimiter(failures=3, window_s=60, clock=clock)
    for _ in range(2):
        limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after("a") == 0


def test_the_limiter_holds_a_bounded_number_of_addresses() -> None:
    limiter = SignInLimiter(failures=2, window_s=60, max_addresses=100, clock=Clock())
    for i in range(1_000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._seen) == 100
