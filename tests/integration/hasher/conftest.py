"""Fixtures of the hasher's integration tests: a private topic prefix and allowed root."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cognify_hasher.settings import HasherSettings

from .harness import settings_for


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}."


@pytest.fixture
def root(tmp_path: Path) -> Path:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    return allowed


@pytest.fixture
def hasher(prefix: str, root: Path) -> HasherSettings:
    return settings_for(prefix, [root])
