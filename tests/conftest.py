"""Shared test setup: offscreen Qt, the shared corpus, and real third-party tools.

Tests that need ../shared or a real tool (umoci, skopeo, dive, desktop-file-validate) skip with a
reason on a user's fresh clone, but FAIL under CI=true, where .ci/run installs everything.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("LAYERSCOPE_SHARED", ROOT.parent / "shared")).resolve()
CORPUS = SHARED / "corpus"
REAL = CORPUS / "real"
PEER = CORPUS / "peer"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run must provide it)")
    pytest.skip(reason)


def need_shared() -> Path:
    """Return ../shared/corpus, or skip (fail under CI) when it is absent."""
    if not REAL.is_dir():
        _missing(f"shared corpus not found at {CORPUS}")
    return CORPUS


def need_tool(name: str) -> str:
    """Return the path of a third-party tool, or skip (fail under CI) when it is not installed."""
    venv_bin = Path(sys.executable).parent
    found = shutil.which(name) or shutil.which(name, path=str(venv_bin))
    if not found:
        _missing(f"{name} is not installed")
    assert found is not None
    return found


@pytest.fixture
def corpus() -> Path:
    return need_shared()


def real_archives() -> list[Path]:
    """Every archive in shared/corpus/real (empty list when the corpus is absent)."""
    return sorted(REAL.glob("*.tar")) if REAL.is_dir() else []
