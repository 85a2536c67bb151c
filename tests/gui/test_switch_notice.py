"""A slow layer switch says so over the tree (the timeline already shows the new layer; the tree
still the old one), and says nothing for a fast one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from layerscope.core.session import LoadedImage
from layerscope.gui.panels.switch_notice import NOTICE_AFTER_MS
from layerscope.gui.window import MainWindow
from tests.imagebuilder import Dir, File, Image, Layer, build

TIMEOUT = 30000


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> MainWindow:
    img = Image(
        [
            Layer([Dir("etc"), File("etc/a", b"a")]),
            Layer([File("etc/b", b"b")]),
            Layer([File("etc/c", b"c")]),
        ]
    )
    path = build(img, tmp_path / "three.tar", "docker25")
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(path)
    assert w.session is not None, w.error
    return w


def test_a_slow_switch_shows_a_notice_until_the_view_arrives(window, qtbot, monkeypatch):
    real = LoadedImage.view

    def slow(self: LoadedImage, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.6)  # as right after a large image's load, while the background preparation runs
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LoadedImage, "view", slow)
    notice = window.explorer.switch_notice
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(0)
        qtbot.waitUntil(notice.isVisible, timeout=2000)
        assert "Showing layer #0 (merged)" in notice.text()
        assert notice.parent() is window.tree.viewport()
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=2000)
    assert window.tree_model.view is not None and window.tree_model.view.top == 0


def test_a_fast_switch_shows_nothing(window, qtbot):
    notice = window.explorer.switch_notice
    shown: list[bool] = []
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(1)
    qtbot.wait(NOTICE_AFTER_MS + 100)
    shown.append(notice.isVisible())
    assert shown == [False]
