"""Your place is kept (issue 13, items 3 and 5, the filter and the path bar): the selected file and
the open folders survive layer and mode switches, jumps can be undone with Back/Forward (keys, mouse
buttons, menu), the Menu key opens the menu of the current row, the filter counts its matches and
steps through them, Escape clears it, a bad regex says so and clears the old results, and the path
bar's parts select their folders. Driven on the bundled sample image and the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt, QThread, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.core.views import FileView
from layerscope.gui.models import PATH_ROLE
from layerscope.gui.navigation import History, Place
from layerscope.gui.panels import file_tree
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared

TIMEOUT = 30000
APP = "srv/app/app.py"  # in layers 1, 2 and 3 of the sample; not in layer 0


@pytest.fixture
def sample():
    with resource_path(SAMPLE_IMAGE) as p:
        yield p


@pytest.fixture
def window(qtbot, sample):
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(sample))
    assert w.session is not None, w.error
    return w


def wait_view(qtbot, w, action):
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        action()


def current(w) -> str:
    return w.tree.current_path()


def step_timeline(qtbot, w, key):
    """Press Up or Down in the timeline and wait for the layer it selects."""
    before = w.current_layer
    w.timeline.setFocus()
    wait_view(qtbot, w, lambda: QTest.keyClick(w.timeline, key))
    assert w.current_layer != before


# ---- the history itself -----------------------------------------------------------------------------
def test_history_goes_back_and_forward_like_a_browser():
    h = History(limit=3)
    a, b, c, d = (Place(i, False, f"p{i}") for i in range(4))
    assert h.back(a) is None and not h.can_go_back()
    assert h.record(a) and not h.record(a)  # the same place twice is one entry
    h.record(b)
    assert h.back(c) == b and h.back(b) == a and h.back(a) is None
    assert h.forward(a) == b and h.forward(b) == c and h.forward(c) is None
    h.back(c)  # at b, c ahead
    h.record(b)  # a new jump from b: what was ahead is forgotten
    assert not h.can_go_forward()
    for p in (a, b, c, d):
        h.record(p)
    assert [h.back(Place(9, True)), h.back(a), h.back(a), h.back(a)] == [d, c, b, None]  # limit 3


# ---- the place survives view changes -------------------------------------------------------------------
def test_stepping_through_layers_keeps_the_file_and_the_open_folders(window, qtbot):
    w = window
    assert w.expand_path(APP)
    w.tree.expand(w.tree_model.index_for_path("etc"))
    assert w.current_layer == 3
    step_timeline(qtbot, w, Qt.Key.Key_Up)  # layer 2
    assert w.current_layer == 2 and current(w) == APP
    assert w.file_panel.row is not None and w.file_panel.row.path == APP  # the details follow
    assert w.tree.isExpanded(w.tree_model.index_for_path("etc"))  # other open folders stay open
    assert w.explorer.path_bar.path == APP
    step_timeline(qtbot, w, Qt.Key.Key_Up)  # layer 1: Up skips the history steps with no layer
    assert w.current_layer == 1 and current(w) == APP
    step_timeline(qtbot, w, Qt.Key.Key_Up)  # layer 0: no /srv/app there; its nearest folder
    assert w.current_layer == 0 and current(w) == "srv"
    assert "/srv/app/app.py is not in the merged filesystem of layer #0" in w.explorer.path_bar.note.text()
    assert "/srv/app/app.py is not in the merged filesystem of layer #0" in w.status.text()
    step_timeline(qtbot, w, Qt.Key.Key_Down)  # back in layer 1: the file the user chose, again
    assert w.current_layer == 1 and current(w) == APP
    assert w.explorer.path_bar.note.text() == ""
    assert "is not in" not in w.status.text()  # the status bar's note is taken down too
    wait_view(qtbot, w, w.mode_layer.click)  # layer 1's own changes added it: still selected
    assert current(w) == APP and w.tree_model.view.layer_view
    wait_view(qtbot, w, lambda: w.select_layer(3))  # layer 3 did not touch /srv: the top
    assert current(w) == "" and "own changes of layer #3" in w.explorer.path_bar.note.text()
    wait_view(qtbot, w, w.mode_merged.click)
    assert current(w) == APP


def test_a_history_entry_click_keeps_the_file_selected(window, qtbot):
    w = window
    assert w.expand_path(APP)
    history = w.file_panel.history
    layers = [history.item(i).data(Qt.ItemDataRole.UserRole) for i in range(history.count())]
    assert 1 in layers
    item = history.item(layers.index(1))
    wait_view(
        qtbot,
        w,
        lambda: QTest.mouseClick(
            history.viewport(), Qt.MouseButton.LeftButton, pos=history.visualItemRect(item).center()
        ),
    )
    assert w.current_layer == 1 and current(w) == APP


def test_reopening_folders_visits_only_the_open_folders(window, qtbot, monkeypatch):
    """A new view re-opens the remembered folders without walking the image: only the folders that
    were open (and the wanted path's) are listed."""
    w = window
    assert w.expand_path("srv/app/static")
    listed: list[str] = []
    real = FileView.children
    monkeypatch.setattr(FileView, "children", lambda self, p: listed.append(p) or real(self, p))
    wait_view(qtbot, w, lambda: w.select_layer(2))
    assert current(w) == "srv/app/static"
    assert set(listed) <= {"", "srv", "srv/app", "srv/app/static"}, set(listed)


def test_hide_unmodified_keeps_the_selection(window, qtbot):
    w = window
    wait_view(qtbot, w, lambda: w.select_layer(1))
    assert w.expand_path(APP)
    w.hide_unmodified.click()
    assert current(w) == APP  # layer 1 added it: still shown, still selected
    w.hide_unmodified.click()
    assert current(w) == APP


# ---- Back and Forward ---------------------------------------------------------------------------------
def test_back_and_forward_after_layer_changes_and_jumps(window, qtbot):
    w = window
    ex = w.explorer
    assert w.expand_path(APP)
    assert not ex.back_action.isEnabled()
    wait_view(qtbot, w, lambda: w.select_layer(1))
    assert ex.back_action.isEnabled() and "layer #3 (merged) /srv/app/app.py" in ex.back_action.toolTip()
    wait_view(qtbot, w, lambda: w.go_to_path("etc/passwd"))  # a jump within the view
    assert current(w) == "etc/passwd"
    w.tree.setFocus()
    QTest.keyClick(w.tree, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # Alt+Left
    assert (w.current_layer, current(w)) == (1, APP)
    wait_view(qtbot, w, lambda: QTest.keyClick(w.tree, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier))
    assert (w.current_layer, current(w)) == (3, APP)
    assert not ex.back_action.isEnabled() and ex.forward_action.isEnabled()
    wait_view(qtbot, w, lambda: QTest.keyClick(w.tree, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier))
    assert (w.current_layer, current(w)) == (1, APP)
    QTest.keyClick(w.tree, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert (w.current_layer, current(w)) == (1, "etc/passwd")
    # the mouse's back and forward buttons, anywhere on the window
    where = w.tree.viewport().mapTo(w, QPoint(20, 20))
    QTest.mouseClick(w.windowHandle(), Qt.MouseButton.BackButton, Qt.KeyboardModifier.NoModifier, where)
    assert current(w) == APP
    QTest.mouseClick(w.windowHandle(), Qt.MouseButton.ForwardButton, Qt.KeyboardModifier.NoModifier, where)
    assert current(w) == "etc/passwd"
    # and the Go menu
    go = {a.text().replace("&", ""): a for a in w.commands.go_menu.actions()}
    assert {"Back", "Forward", "Next Match", "Previous Match", "Expand All Changes"} <= set(go)
    go["Back"].trigger()
    assert current(w) == APP


def test_back_after_following_a_symlink(window, qtbot):
    w = window
    assert w.expand_path("etc/os-release")  # → ../usr/lib/os-release
    assert 'href="jump:usr/lib/os-release"' in w.file_panel.info.text()
    wait_view(qtbot, w, lambda: w.file_panel.info.linkActivated.emit("jump:usr/lib/os-release"))
    assert current(w) == "usr/lib/os-release"
    assert w.tree.isExpanded(w.tree_model.index_for_path("etc"))  # the folder left stays open
    w.explorer.go_back()
    assert current(w) == "etc/os-release"
    w.explorer.go_forward()
    assert current(w) == "usr/lib/os-release"


def test_back_after_a_wasted_path_click(window, qtbot):
    w = window
    assert w.expand_path("etc/passwd")
    wait_view(qtbot, w, lambda: w.waste_panel.path_requested.emit("srv/app/data/big.bin", 1))
    assert (w.current_layer, w.tree_model.view.layer_view, current(w)) == (1, True, "srv/app/data/big.bin")
    wait_view(qtbot, w, w.explorer.go_back)
    assert (w.current_layer, w.tree_model.view.layer_view, current(w)) == (3, False, "etc/passwd")
    assert not w.mode_layer.isChecked()  # the buttons say what the tree shows


def test_a_new_file_starts_a_new_history(window, qtbot):
    need_shared()
    w = window
    wait_view(qtbot, w, lambda: w.select_layer(1))
    assert w.explorer.back_action.isEnabled()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "umoci-edge.oci.tar")
    assert not w.explorer.back_action.isEnabled() and current(w) == ""


# ---- the Menu key ---------------------------------------------------------------------------------------
def keyboard_menu(widget):
    """What Qt sends for the Menu key (QWidgetWindow::handleContextMenuEvent): a Keyboard context
    menu event at the centre of the focus widget's cursor rectangle, in the widget's coordinates."""
    pos = widget.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle).center()
    QApplication.sendEvent(
        widget, QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, pos, widget.mapToGlobal(pos))
    )


def test_the_menu_key_opens_the_menu_of_the_current_row(window, qtbot):
    w = window
    tree = w.tree
    tree.setFocus()
    assert w.expand_path("etc/hostname")
    below = tree.indexBelow(tree.currentIndex()).data(PATH_ROLE)
    keyboard_menu(tree)
    assert tree.menu_path == "etc/hostname" != below
    assert any("/etc/hostname" in a.text() for a in tree.context_menu.actions())
    tree.context_menu.close()
    tree.menu_path = None
    QTest.keyClick(tree, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert tree.menu_path == "etc/hostname"
    tree.context_menu.close()
    # the mouse still gets the row under it
    rect = tree.visualRect(tree.model().index(0, 0, QModelIndex()))
    QApplication.sendEvent(
        tree.viewport(),
        QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, rect.center(), tree.viewport().mapToGlobal(rect.center())
        ),
    )
    assert tree.menu_path == tree.model().index(0, 0, QModelIndex()).data(PATH_ROLE)
    tree.context_menu.close()


def test_the_menu_key_in_the_timeline_opens_the_menu_of_the_current_layer(window, qtbot):
    w = window
    tl = w.timeline
    tl.setFocus()
    wait_view(qtbot, w, lambda: w.select_layer(1))
    row = tl.currentIndex().row()
    keyboard_menu(tl)
    assert tl.menu_row == row
    assert any("layer #1" in a.text() for a in tl.context_menu.actions())
    tl.context_menu.close()
    tl.menu_row = None
    QTest.keyClick(tl, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert tl.menu_row == row
    tl.context_menu.close()


# ---- the filter -------------------------------------------------------------------------------------------
def test_filter_counts_matches_and_steps_through_them(window, qtbot):
    w = window
    bar = w.explorer.matches
    w.search.setText("app")
    qtbot.waitUntil(lambda: bool(bar.hits), timeout=TIMEOUT)
    hits = bar.hits
    assert len(hits) > 3 and bar.isVisible()
    qtbot.waitUntil(lambda: not w.tree.expanding, timeout=TIMEOUT)  # the folders open in slices
    shown, idx = [], w.tree_model.index(0, 0)
    while idx.isValid():  # every row of the filtered tree, top to bottom
        shown.append(idx.data(PATH_ROLE))
        idx = w.tree.indexBelow(idx)
    assert [p for p in shown if p in set(hits)] == hits  # Next goes down the tree, not by path
    assert hits != sorted(hits)
    assert current(w) == hits[0]
    assert bar.label.text().startswith(f"1 of {len(hits)} matches")
    w.tree.setFocus()
    QTest.keyClick(w.tree, Qt.Key.Key_F3)
    assert current(w) == hits[1] and bar.label.text().startswith("2 of")
    QTest.keyClick(w.tree, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(w.tree, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)  # wraps to the last
    assert current(w) == hits[-1]
    bar.next_action.trigger()
    assert current(w) == hits[0]


def test_escape_clears_the_filter(window, qtbot):
    w = window
    assert w.expand_path("usr/lib")
    top = w.tree_model.rowCount()
    w.search.setFocus()
    w.search.setText("passwd")
    qtbot.waitUntil(lambda: current(w) == "etc/passwd", timeout=TIMEOUT)
    assert w.tree_model.rowCount() == 1
    QTest.keyClick(w.search, Qt.Key.Key_Escape)
    assert w.search.text() == "" and not w.explorer.matches.isVisible()
    qtbot.waitUntil(lambda: w.tree_model.rowCount() == top, timeout=TIMEOUT)
    assert current(w) == "etc/passwd"  # the match stays selected
    assert w.tree.isExpanded(w.tree_model.index_for_path("usr/lib"))  # the folders open before
    # Escape in the tree too
    w.search.setText("passwd")
    qtbot.waitUntil(lambda: w.tree_model.rowCount() == 1, timeout=TIMEOUT)
    w.tree.setFocus()
    QTest.keyClick(w.tree, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.tree_model.rowCount() == top and w.search.text() == "", timeout=TIMEOUT)


def test_an_invalid_regex_says_why_and_clears_the_old_results(window, qtbot):
    w = window
    bar = w.explorer.matches
    top = w.tree_model.rowCount()
    w.search.setText("passwd")
    qtbot.waitUntil(lambda: w.tree_model.rowCount() == 1, timeout=TIMEOUT)
    w.regex.setChecked(True)
    w.search.setText("pass(wd")
    qtbot.waitUntil(lambda: bar.error != "", timeout=TIMEOUT)
    assert bar.isVisible() and "Invalid regular expression" in bar.label.text()
    assert "missing )" in bar.label.text()
    assert bar.hits == [] and not bar.next_action.isEnabled()
    assert w.tree_model.rowCount() == top  # the old results are gone
    w.search.setText("pass(wd)")
    qtbot.waitUntil(lambda: bar.hits == ["etc/passwd"], timeout=TIMEOUT)
    assert bar.error == "" and "1 of 1 match " in bar.label.text() + " "


def test_filter_keeps_a_selected_hit_across_layers(window, qtbot):
    w = window
    bar = w.explorer.matches
    w.search.setText("app.py")
    qtbot.waitUntil(lambda: bool(bar.hits), timeout=TIMEOUT)
    assert current(w) == APP
    with qtbot.waitSignal(w.controller.matches, timeout=TIMEOUT):
        w.select_layer(2)
    assert current(w) == APP and bar.hits == [APP]


# ---- expand all changes, the path bar ----------------------------------------------------------------
def test_expand_all_changes_opens_the_folders_of_a_layers_changes(window, qtbot):
    w = window
    ex = w.explorer
    assert not ex.expand_changes_action.isEnabled()  # merged view
    wait_view(qtbot, w, lambda: w.select_layer(1))
    wait_view(qtbot, w, w.mode_layer.click)
    assert ex.expand_changes_action.isEnabled()
    with qtbot.waitSignal(ex.note, timeout=TIMEOUT) as note:
        ex.expand_changes_action.trigger()
    m = w.tree_model
    folders = [p for p in w.tree_model.view.paths() if w.tree_model.view.row(p).children]
    assert all(w.tree.isExpanded(m.index_for_path(p)) for p in folders)
    assert f"Expanded {len(folders)} folders" in note.args[0]
    wait_view(qtbot, w, lambda: w.select_layer(2))
    with qtbot.waitSignal(w.tree.changes_expanded, timeout=TIMEOUT) as done:
        w.tree.expand_all_changes(limit=2)  # bounded, and says so
    assert done.args == [2, True]


def test_expanding_many_folders_lets_the_window_answer(window, qtbot, monkeypatch):
    """Expand all changes opens folders in slices, the event loop running between them."""
    monkeypatch.setattr(file_tree, "EXPAND_SLICE_S", 0.0)  # one folder a slice
    w = window
    wait_view(qtbot, w, lambda: w.select_layer(1))
    wait_view(qtbot, w, w.mode_layer.click)
    ticks, seen = [0], []  # the timer's ticks so far, at each folder opened
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start(0)
    w.tree.expanded.connect(lambda _i: seen.append(ticks[0]))
    w.explorer.expand_all_changes()
    assert w.tree.expanding  # returned after the first folder
    qtbot.waitUntil(lambda: not w.tree.expanding, timeout=TIMEOUT)
    timer.stop()
    assert len(seen) > 3 and len(set(seen)) > len(seen) // 2  # the timer ran between folders


def test_the_path_bar_shows_the_selection_and_its_parts_select_their_folders(window, qtbot):
    w = window
    bar = w.explorer.path_bar
    long = "srv/app/static/js/" + w.session.view(3, own_changes=False).children("srv/app/static/js")[0]
    assert w.expand_path(long)
    texts = [b.text() for b in bar.crumbs]
    assert texts[:5] == ["/", "srv", "app", "static", "js"] and "…" in texts[5]  # a long name is cut
    assert bar.crumbs[-1].toolTip() == "Select /" + long
    bar.resize(120, bar.height())  # too narrow: the end in sight, a "…" for the start
    qtbot.waitUntil(lambda: bar.clipped.isVisible(), timeout=5000)
    bar.resize(2000, bar.height())
    qtbot.waitUntil(lambda: not bar.clipped.isVisible(), timeout=5000)
    wait_view(qtbot, w, bar.crumbs[2].click)  # "app"
    assert current(w) == "srv/app" and [b.text() for b in bar.crumbs] == ["/", "srv", "app"]
    assert [b.font().bold() for b in bar.crumbs] == [False, False, True]  # the path's own crumb
    w.explorer.go_back()  # a breadcrumb is a jump
    assert current(w) == long
    wait_view(qtbot, w, bar.crumbs[0].click)  # the root: nothing selected
    assert current(w) == "" and len(bar.crumbs) == 1


def test_a_cancelled_open_keeps_the_place_of_the_image_shown(window, qtbot, monkeypatch, sample):
    import layerscope.gui.controller as controller_module
    from layerscope.core.errors import Cancelled

    w = window
    assert w.expand_path(APP)
    w.tree.expand(w.tree_model.index_for_path("etc"))

    def endless_load(archive, image, progress=None, cancelled=None, on_layers=None, cache=None, keep=True):
        while not cancelled():
            QThread.msleep(10)
        raise Cancelled()

    monkeypatch.setattr(controller_module, "load", endless_load)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        with qtbot.waitSignal(w.controller.loading, timeout=TIMEOUT):
            w.open_path(Path(sample))
        assert w.tree_model.view is None  # the tree waits for the image being read
        w.cancel()
    assert current(w) == APP and w.tree.isExpanded(w.tree_model.index_for_path("etc"))


def test_the_same_file_reopened_keeps_the_place(window, qtbot, sample):
    w = window
    assert w.expand_path(APP)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(sample))
    assert current(w) == APP and w.explorer.path_bar.path == APP


def test_a_long_note_in_the_path_bar_never_widens_its_pane(qtbot):
    """The note beside the breadcrumbs is elided to the room it gets (whole in its tooltip): a long
    one asked for its full width, widened the tree's pane and moved the splitters."""
    from layerscope.gui.panels.path_bar import PathBar

    pb = PathBar()
    qtbot.addWidget(pb)
    pb.resize(300, 28)
    pb.show()
    pb.show_path("opt/app", "")
    before = (pb.minimumSizeHint().width(), pb.sizeHint().width())
    note = "/opt/python is not in the merged filesystem of layer #0: showing /opt"
    pb.show_path("opt/app", note)
    assert (pb.minimumSizeHint().width(), pb.sizeHint().width()) == before
    assert pb.note.text() == note and note in pb.note.toolTip()
