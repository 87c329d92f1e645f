"""Where PostgreSQL is: one DSN, from the environment or the local stack's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PostgresSettings:
    dsn: str = field(
        default_factory=lambda: os.environ.get(
            "COGNIFY_PG_DSN", "postgresql://cognify:cognify@127.0.0.1:5433/cognify"
        )
    )
