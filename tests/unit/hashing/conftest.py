"""Shared fixtures: the spec's test vectors, loaded once from docs/spec, and both
implementations.

Every test here runs twice, on the Rust accelerator ("native") and on the pure-Python
reference ("pure"), unless its module sets IMPLEMENTATIONS (the differential tests, which
call both explicitly). The accelerator is built by `uv sync` in this workspace, so its
absence is a failure, not a skip.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from cognify_hashing import _native

SPEC_DIR = Path(__file__).resolve().parents[3] / "docs" / "spec"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "implementation" in metafunc.fixturenames:
        chosen = getattr(metafunc.module, "IMPLEMENTATIONS", ("native", "pure"))
        metafunc.parametrize("implementation", chosen, indirect=True)


@pytest.fixture(autouse=True)
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Switch cognify_hashing to the accelerator or to the pure reference for one test."""
    name: str = request.param
    if name == "native":
        if _native.accel is None:
            pytest.fail(f"the Rust accelerator is not importable: {_native.IMPORT_ERROR}")
        monkeypatch.setattr(_native, "enabled", True)
    else:
        monkeypatch.setattr(_native, "enabled", False)
    return name


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPEC_DIR / "hashing-vectors.json").read_text("utf-8"))
    return loaded


@pytest.fixture(scope="session")
def spec_text() -> str:
    return (SPEC_DIR / "hashing.md").read_text("utf-8")
