"""The SDK's install matrix: fresh virtual environments on Python 3.9 to 3.13 install the SDK
from its built wheels and drive a whole run against the real stack (tests/sdk_matrix/drive.py).

    python tests/sdk_matrix/matrix.py [3.9 3.10 ...]      # prints one JSON line per cell

Cells:
- `py3.X`: the interpreter from pyenv, our three wheels by direct file reference (never
  the unrelated `cognify-sdk` on PyPI), `transformers` as pip resolves it for that Python,
  no torch; the callback is fed transformers' own TrainingArguments/TrainerState/
  TrainerControl and real checkpoint directories.
- `train-newest` and `train-4.36`: Python 3.11 and a real tiny-model Trainer, once with the
  newest transformers and once with transformers 4.36.x. Neither downloads torch: the venv
  gets a `.pth` file naming a directory of symlinks to the torch the project's .venv already
  has (torch and the packages torch imports, nothing else), so pip sees torch as installed
  and the venv's own transformers is the one under test.

pip keeps its downloads in ~/.cache/pip, so only the first run on a machine downloads.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVE = Path(__file__).with_name("drive.py")
VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
PACKAGES = ("cognify-events", "cognify-hashing", "cognify-sdk")
# What `import torch` (and a Trainer on it) needs from the project's venv; everything else in
# the cell's venv is its own.
TORCH_PARTS = (
    "torch",
    "torchgen",
    "functorch",
    "nvidia",
    "triton",
    "sympy",
    "mpmath",
    "networkx",
    "jinja2",
    "markupsafe",
    "fsspec",
    "filelock",
    "typing_extensions",
)
TRAIN_CELLS = {
    # transformers 4.36 passes Accelerator arguments that accelerate 1.0 removed.
    "train-4.36": ("transformers==4.36.*", "accelerate>=0.21,<1"),
    "train-newest": ("transformers>=4.36", "accelerate>=0.26"),
}


@dataclass(frozen=True)
class Cell:
    name: str
    python: str
    requirements: tuple[str, ...]
    train: bool = False


def cells(versions: Sequence[str] = VERSIONS, train: bool = True) -> list[Cell]:
    out = [Cell(f"py{v}", v, ("transformers>=4.36",)) for v in versions]
    if train:
        out += [Cell(name, "3.11", reqs, train=True) for name, reqs in TRAIN_CELLS.items()]
    return out


def interpreter(version: str) -> Path:
    """The machine image's pyenv interpreter for `version` (3.9 -> .../versions/3.9.18)."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        root = _run(["pyenv", "root"]).stdout.strip()
    found = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"))
    if not found:
        raise FileNotFoundError(f"no Python {version} under {root}/versions (pyenv install)")
    return Path(found[-1])


def build_wheels(out: Path) -> list[Path]:
    """What `make wheels` builds, into `out`."""
    for package in PACKAGES:
        subprocess.run(
            ["uv", "build", "--wheel", "--package", package, "-o", str(out), "--quiet"],
            cwd=ROOT,
            check=True,
        )
    return sorted(out.glob("cognify_*.whl"))


def _run(cmd: Sequence[str], **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(cmd), capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done  # type: ignore[no-any-return]


def _share_torch(env: Path) -> None:
    """A .pth naming a directory of symlinks to the project venv's torch and what it imports."""
    project = Path(
        _run(
            [
                str(ROOT / ".venv/bin/python"),
                "-c",
                "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))",
            ]
        ).stdout.strip()
    )
    shared = env / "shared-torch"
    shared.mkdir()
    for entry in project.iterdir():
        stem = entry.name.split("-")[0].lower()
        if stem in TORCH_PARTS or entry.name.lower().removesuffix(".py") in TORCH_PARTS:
            (shared / entry.name).symlink_to(entry)
    site = next((env / "lib").glob("python3.*/site-packages"))
    (site / "cognify-shared-torch.pth").write_text(f"{shared}\n")


def make_env(cell: Cell, wheels: Sequence[Path], where: Path) -> Path:
    env = where / f"venv-{cell.name}"
    if cell.train:
        _run([str(interpreter(cell.python)), "-m", "venv", str(env)])
        _share_torch(env)
        # pip, because it sees the torch the .pth shares (accelerate needs it) as installed
        pip = [str(env / "bin/python"), "-m", "pip", "install", "--quiet"]
    else:
        # uv installs what pip would, from its cache: minutes less per cell than pip, which
        # downloads and byte-compiles everything again in each fresh venv.
        _run([str(interpreter(cell.python)), "-m", "venv", "--without-pip", str(env)])
        pip = ["uv", "pip", "install", "--quiet", "--python", str(env / "bin/python")]
    pip += ["--only-binary", ":all:"]
    # Our wheels by path: pip cannot swap them for a same-named package from an index.
    _run([*pip, *map(str, wheels), *cell.requirements])
    return env / "bin/python"


def drive(python: Path, tag: str, train: bool, env: dict[str, str]) -> dict[str, object]:
    cmd = [str(python), str(DRIVE), "--tag", tag, *(["--train"] if train else [])]
    done = _run(cmd, env=env, timeout=420)
    line = done.stdout.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(line)
    return result


def run_cell(
    cell: Cell, wheels: Sequence[Path], where: Path, tag: str, env: dict[str, str]
) -> dict[str, object]:
    python = make_env(cell, wheels, where)
    return {"cell": cell.name, "tag": tag, **drive(python, tag, cell.train, env)}


def main(argv: Sequence[str]) -> int:
    versions = [a for a in argv if a[0].isdigit()] or list(VERSIONS)
    env = {
        **os.environ,
        "COGNIFY_WORKSPACE_ID": os.environ.get("COGNIFY_WORKSPACE_ID", "ws-sdk-matrix"),
        "COGNIFY_API_KEY": os.environ.get("COGNIFY_API_KEY", "cgk_sdk_matrix"),
    }
    with tempfile.TemporaryDirectory(prefix="sdk-matrix-") as tmp:
        where = Path(tmp)
        env["COGNIFY_SPOOL_DIR"] = str(where / "spool")
        wheels = build_wheels(where / "dist")
        for cell in cells(versions, train="--no-train" not in argv):
            result = run_cell(cell, wheels, where, f"{cell.name}-{os.getpid()}", env)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
