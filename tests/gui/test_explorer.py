"""The explorer window, driven as a person would: drop, open recent, cancel, pick an image, select a
layer, filter, read errors; and the models pass qtmodeltester."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel

from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.gui import settings
from layerscope.gui.models import PATH_ROLE, ROW_ROLE
from layerscope.gui.window import MainWindow
from tests.conftest import PEER, REAL, need_shared

TIMEOUT = 30000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def load(qtbot, w, path):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(path))
    return w


def visible_paths(model, parent=None):
    parent = parent or QModelIndex()
    out = []
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        out.append(model.data(idx, PATH_ROLE))
        if model.canFetchMore(idx):
            model.fetchMore(idx)
        out.extend(visible_paths(model, idx))
    return out


def test_empty_window_is_a_drop_zone_with_the_sample(window, qtbot):
    assert window.stack.currentIndex() == 0
    assert "Drop an image archive here" in window.drop_label.text()
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.sample_button.click()
    assert window.session is not None
    assert window.timeline_model.rowCount() >= 3


def test_drop_files_opens_them(window, qtbot):
    need_shared()
    md = QMimeData()
    md.setUrls(
        [
            QUrl.fromLocalFile(str(REAL / "umoci-edge.oci.tar")),
            QUrl.fromLocalFile(str(REAL / "umoci-insert.oci.tar")),
        ]
    )
    opened = []
    window.open_requested.connect(opened.extend)
    ev = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        md,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.dropEvent(ev)
    assert window.session is not None and window.path.name == "umoci-edge.oci.tar"
    assert [p.name for p in opened] == ["umoci-insert.oci.tar"]  # the second goes to a new window


def test_drop_of_a_non_image_says_why_inline(window, qtbot):
    need_shared()
    load(qtbot, window, PEER / "wagoodman__dive/.data/test-uncompressed-image.tar")
    assert window.message.isVisible()
    assert "single filesystem layer" in window.message.text()
    assert window.stack.currentIndex() == 0  # still a drop zone, still usable
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    assert not window.message.isVisible() and window.session is not None


def test_open_recent_lists_and_prunes(window, qtbot, tmp_path):
    need_shared()
    gone = tmp_path / "gone.tar"
    gone.write_bytes(b"x")
    settings.add_recent(str(gone))
    load(qtbot, window, REAL / "umoci-edge.docker.tar")
    qtbot.waitUntil(lambda: settings.recent_files()[:1] == [str(REAL / "umoci-edge.docker.tar")])  # next turn
    gone.unlink()
    window._fill_recent()
    actions = [a.text() for a in window.recent_menu.actions()]
    assert actions == [str(REAL / "umoci-edge.docker.tar")]
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.recent_menu.actions()[0].trigger()
    assert window.session is not None


def test_cancel_during_a_load(window, qtbot, monkeypatch):
    need_shared()
    import layerscope.gui.controller as win
    from layerscope.core.errors import Cancelled

    started = []

    def slow_load(archive, image, progress=None, cancelled=None, on_layers=None, cache=None, keep=True):
        started.append(True)
        for i in range(2000):  # a load that only ends when cancelled (or after 20 s)
            progress("reading layer 1 of 1", i, 2000)
            if cancelled():
                raise Cancelled()
            __import__("time").sleep(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(win, "load", slow_load)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(REAL / "buildah-run.oci.tar")
        qtbot.waitUntil(lambda: bool(started) and window.progress.isVisible(), timeout=TIMEOUT)
        window.cancel_button.click()
    assert window.session is None
    assert window.status.text() == "Cancelled"
    assert not window.progress.isVisible()
    # and the window is still usable
    monkeypatch.undo()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    assert window.session is not None


def test_picker_on_multi_image_archive(window, qtbot):
    need_shared()
    window.ask_image = lambda archive: 1  # the user picks the second image
    load(qtbot, window, REAL / "docker26-multi.save.tar")
    assert window.image.tags == ("corpus/bbase:1",)
    assert window.image_combo.count() == 2 and window.image_combo.isEnabled()
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.image_combo.setCurrentIndex(0)
        window.image_combo.activated.emit(0)  # switch without reopening the file
    assert window.image.tags == ("corpus/docker26-edge:1",)
    assert len(window.session.layers) == 7


def test_tree_model_passes_modeltester(window, qtbot, qtmodeltester):
    need_shared()
    load(qtbot, window, REAL / "docker20-edge.save.tar")
    qtmodeltester.check(window.tree_model)
    qtmodeltester.check(window.timeline_model)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.mode_layer.click()
    qtmodeltester.check(window.tree_model)


def test_layer_selection_changes_the_tree_as_core_says(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.mode_layer.click()  # layer changes of the top layer: /srv removed
    assert visible_paths(window.tree_model) == ["srv"]
    row = window.tree_model.data(window.tree_model.index(0, 0), ROW_ROLE)
    assert row.change == "removed"
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.timeline.selectRow(window.timeline_model.row_of_layer(4))
    paths = visible_paths(window.tree_model)
    assert {"opt/app/cache/c1", "opt/app/cache/sub", "opt/app/cache/c2"} <= set(paths)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.mode_merged.click()  # merged up to layer 4: /srv still there, a.txt gone
    paths = set(visible_paths(window.tree_model))
    assert "srv/blob.bin" in paths and "opt/app/data/a.txt" not in paths and "opt/app/cache/c2" in paths


def test_filter_finds_a_deep_file_and_expands_to_it(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "docker20-edge.save.tar")
    deep = "opt/long/" + "d" * 60 + "/" + "e" * 60 + "/" + "f" * 40 + ".txt"
    window.search.setText("ffff.txt")
    qtbot.waitUntil(lambda: window.tree.currentIndex().data(PATH_ROLE) == deep, timeout=TIMEOUT)
    idx = window.tree.currentIndex()
    assert window.tree.isExpanded(idx.parent())
    window.regex.setChecked(True)
    window.search.setText(r"^/opt/app/.*\.ini$")
    qtbot.waitUntil(
        lambda: visible_paths(window.tree_model) == ["opt", "opt/app", "opt/app/config.ini"], timeout=TIMEOUT
    )
    window.search.setText("")
    qtbot.waitUntil(lambda: window.tree_model.rowCount() > 3, timeout=TIMEOUT)


def test_hide_unmodified(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "docker20-edge.save.tar")
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.timeline.selectRow(window.timeline_model.row_of_layer(2))
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.mode_layer.click()
    window.hide_unmodified.setChecked(True)
    assert visible_paths(window.tree_model) == ["opt", "opt/app", "opt/app/config.ini"]


def test_status_bar_and_warnings(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-insert.oci.tar")
    text = window.status.text()
    assert "corpus/umoci-insert:1" in text and "3 layers" in text and "efficiency" in text
    assert window.warnings_button.isVisible() and "warning" in window.warnings_button.text()


def test_the_status_bar_names_whose_figure_each_is_and_says_why_both_hold(window, qtbot):
    """umoci-edge: dive reads 100 % efficient, yet 300 kB are hidden (a folder deleted whole): each
    figure is named with its counter, LayerScope's first, and the tooltip says what each counts."""
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    text = window.status.text()
    assert "hidden by later layers (LayerScope)" in text and "efficiency 100.0 %" in text
    assert text.index("(LayerScope)") < text.index("efficiency") < text.index("(dive)")
    assert "A folder deleted as a whole adds nothing to dive's figures" in window.status.toolTip()
    # too narrow for the line: it ends in "…", and its tooltip starts with the whole of it
    window.resize(700, window.height())
    qtbot.waitUntil(lambda: QLabel.text(window.status).endswith("…"), timeout=5000)
    assert window.status.text() == text and window.status.toolTip().startswith(text + "\n\n")
    window.resize(2400, window.height())
    qtbot.waitUntil(lambda: QLabel.text(window.status) == text, timeout=5000)


def test_screenshot_command_writes_a_png(tmp_path):
    out = tmp_path / "shot.png"
    with resource_path(SAMPLE_IMAGE) as sample:
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "layerscope.gui.launcher",
                "--screenshot",
                str(out),
                str(sample),
                "--select-layer",
                "1",
                "--expand",
                "/",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert not img.isNull() and img.width() >= 1000
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 17)}
    assert len(colours) > 10  # not blank
