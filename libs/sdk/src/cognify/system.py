"""System information for the run record: host, GPUs, CUDA, library versions, git state.

Runs on the publisher thread (git is a subprocess), never on the training thread.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = (
    "torch",
    "transformers",
    "trl",
    "datasets",
    "peft",
    "accelerate",
    "deepspeed",
    "cognify-sdk",
)


def package_versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def gpu_info() -> tuple[str | None, int, str | None]:
    torch = sys.modules.get("torch")
    if torch is None:
        return None, 0, None
    try:
        if not torch.cuda.is_available():
            return None, 0, torch.version.cuda
        count = torch.cuda.device_count()
        return torch.cuda.get_device_name(0), count, torch.version.cuda
    except Exception:  # noqa: BLE001 - a broken driver must not break the audit
        return None, 0, None


def git_state(start: Path) -> tuple[str | None, bool | None]:
    """The commit and dirty flag of the repository holding the training code, if any."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(start), *args],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status) if status is not None else None)


def script_dir() -> Path:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).resolve().parent if path else Path.cwd()


def collect() -> dict[str, Any]:
    gpu_model, gpu_count, cuda = gpu_info()
    commit, dirty = git_state(script_dir())
    return {
        "host": socket.gethostname(),
        "os": platform.platform(),
        "python_version": platform.python_version(),
        "packages": package_versions(),
        "gpu_model": gpu_model,
        "gpu_count": gpu_count,
        "cuda_version": cuda,
        "git_commit": commit,
        "git_dirty": dirty,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
