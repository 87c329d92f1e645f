"""sigstore's `model_signing` CLI (PyPI model-signing, installed by uv sync), as an auditor
runs it: `model_signing verify key MODEL --signature SIG --public_key PUB`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = Path(sys.executable).parent / "model_signing"


def verify(model: Path, sig: Path, pub: Path) -> subprocess.CompletedProcess[str]:
    assert CLI.is_file(), f"model_signing's CLI is missing at {CLI} (uv sync installs it)"
    return subprocess.run(
        [str(CLI), "verify", "key", str(model), "--signature", str(sig), "--public_key", str(pub)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
