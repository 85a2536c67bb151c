"""The first window: loads off the GUI thread, shows the layers, reports bad files inline."""

from __future__ import annotations

import subprocess
import sys

from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from tests.conftest import PEER, need_shared


def test_window_shows_sample_layers(qtbot):
    from layerscope.gui.app import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.open_sample()
    assert w.layers.topLevelItemCount() >= 3
    assert "sample" in w.title.text()


def test_window_reports_a_bad_file_and_stays_usable(qtbot):
    need_shared()
    from layerscope.gui.app import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    bad = PEER / "wagoodman__dive/.data/test-uncompressed-image.tar"
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.open_path(bad)
    assert "single filesystem layer" in w.title.text()
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.open_sample()
    assert w.layers.topLevelItemCount() >= 3


def test_screenshot_command_writes_a_png(tmp_path):
    out = tmp_path / "shot.png"
    with resource_path(SAMPLE_IMAGE) as sample:
        r = subprocess.run(
            [sys.executable, "-m", "layerscope.gui.launcher", "--screenshot", str(out), str(sample)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
        )
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert not img.isNull() and img.width() > 300
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 17)}
    assert len(colours) > 3  # not blank
