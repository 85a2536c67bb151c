"""Shared test setup: offscreen Qt, the shared corpus, and real third-party tools.

Tests that need ../shared or a real tool (umoci, skopeo, dive, desktop-file-validate) skip with a
reason on a user's fresh clone, but FAIL under CI=true, where .ci/run installs everything.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The whole suite (and every subprocess it starts) uses a temporary persistent cache, never the
# user's own: set at import, before any test or LayerScope module reads XDG_CACHE_HOME.
# A helper process that imports this module (the fuzz worker does) keeps its parent's folder.
if "LAYERSCOPE_TEST_CACHE_HOME" not in os.environ:
    _CACHE_HOME = tempfile.mkdtemp(prefix="layerscope-test-cache-")
    os.environ["LAYERSCOPE_TEST_CACHE_HOME"] = _CACHE_HOME
    os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
    os.environ.pop("LAYERSCOPE_CACHE_MAX", None)
    atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("LAYERSCOPE_SHARED", ROOT.parent / "shared")).resolve()
CORPUS = SHARED / "corpus"
REAL = CORPUS / "real"
PEER = CORPUS / "peer"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEBIAN_BUILT = Path(os.environ.get("LAYERSCOPE_DEBIAN_CORPUS", ROOT / ".corpus")).resolve()
"""Where .ci/debian-image builds the corpus's Debian image when ../shared has none."""
DEBIAN_NAME = "debian-minbase-jq"


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


def need_debian() -> Path:
    """The folder holding the corpus's Debian image (``debian/debian-minbase-jq.{docker,oci}.tar``
    and their ``trees/*.tsv``): ../shared/corpus/real when it has one, else what .ci/debian-image
    built; skip (fail under CI) when neither has it."""
    for base in (REAL, DEBIAN_BUILT):
        names = [f"{DEBIAN_NAME}.docker.tar", f"{DEBIAN_NAME}.oci.tar"]
        if all(
            (base / "debian" / n).is_file() and (base / "trees" / f"debian_{n}@0.tsv").is_file()
            for n in names
        ):
            return base
    _missing(f"the corpus's Debian image is in neither {REAL} nor {DEBIAN_BUILT}: sudo bash .ci/debian-image")
    raise AssertionError("unreachable")


@pytest.fixture
def corpus() -> Path:
    return need_shared()


def real_archives() -> list[Path]:
    """Every archive in shared/corpus/real (empty list when the corpus is absent)."""
    return sorted(REAL.glob("*.tar")) if REAL.is_dir() else []


# The real daemons (tests/sources/daemons.py), declared once here so that each starts once per session
# whichever test modules use them. Imported last: that module reads the names above.
from tests.sources.daemons import dockerd, podman_service  # noqa: E402

__all__ = ["dockerd", "podman_service"]
