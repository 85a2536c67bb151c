"""The window on a real X server: Xvfb and Qt's xcb platform, not only the offscreen plugin.

Each test process starts its own ``Xvfb`` (``-displayfd`` lets the server pick a free display
number and tell it), runs ``layerscope`` on it with QT_QPA_PLATFORM=xcb, and checks what it painted:
the window's own screenshot, and the X screen itself grabbed by a second xcb client (``xwd`` with ImageMagick
when installed, else Qt's ``QScreen.grabWindow(0)``, which reads the root window from the server).
Xvfb comes with ``.ci/setup --test``; without it the tests skip, and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from layerscope.gui.colors import DARK_TINTS, LIGHT_TINTS
from tests.conftest import ROOT, need_tool

SAMPLE = ROOT / "resources" / "sample" / "sample.docker.tar"
LAYERSCOPE = [sys.executable, "-m", "layerscope.gui.launcher"]
GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
ok = app.primaryScreen().grabWindow(0).save(sys.argv[1])
sys.exit(0 if ok else 1)
"""


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """``:N`` of a private Xvfb, stopped (and its lock and socket gone) after the module."""
    xvfb = need_tool("Xvfb")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()  # written once the server accepts clients
        if not number.isdigit():
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"Xvfb did not start: {err[-500:]}")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert not Path(f"/tmp/.X11-unix/X{number}").exists()


def xcb_env(display: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="xcb",
        DISPLAY=display,
        LAYERSCOPE_NO_SINGLE_INSTANCE="1",
        LAYERSCOPE_SETTINGS=str(tmp_path / "settings.ini"),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    env.pop("WAYLAND_DISPLAY", None)
    return env


def colours(path: Path) -> tuple[int, float]:
    """(distinct colours on a coarse 4-bit grid, mean lightness 0..255) of a PNG."""
    img = QImage(str(path))
    assert not img.isNull(), path
    seen: set[int] = set()
    total = n = 0
    for y in range(0, img.height(), 4):
        for x in range(0, img.width(), 4):
            c = img.pixelColor(x, y)
            seen.add((c.red() >> 4) << 8 | (c.green() >> 4) << 4 | c.blue() >> 4)
            total += c.lightness()
            n += 1
    return len(seen), total / max(n, 1)


def shows_layer_tints(path: Path) -> bool:
    """Whether the image holds the tints of layers #0 and #1 (light or dark): the image is open."""
    img = QImage(str(path))
    found = {img.pixelColor(x, y).name() for y in range(0, img.height(), 3) for x in range(0, img.width(), 3)}
    return any({t[0], t[1]} <= found for t in (LIGHT_TINTS, DARK_TINTS))


def screenshot(display: str, tmp_path: Path, name: str, *extra: str) -> Path:
    out = tmp_path / name
    r = subprocess.run(
        [*LAYERSCOPE, "--screenshot", str(out), *extra, str(SAMPLE)],
        env=xcb_env(display, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert "Could not load the Qt platform plugin" not in r.stderr
    return out


def test_the_window_paints_on_xcb(display, tmp_path, qapp):
    out = screenshot(display, tmp_path, "light.png", "--theme", "light", "--expand", "srv/app")
    assert out.stat().st_size > 30_000  # a window with text, tints and icons, not a blank frame
    distinct, light = colours(out)
    assert distinct >= 40 and light > 150 and shows_layer_tints(out)
    dark = screenshot(display, tmp_path, "dark.png", "--theme", "dark")
    distinct, lightness = colours(dark)
    assert distinct >= 40 and lightness < 100  # the dark theme applies on a real platform too
    assert shows_layer_tints(dark)


def _grab_screen(display: str, tmp_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The X root window as a PNG: ``xwd -root`` where it and ImageMagick are installed, else
    Qt's grab (an xcb GetImage of the root window, by a client that is not the app)."""
    env = xcb_env(display, tmp_path)
    xwd, magick = shutil.which("xwd"), shutil.which("magick")
    if xwd and magick:
        dump = out.with_suffix(".xwd")
        cmd = [xwd, "-root", "-silent", "-out", str(dump)]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode == 0:
            return subprocess.run([magick, str(dump), str(out)], capture_output=True, text=True)
    return subprocess.run(
        [sys.executable, "-c", GRAB, str(out)], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_x_screen_shows_the_window(display, tmp_path, qapp):
    """Grabbed from the X server, not rendered by the app: the window is mapped and painted."""
    app = subprocess.Popen(
        [*LAYERSCOPE, str(SAMPLE)],
        env=xcb_env(display, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    out = tmp_path / "screen.png"
    try:
        deadline = time.monotonic() + 60
        distinct = 0
        while time.monotonic() < deadline and app.poll() is None:
            r = _grab_screen(display, tmp_path, out)
            assert r.returncode == 0, r.stderr
            distinct, _ = colours(out)
            if distinct >= 40 and shows_layer_tints(out):  # painted, with the archive open
                break
            time.sleep(0.5)
        assert app.poll() is None, app.stderr.read().decode(errors="replace") if app.stderr else ""
        assert distinct >= 40, f"the X screen shows {distinct} colours"
        assert shows_layer_tints(out), "the X screen does not show the sample's layers"
        img = QImage(str(out))
        assert (img.width(), img.height()) == (1280, 800)
    finally:
        app.terminate()
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
