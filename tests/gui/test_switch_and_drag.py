"""Issue 13's last defects and the quick layer switch: a layer clicked while an image is read is the
layer shown once it is loaded; the progress bar is wide enough for its stage and percentage; a
large folder dragged out of the tree is refused at once (Export copies it), never copied on the GUI
thread; the merged view of a lower layer, derived from the top's (core/views.py LevelView), is the
view of a merge up to that layer, row for row."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from layerscope.core.archive.open import open_archive
from layerscope.core.merge import merge
from layerscope.core.session import load
from layerscope.core.views import LevelView, MergedView
from layerscope.gui.panels import explorer as explorer_module
from layerscope.gui.panels.status_bar import PROGRESS_WIDTH
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared
from tests.imagebuilder import Dir, File, Image, Layer, Opaque, Symlink, Whiteout, build

TIMEOUT = 30000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    return w


def test_a_layer_clicked_while_the_image_is_read_is_shown_once_it_is_loaded(window, qtbot):
    need_shared()
    w, c = window, window.controller
    clicked: list[int] = []

    def click_layer_1(_image, _sizes) -> None:
        if clicked:
            return
        row = w.timeline_model.row_of_layer(1)
        rect = w.timeline.visualRect(w.timeline_model.index(row, 2))
        qtbot.mouseClick(w.timeline.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        clicked.append(row)

    c.loading.connect(click_layer_1)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "umoci-edge.oci.tar")
    assert clicked and c.reading is False
    qtbot.waitUntil(lambda: w.tree_model.view is not None and w.tree_model.view.top == 1, timeout=TIMEOUT)
    assert c.current_layer == 1  # not replaced by the top layer when the load finished
    assert w.timeline.currentIndex().row() == w.timeline_model.row_of_layer(1)
    # the timeline taking the focus (a current row of its own) is no choice of the user's
    c.loading.disconnect(click_layer_1)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "umoci-edge.oci.tar")
    assert c.current_layer == len(c.session.layers) - 1


def test_the_progress_bar_fits_its_stage_and_percentage(window, qtbot):
    sp = window.status_panel
    sp.busy("Reading 7 layers")
    sp.progressed("reading layers", 42, 100)
    qtbot.waitUntil(lambda: window.progress.isVisible(), timeout=TIMEOUT)
    bar = window.progress
    assert bar.minimumWidth() >= PROGRESS_WIDTH and bar.width() >= PROGRESS_WIDTH
    assert bar.text() == "reading layers — 42 %"
    assert bar.fontMetrics().horizontalAdvance(bar.text()) < bar.width()  # not cut
    sp.progressed("merging layers", 0, 0)  # no total: a busy bar, the stage still named
    assert bar.maximum() == 0 and bar.format() == "merging layers"
    sp.progressed("analysing", 0, 1)  # a stage that began, with no measure: no "0 %" that never moves
    assert bar.maximum() == 0 and bar.format() == "analysing"
    sp.idle()
    assert not bar.isVisible()


def test_a_large_folder_dragged_out_is_refused_at_once(window, qtbot, monkeypatch):
    need_shared()
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(REAL / "docker20-edge.save.tar")
    m = window.tree_model
    written: list[str] = []
    real = explorer_module.write_folder_copy

    def recorded(s, row, *args):
        written.append(row.path)
        return real(s, row, *args)

    monkeypatch.setattr(explorer_module, "write_folder_copy", recorded)
    notes: list[str] = []
    window.explorer.note.connect(notes.append)
    monkeypatch.setattr(explorer_module, "DRAG_MAX_ENTRIES", 0)  # any folder with something in it
    md = m.mimeData([m.index_for_path("opt/app")])
    t = time.perf_counter()
    urls = md.urls()
    took = time.perf_counter() - t
    assert urls == [] and written == [] and took < 0.2
    assert notes and "/opt/app holds more than 0 entries" in notes[-1] and "use Export" in notes[-1]
    monkeypatch.setattr(explorer_module, "DRAG_MAX_ENTRIES", 500)
    monkeypatch.setattr(explorer_module, "DRAG_MAX_BYTES", 1)
    assert m.mimeData([m.index_for_path("opt/app")]).urls() == [] and written == []
    assert "holds" in notes[-1] and "use Export" in notes[-1]
    monkeypatch.setattr(explorer_module, "DRAG_MAX_BYTES", 8_000_000)
    (url,) = m.mimeData([m.index_for_path("opt/app")]).urls()  # a small one is copied as before
    assert written == ["opt/app"] and (Path(url.toLocalFile()) / "config.ini").is_file()


def _same_views(path: Path) -> int:
    a = open_archive(path)
    checked = 0
    try:
        for image in a.images:
            s = load(a, image)
            for layer in range(len(s.layers) - 1):
                derived = s.view(layer, own_changes=False)
                assert isinstance(derived, LevelView)
                merged = MergedView(merge(s.layers, upto=layer, archive=a))
                paths = sorted(merged.paths())
                assert sorted(derived.paths()) == paths
                assert derived.children("") == merged.children("")
                for p in paths:
                    assert derived.children(p) == merged.children(p), p
                    assert derived.row(p) == merged.row(p), p
                    assert derived.changed(p) == merged.changed(p), p
                with pytest.raises(KeyError):
                    derived.row("no/such/path")
                checked += len(paths)
    finally:
        a.close()
    return checked


def test_lower_merged_views_equal_a_merge_up_to_the_layer(tmp_path):
    """Files over folders and back, whiteouts of folders and files, opaque folders, a folder deleted
    and made again by one layer, sizes changing under deep folders."""
    img = Image(
        [
            Layer([Dir("a"), Dir("a/b"), File("a/b/f", b"1" * 10), File("a/g", b"22"), File("x", b"x" * 5)]),
            Layer([File("a/b", b"now a file"), Dir("x"), File("x/y", b"yy"), Dir("o"), File("o/k", b"k")]),
            Layer([Whiteout("a/b"), Dir("a/b"), File("a/b/new", b"n" * 7), Opaque("o"), File("o/m", b"mm")]),
            Layer([Whiteout("x"), File("x", b"file again"), Symlink("l", "a/g"), File("a/g", b"333")]),
            Layer([Whiteout("a"), File("a", b"a is a file"), File("z/deep/er/still/f", b"d" * 100)]),
        ],
        tags=["t/level:1"],
    )
    assert _same_views(build(img, tmp_path / "level.tar", "docker25")) > 0


@pytest.mark.parametrize("name", ["umoci-edge.oci.tar", "docker26-edge.save.tar", "podman-multi.docker.tar"])
def test_lower_merged_views_of_real_images_equal_a_merge(name):
    need_shared()
    assert _same_views(REAL / name) > 0
