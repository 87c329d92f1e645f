"""Fixtures of the hasher's integration tests: a private topic prefix and allowed root."""

from __future__ import annotations

from pathlib import Path

import pytest
from cognify_hasher.settings import HasherSettings

from .harness import settings_for


@pytest.fixture
def prefix(topic_prefix: str) -> str:
    return topic_prefix


@pytest.fixture
def root(tmp_path: Path) -> Path:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    return allowed


@pytest.fixture
def hasher(prefix: str, root: Path) -> HasherSettings:
    return settings_for(prefix, [root])
