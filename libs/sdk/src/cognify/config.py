"""SDK configuration: explicit arguments first, then `COGNIFY_*` environment variables.

Nothing here has a hard-coded remote host; the only default broker is loopback, where the
local stack (`deploy/stack up`) listens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cognify_events.topics import RAW

TIERS = ("standard", "healthcare", "finance", "eu_ai_act")


class ConfigurationError(ValueError):
    """Bad or missing SDK configuration; the message says which setting and how to fix it."""


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def _float_env(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None


def default_spool_dir() -> Path:
    return Path(_env("COGNIFY_SPOOL_DIR") or Path.home() / ".cognify" / "spool")


def raw_topic() -> str:
    """The topic events are published to: `cognify.events.raw`, under COGNIFY_TOPIC_PREFIX
    when set (the services read that prefix too, so a test's stack runs apart)."""
    return (_env("COGNIFY_TOPIC_PREFIX") or "") + RAW.name


def ingest_url() -> str | None:
    """COGNIFY_INGEST_URL (default the local stack's, http://127.0.0.1:8080); `off`: none."""
    url = _env("COGNIFY_INGEST_URL") or "http://127.0.0.1:8080"
    return None if url.strip().lower() == "off" else url


@dataclass(frozen=True)
class Settings:
    workspace_id: str
    api_key: str
    project: str
    kafka_bootstrap: str
    spool_dir: Path
    compliance_tier: str = "standard"
    spool_max_bytes: int = 1 << 30
    heartbeat_interval_s: float = 5.0
    flush_timeout_s: float = 10.0
    delivery_timeout_s: float = 300.0
    exporter_url: str | None = None
    raw_topic: str = RAW.name
    # ingest's HTTP API, asked for the workspace's compliance tier (tier.py); None: not asked
    ingest_url: str | None = None

    @staticmethod
    def bootstrap_from_env() -> str:
        return _env("COGNIFY_KAFKA_BOOTSTRAP") or "127.0.0.1:9092"

    @classmethod
    def resolve(
        cls,
        workspace_id: str | None = None,
        api_key: str | None = None,
        project: str | None = None,
        kafka_bootstrap: str | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        compliance_tier: str | None = None,
    ) -> Settings:
        missing = []
        workspace = workspace_id or _env("COGNIFY_WORKSPACE_ID")
        key = api_key or _env("COGNIFY_API_KEY")
        proj = project or _env("COGNIFY_PROJECT")
        if not workspace:
            missing.append("workspace_id (or COGNIFY_WORKSPACE_ID)")
        if not key:
            missing.append("api_key (or COGNIFY_API_KEY)")
        if not proj:
            missing.append("project (or COGNIFY_PROJECT)")
        if missing:
            raise ConfigurationError("cognify.init needs " + ", ".join(missing))
        tier = compliance_tier or _env("COGNIFY_COMPLIANCE_TIER") or "standard"
        if tier not in TIERS:
            raise ConfigurationError(f"compliance tier {tier!r} is not one of {', '.join(TIERS)}")
        spool = Path(spool_dir or default_spool_dir())
        assert workspace and key and proj
        return cls(
            workspace_id=workspace,
            api_key=key,
            project=proj,
            kafka_bootstrap=kafka_bootstrap or cls.bootstrap_from_env(),
            spool_dir=spool,
            compliance_tier=tier,
            spool_max_bytes=int(_float_env("COGNIFY_SPOOL_MAX_BYTES", float(1 << 30))),
            heartbeat_interval_s=_float_env("COGNIFY_HEARTBEAT_S", 5.0),
            flush_timeout_s=_float_env("COGNIFY_FLUSH_TIMEOUT_S", 10.0),
            delivery_timeout_s=_float_env("COGNIFY_DELIVERY_TIMEOUT_S", 300.0),
            exporter_url=_env("COGNIFY_EXPORTER_URL"),
            raw_topic=raw_topic(),
            ingest_url=ingest_url(),
        )
