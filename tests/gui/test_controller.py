"""The window's state stays true to what it shows (issue 13, item 4): one controller owns every job,
superseded jobs are dropped, and a failed, cancelled or replaced open leaves a coherent window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import layerscope.gui.controller as controller_module
from layerscope.core.errors import Cancelled
from layerscope.gui.window import MainWindow
from tests.imagebuilder import Dir, File, Image, Layer, build

TIMEOUT = 30000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def images(tmp_path):
    """Two small images (a: three layers, b: two) and a two-image archive holding both."""
    a = Image(
        [
            Layer([Dir("etc"), File("etc/f1", b"one")]),
            Layer([File("etc/f2", b"two")]),
            Layer([File("etc/f1", b"uno")]),
        ],
        tags=["example.com/test/a:1"],
    )
    b = Image(
        [Layer([Dir("srv"), File("srv/g", b"g")]), Layer([File("srv/h", b"h")])],
        tags=["example.com/test/b:1"],
    )
    return {
        "a": build(a, tmp_path / "a.tar", "docker-legacy"),
        "b": build(b, tmp_path / "b.tar", "oci-archive"),
        "multi": build([a, b], tmp_path / "multi.tar", "docker25"),
    }


def load(qtbot, w, path):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(path))
    assert w.session is not None, w.error


def test_opening_with_layer_changes_active_shows_layer_changes(window, qtbot, images):
    load(qtbot, window, images["a"])
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.mode_layer.click()
    assert window.tree_model.view.layer_view
    load(qtbot, window, images["b"])
    # the button and the tree agree: both say "the top layer's own changes"
    assert window.mode_layer.isChecked() and not window.mode_merged.isChecked()
    assert window.tree_model.view.layer_view and window.tree_model.view.top == 1
    assert window.controller.own_changes


def test_a_failed_open_keeps_the_title_and_state_of_the_image_shown(window, qtbot, images, tmp_path):
    load(qtbot, window, images["a"])
    steps = window.timeline_model.rowCount()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive at all")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(junk)
    assert window.message.isVisible() and window.error
    assert window.path == images["a"] and window.session is not None
    assert window.windowTitle() == "a.tar — LayerScope"
    assert window.stack.currentIndex() == 1 and window.timeline_model.rowCount() == steps
    assert window.tree_model.view is window.controller.view and window.search.isEnabled()


def test_a_failed_first_open_leaves_the_drop_zone_and_a_plain_title(window, qtbot, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"x")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(junk)
    assert window.session is None and window.path is None
    assert window.stack.currentIndex() == 0 and window.windowTitle() == "LayerScope"


def test_status_messages_time_out_and_the_summary_comes_back(window, qtbot, images):
    load(qtbot, window, images["a"])
    summary = window.status.text()
    assert "3 layers" in summary
    window.status_panel.message_ms = 200
    window.search.setText("f1")
    qtbot.waitUntil(lambda: "match" in window.status.text(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.status.text() == summary, timeout=TIMEOUT)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.go_to_path("etc/nowhere")  # not there: a note, then the summary again
    qtbot.waitUntil(lambda: "not in the merged filesystem" in window.status.text(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.status.text() == summary, timeout=TIMEOUT)


def test_filter_and_its_note_are_cleared_on_a_new_image(window, qtbot, images):
    load(qtbot, window, images["a"])
    window.search.setText("f1")
    qtbot.waitUntil(lambda: "1 match for" in window.status.text(), timeout=TIMEOUT)
    load(qtbot, window, images["b"])
    assert window.search.text() == "" and window.controller.filter_text == ""
    assert "match" not in window.status.text() and "2 layers" in window.status.text()
    assert window.tree_model.rowCount() == 1  # /srv, unfiltered
    qtbot.wait(400)  # the filter's delay: nothing filters the new image behind the user's back
    assert "match" not in window.status.text() and window.tree_model._filter is None


def test_cancelling_the_image_chooser_restores_the_previous_image(window, qtbot, images):
    load(qtbot, window, images["a"])
    steps = window.timeline_model.rowCount()
    window.ask_image = lambda archive: None  # the user cancels the chooser
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(images["multi"])
    assert window.path == images["a"] and window.image.tags == ("example.com/test/a:1",)
    assert window.stack.currentIndex() == 1 and window.timeline_model.rowCount() == steps
    assert window.image_combo.count() == 1 and window.search.isEnabled()
    assert window.tree_model.view is window.controller.view
    assert window.windowTitle() == "a.tar — LayerScope" and not window.progress.isVisible()


def test_a_first_load_that_fails_leaves_no_image_named(window, qtbot, images, monkeypatch):
    """The archive opens, its image's read fails: the drop zone again, and the image box (which named
    the image being read) empty."""
    from layerscope.core.errors import LayerScopeError

    def broken(*_a, **_k):
        raise LayerScopeError("a.tar: layer 0 is damaged")

    monkeypatch.setattr(controller_module, "load", broken)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(images["a"])
    assert window.session is None and window.stack.currentIndex() == 0
    assert window.image_combo.count() == 0 and window.windowTitle() == "LayerScope"


def test_cancelling_the_image_chooser_in_an_empty_window_leaves_the_drop_zone(window, qtbot, images):
    window.ask_image = lambda archive: None
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(images["multi"])
    assert window.session is None and window.archive is None and window.path is None
    assert window.stack.currentIndex() == 0 and window.image_combo.count() == 0
    assert not window.progress.isVisible() and window.windowTitle() == "LayerScope"


def test_a_superseded_open_drops_its_signals(window, qtbot, images, monkeypatch):
    started = []

    def slow_load(archive, image, progress=None, cancelled=None, on_layers=None, cache=None, keep=True):
        started.append(archive.path.name)
        for i in range(2000):  # a load that only ends when cancelled (or after 20 s)
            progress("reading layer 1 of 1", i, 2000)
            if cancelled():
                raise Cancelled()
            time.sleep(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(controller_module, "load", slow_load)
    loaded = []
    window.loaded.connect(lambda: loaded.append(window.session))
    window.open_path(images["a"])
    qtbot.waitUntil(lambda: started == ["a.tar"], timeout=TIMEOUT)
    window.open_path(images["b"])  # cancels the first load
    qtbot.waitUntil(lambda: started == ["a.tar", "b.tar"], timeout=TIMEOUT)
    qtbot.wait(300)  # the first job's "cancelled" has arrived by now, and was dropped
    assert loaded == [] and window.progress.isVisible() and window.cancel_button.isVisible()
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.cancel_button.click()
    assert loaded == [None] and not window.progress.isVisible()
    assert window.status.text() == "Cancelled" and window.stack.currentIndex() == 0


def test_opening_twice_in_a_row_loads_the_second_once(window, qtbot, images):
    loaded = []
    window.loaded.connect(lambda: loaded.append(window.path))
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(images["a"])
        window.open_path(images["b"])
    qtbot.wait(300)
    assert loaded == [images["b"]] and len(window.session.layers) == 2
    assert not window.progress.isVisible() and window.windowTitle() == "b.tar — LayerScope"


def test_a_late_view_of_an_earlier_layer_is_dropped(window, qtbot, images):
    load(qtbot, window, images["a"])
    shown = []
    window.view_ready.connect(lambda: shown.append(window.tree_model.view.top))
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(0)
        window.select_layer(1)
    qtbot.wait(300)
    assert shown == [1] and window.current_layer == 1
    assert window.timeline.currentIndex().row() == window.timeline_model.row_of_layer(1)
