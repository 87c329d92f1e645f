"""The dashboard's settings, read once from the environment by app.py."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cognify_events import EVENTS
from cognify_events.topics import HASH_PROGRESS
from cognify_kafka import KafkaSettings

from .static import DEFAULT_DIST


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _service(name: str, port: int) -> str:
    """A service's base URL: COGNIFY_<NAME>_URL, else loopback on its configured port."""
    explicit = os.environ.get(f"COGNIFY_{name.upper()}_URL")
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{_env(f'COGNIFY_{name.upper()}_HTTP_PORT', str(port))}"


@dataclass(frozen=True)
class DashboardSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    http_host: str = field(default_factory=lambda: _env("COGNIFY_DASHBOARD_HTTP_HOST", "127.0.0.1"))
    http_port: int = field(default_factory=lambda: int(_env("COGNIFY_DASHBOARD_HTTP_PORT", "8083")))
    ingest_url: str = field(default_factory=lambda: _service("ingest", 8080))
    lineage_url: str = field(default_factory=lambda: _service("lineage", 8081))
    exporter_url: str = field(default_factory=lambda: _service("exporter", 8082))
    events_topic: str = field(
        default_factory=lambda: _env("COGNIFY_TOPIC_PREFIX", "") + EVENTS.name
    )
    progress_topic: str = field(
        default_factory=lambda: _env("COGNIFY_TOPIC_PREFIX", "") + HASH_PROGRESS.name
    )
    # Behind TLS (production), cookies are sent over HTTPS only.
    secure_cookies: bool = field(
        default_factory=lambda: _env("COGNIFY_DASHBOARD_SECURE_COOKIES", "0") in ("1", "true")
    )
    idle_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_DASHBOARD_SESSION_IDLE_S", str(8 * 3600)))
    )
    # Failed sign-ins allowed per client address within the window before a 429.
    sign_in_failures: int = field(
        default_factory=lambda: int(_env("COGNIFY_DASHBOARD_SIGNIN_FAILURES", "10"))
    )
    sign_in_window_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_DASHBOARD_SIGNIN_WINDOW_S", "600"))
    )
    web_dist: Path = field(
        default_factory=lambda: Path(_env("COGNIFY_DASHBOARD_WEB_DIST", str(DEFAULT_DIST)))
    )
    # How often a session's key is confirmed again with ingest (revoked keys end sessions).
    recheck_s: float = field(
        default_factory=lambda: float(_env("COGNIFY_DASHBOARD_RECHECK_S", "60"))
    )
