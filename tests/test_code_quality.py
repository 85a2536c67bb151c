"""The checks CI keeps clean: ruff lint, ruff format, mypy --strict on core and gui.

They run as tests so that the README's one test command (and so .ci/run) enforces them; the same
three run from .pre-commit-config.yaml before a commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / argv[0]
    if not tool.exists():
        pytest.fail(f"{argv[0]} is not installed in the venv (bash .ci/setup --test installs it)")
    if argv[0] == "mypy":  # as the installed packages, see .ci/typecheck
        cmd = ["bash", str(ROOT / ".ci" / "typecheck"), *argv[1:]]
        env = {**os.environ, "MYPY": str(tool)}
    else:
        cmd, env = [str(tool), *argv[1:]], dict(os.environ)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "argv",
    [
        ("ruff", "check", "--no-cache", "."),
        ("ruff", "format", "--no-cache", "--check", "."),
        ("mypy", "--no-incremental"),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_clean(argv: tuple[str, ...]) -> None:
    res = _run(*argv)
    assert res.returncode == 0, f"{' '.join(argv)} found problems:\n{res.stdout[-6000:]}{res.stderr[-2000:]}"
