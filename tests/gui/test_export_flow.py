"""Exporting from the window (issue 13, item 8): the destination comes from THIS window's archive,
"Export Merged" says up to which layer (with the top layer as a choice), the progress shows a
percentage and the bytes written with Cancel, and the summary tells the deletions it listed."""

from __future__ import annotations

import shutil
import tarfile
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

import layerscope.gui.controller as controller_module
from layerscope.core.errors import Cancelled
from layerscope.gui import settings
from layerscope.gui.panels.export_flow import ExportDialog, ExportProgress, result_lines, show_result
from layerscope.gui.window import MainWindow
from tests.imagebuilder import Dir, File, Image, Layer, Whiteout, build

TIMEOUT = 30000


def make_window(qtbot) -> MainWindow:
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def window(qtbot):
    return make_window(qtbot)


@pytest.fixture
def image(tmp_path):
    """Three layers; the last deletes /etc/f2 and /srv."""
    img = Image(
        [
            Layer([Dir("etc"), File("etc/f1", b"one" * 1000), Dir("srv"), File("srv/a", b"a")]),
            Layer([File("etc/f2", b"two")]),
            Layer([Whiteout("etc/f2"), Whiteout("srv"), File("etc/f3", b"three")]),
        ],
        tags=["example.com/test/export:1"],
    )
    folder = tmp_path / "images"
    folder.mkdir()
    return build(img, folder / "img.tar", "docker25")


def load(qtbot, w, path):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(path))
    assert w.session is not None, w.error


def test_default_destination_is_this_windows_archive_folder(qtbot, image, tmp_path):
    other_folder = tmp_path / "elsewhere"
    other_folder.mkdir()
    other = shutil.copy(image, other_folder / "other.tar")
    a, b = make_window(qtbot), make_window(qtbot)
    load(qtbot, a, image)
    load(qtbot, b, other)  # b is now the most recent file of the shared settings
    qtbot.waitUntil(lambda: [Path(f).parent for f in settings.recent_files()[:1]] == [other_folder])
    dlg = a.export_flow.dialog("layer", 1)
    assert dlg is not None
    assert dlg.destination().parent == image.parent  # a's archive, not b's
    dlg_b = b.export_flow.dialog("layer", 1)
    assert dlg_b is not None and dlg_b.destination().parent == other_folder


def test_default_destination_follows_this_windows_last_export(window, qtbot, image, tmp_path):
    load(qtbot, window, image)
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.run_export("layer", 2, "", out / "l2")
    dlg = window.export_flow.dialog("layer", 1)
    assert dlg is not None and dlg.destination().parent == out
    other = make_window(qtbot)  # another window does not inherit it
    load(qtbot, other, image)
    dlg2 = other.export_flow.dialog("layer", 1)
    assert dlg2 is not None and dlg2.destination().parent == image.parent


def test_export_merged_names_the_layer_in_menu_and_dialog(window, qtbot, image, tmp_path):
    load(qtbot, window, image)
    assert "up to Layer #2" in window.export_merged_action.text()
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(1)
    assert "up to Layer #1" in window.export_merged_action.text()
    dlg = window.export_flow.dialog("merged", 1)
    assert isinstance(dlg, ExportDialog)
    assert dlg.what.text() == "Merged filesystem up to layer #1"
    assert dlg.upto.isVisibleTo(dlg) and dlg.upto.count() == 2
    assert dlg.upto_layer() == 1
    dlg.upto.setCurrentIndex(1)  # the top layer: the whole image
    assert dlg.upto_layer() == 2 and dlg.what.text() == "Merged filesystem up to layer #2"
    dlg.dest.setText(str(tmp_path / "top.tar"))
    dlg.to_tar.setChecked(True)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.export_flow.run_dialog(dlg, "merged", 1)
    with tarfile.open(tmp_path / "top.tar") as t:
        names = set(t.getnames())
    assert any(n.endswith("etc/f3") for n in names)  # only in layer #2
    assert not any(n.endswith("etc/f2") for n in names)  # deleted by layer #2


def test_export_progress_dialog_shows_percentage_bytes_and_cancels(
    window, qtbot, image, tmp_path, monkeypatch
):
    load(qtbot, window, image)
    flow = window.export_flow
    go_on = threading.Event()
    real_run = controller_module.run

    def paused_run(spec, session, progress, cancelled):
        progress(1500, 3000)
        go_on.wait(TIMEOUT / 1000)
        return real_run(spec, session, progress, cancelled)

    monkeypatch.setattr(controller_module, "run", paused_run)
    job = window.run_export("merged", 2, "", tmp_path / "m")
    prog = flow.progress
    assert isinstance(prog, ExportProgress) and prog.isVisible()
    qtbot.waitUntil(lambda: prog.value() == 500, timeout=TIMEOUT)
    assert "50 %" in prog.labelText() and "1.5 kB of 3.0 kB written" in prog.labelText()
    go_on.set()
    qtbot.waitUntil(lambda: flow.progress is None, timeout=TIMEOUT)  # closed when it ends
    assert job.done  # (the dialog was hidden and deleted)


def test_export_progress_cancel_stops_the_export(window, qtbot, image, tmp_path, monkeypatch):
    load(qtbot, window, image)
    flow = window.export_flow

    def slow_run(spec, session, progress, cancelled):
        progress(10, 100)
        while not cancelled():
            time.sleep(0.005)
        raise Cancelled()

    monkeypatch.setattr(controller_module, "run", slow_run)
    job = window.run_export("merged", 2, "", tmp_path / "m2")
    qtbot.waitUntil(
        lambda: flow.progress is not None and "10 %" in flow.progress.labelText(), timeout=TIMEOUT
    )
    with qtbot.waitSignal(window.controller.cancelled, timeout=TIMEOUT):
        flow.progress.findChild(QPushButton).click()  # its Cancel button
    assert job.cancelled() and flow.progress is None
    assert window.session is not None  # the image stays


def test_summary_includes_the_deletions_it_listed(window, qtbot, image, tmp_path):
    load(qtbot, window, image)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as sig:
        window.run_export("layer", 2, "", tmp_path / "l2")
    res = sig.args[0]
    listed = (tmp_path / "l2" / "WHITEOUTS.txt").read_text().splitlines()
    assert len(listed) == 2 and res.deletions == 2
    text, note, _details = result_lines(res)
    assert "listed 2 deletions in /WHITEOUTS.txt" in text
    assert "2 path(s) this layer deletes are listed in /WHITEOUTS.txt" in note
    box = show_result(window, res)
    assert "deletions" in box.text() and "WHITEOUTS.txt" in box.informativeText()
    box.close()
    # the status bar's note says it too
    assert "WHITEOUTS.txt" in window.status.text()
