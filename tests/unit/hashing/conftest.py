"""Shared fixtures: the spec's test vectors, loaded once from docs/spec."""

import json
from pathlib import Path
from typing import Any

import pytest

SPEC_DIR = Path(__file__).resolve().parents[3] / "docs" / "spec"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPEC_DIR / "hashing-vectors.json").read_text("utf-8"))
    return loaded


@pytest.fixture(scope="session")
def spec_text() -> str:
    return (SPEC_DIR / "hashing.md").read_text("utf-8")
