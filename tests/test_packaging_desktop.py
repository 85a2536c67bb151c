"""The wheel carries the desktop integration (entry, MIME package, every icon), and install-desktop
works from the installed package alone, away from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from layerscope.gui import desktop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("layerscope-*.whl")
    return whl


def test_wheel_contains_desktop_files_and_icons(wheel):
    from layerscope.gui import icons

    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"layerscope/resources/{n}" for n in desktop.bundled_files()}
    expected |= {f"layerscope/resources/{icons.SVG}"}
    expected |= {f"layerscope/resources/{icons.png(s)}" for s in icons.PNG_SIZES}
    assert len(expected) == 2 + 1 + len(icons.PNG_SIZES)
    assert expected <= names, sorted(expected - names)
    assert "layerscope/gui/desktop.py" in names and "layerscope/gui/icons.py" in names


def test_install_desktop_from_the_unpacked_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    home = tmp_path / "home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CURRENT_DESKTOP": "",
        "PYTHONPATH": str(site),  # ahead of the checkout's editable install
    }
    code = (
        "import sys, layerscope.gui.desktop as d\n"
        "assert d.__file__.startswith(sys.argv[1]), d.__file__\n"
        "from layerscope.gui.launcher import main\n"
        "sys.exit(main(['install-desktop']) or main(['uninstall-desktop']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(site)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
    for name in desktop.bundled_files():
        assert f"wrote {home / 'data' / name}" in r.stdout
        assert f"removed {home / 'data' / name}" in r.stdout
    assert not list((home / "data").rglob("*"))
