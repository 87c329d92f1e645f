"""The operations tools the deploy tests run: helm, promtool, prometheus and Go.

deploy/bootstrap-ops-tools (run by `make install`, so by CI) builds them from the Go module
proxy into the cache. A missing tool fails the test with that instruction: never a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE_BIN = Path(os.environ.get("COGNIFY_CACHE", Path.home() / ".cache/cognify")) / "bin"


def tool(name: str) -> Path:
    """The cached binary `name`, or a failed test saying how to install it."""
    path = CACHE_BIN / name
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{name} is not installed ({path}); run deploy/bootstrap-ops-tools "
            "(`make install` does)",
            pytrace=False,
        )
    return path


def go() -> str:
    found = shutil.which("go")
    if found is None:
        pytest.fail("Go is not installed: the manifest checker is a Go program", pytrace=False)
    return found
