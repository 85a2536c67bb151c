"""The treemap (issue 18) on real images: it is laid out off the GUI thread, a click selects the path
in the tree, a double-click zooms and Back returns, a layer's own changes are shown the same way, PNG
and SVG exports are valid files, and a new image supersedes the job of the old one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from layerscope.core.space.usage import usage_of_layer, usage_of_tree
from layerscope.gui.space_flow import Treemap
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared

TIMEOUT = 30000
IMAGE = "docker26-edge.save.tar"
OTHER = "umoci-edge.docker.tar"


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.ask_image = lambda _archive: 0
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    return w


def load(qtbot, w, name):
    need_shared()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / name)


def complete(panel, folder=""):
    tm = panel.view.treemap
    return tm is not None and tm.folder == folder


def shown(qtbot, w, folder=""):
    panel = w.explorer.space.treemap
    qtbot.waitUntil(lambda: complete(panel, folder), timeout=TIMEOUT)
    return panel


def centre(panel, tile):
    r = panel.view.tile_rect(tile)
    return r.center().toPoint()


def test_treemap_toggle_and_click_selects_in_tree(window, qtbot):
    load(qtbot, window, IMAGE)
    space = window.explorer.space
    assert not space.treemap.isVisible()
    space.treemap_action.trigger()  # View > Treemap, Ctrl+T
    assert space.treemap.isVisible()
    assert space.treemap_action in window.commands.view_menu.actions()
    panel = shown(qtbot, window)
    tm = panel.view.treemap
    s = window.session
    assert tm.usage.bytes("") == usage_of_tree(s.tree).bytes("") > 0
    assert tm.size == (panel.view.width(), panel.view.height())
    # every named tile is the layer colour of a path the tree holds
    files = [t for t in tm.tiles if t.path is not None and not t.folder]
    assert files
    target = max(files, key=lambda t: t.rect.w * t.rect.h)
    assert target.layer == s.tree.nodes[target.path].layer
    assert "layer #" in panel.view.describe(target) and "/" + target.path in panel.view.describe(target)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        qtbot.mouseClick(panel.view, Qt.MouseButton.LeftButton, pos=centre(panel, target))
    assert window.tree.current_path() == target.path
    assert window.file_panel.row is not None and window.file_panel.row.path == target.path


def test_double_click_zooms_and_back_returns(window, qtbot):
    load(qtbot, window, IMAGE)
    window.explorer.space.show_treemap(True)
    panel = shown(qtbot, window)
    root = panel.view.treemap
    folders = [t for t in root.tiles if t.folder and t.depth == 0]
    big = max(folders, key=lambda t: t.bytes)
    qtbot.mouseDClick(panel.view, Qt.MouseButton.LeftButton, pos=centre(panel, big))
    # QTest's double click ends with the button down for QApplication.mouseButtons(): a later test's
    # keyboard selection then read as a click (the Findings table waits for ``clicked``)
    qtbot.mouseRelease(panel.view, Qt.MouseButton.LeftButton, pos=centre(panel, big))
    assert QApplication.mouseButtons() == Qt.MouseButton.NoButton
    shown(qtbot, window, big.path)
    assert panel.path_bar.path == big.path
    assert all(t.parent == big.path or t.parent.startswith(big.path + "/") for t in panel.view.treemap.tiles)
    assert panel.back_action.isEnabled() and panel.up_action.isEnabled()
    panel.back_action.trigger()
    assert not window.explorer.space.flow.busy  # Back shows the picture kept of the root: no job
    shown(qtbot, window, "")
    assert panel.view.treemap is root
    assert panel.path_bar.path == "" and not panel.back_action.isEnabled()
    # the path bar goes up too
    panel.zoom(big.path)
    shown(qtbot, window, big.path)
    panel.path_bar.crumbs[0].click()
    shown(qtbot, window, "")


def test_layer_changes_treemap(window, qtbot):
    load(qtbot, window, IMAGE)
    window.explorer.space.show_treemap(True)
    shown(qtbot, window)
    s = window.session
    layer = 0
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.controller.show(layer, True)
    panel = window.explorer.space.treemap
    qtbot.waitUntil(
        lambda: complete(panel) and panel.view.treemap.own and panel.view.treemap.top == layer,
        timeout=TIMEOUT,
    )
    tm = panel.view.treemap
    assert tm.usage.bytes("") == usage_of_layer(s.tree, layer).bytes("")
    assert {t.layer for t in tm.tiles if t.path is not None} <= {layer}


def test_png_and_svg_exports_are_valid(window, qtbot, tmp_path):
    load(qtbot, window, IMAGE)
    window.explorer.space.show_treemap(True)
    panel = shown(qtbot, window)
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    assert panel.export_png(png)
    img = QImage(str(png))
    assert not img.isNull() and (img.width(), img.height()) == panel.view.treemap.size
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert panel.export_svg(svg)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > len(panel.view.treemap.tiles)


def test_a_new_image_supersedes_the_job(window, qtbot):
    load(qtbot, window, IMAGE)
    space = window.explorer.space
    space.show_treemap(True)
    shown(qtbot, window)
    got: list[tuple[Treemap, object]] = []
    space.flow.treemap_ready.connect(lambda tm: got.append((tm, window.session)))
    panel = space.treemap
    old = window.session
    panel.zoom("opt")  # its job is under way when the next image replaces it
    assert space.flow.busy
    load(qtbot, window, OTHER)
    assert window.session is not old
    qtbot.waitUntil(lambda: complete(panel), timeout=TIMEOUT)
    qtbot.wait(300)
    new = window.session
    # nothing of the old image's job arrived once the new image was shown
    assert all(tm.folder == "" and tm.top == len(new.layers) - 1 for tm, s in got if s is new)
    assert panel.place is not None and panel.place.path == "" and panel.place.layer == len(new.layers) - 1
    assert panel.view.treemap.usage.bytes("") == usage_of_tree(new.tree).bytes("")
    # a request superseded by the next one is never shown
    got.clear()
    w, h = panel.view.width(), panel.view.height()
    from layerscope.gui.panels.treemap import current_look

    space.flow.request(len(new.layers) - 1, False, "", w - 10, h, current_look())
    space.flow.request(len(new.layers) - 1, False, "", w - 20, h, current_look())
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    qtbot.wait(200)
    assert {tm.size for tm, _ in got} == {(w - 20, h)}


def test_resize_shows_the_old_picture_then_lays_out_again(window, qtbot):
    load(qtbot, window, IMAGE)
    window.explorer.space.show_treemap(True)
    panel = shown(qtbot, window)
    old = panel.view.treemap
    panel.view.resize(old.size[0] - 60, old.size[1] - 40)
    assert panel.view.treemap is old  # scaled until the new layout is there
    qtbot.waitUntil(
        lambda: complete(panel) and panel.view.treemap.size == (panel.view.width(), panel.view.height()),
        timeout=TIMEOUT,
    )
    t = panel.view.tile_at(QPointF(5, 20))
    assert t is not None


def test_a_new_image_with_as_many_layers_never_shows_the_old_picture(window, qtbot):
    # docker26-edge and buildah-run both have 7 layers: the place (top #6, merged, the root) is the
    # same, the picture is not
    load(qtbot, window, IMAGE)
    window.explorer.space.show_treemap(True)
    panel = shown(qtbot, window)
    old = panel.view.treemap
    seen: list[object] = []
    window.loaded.connect(lambda: seen.append(panel.view.treemap))
    load(qtbot, window, "buildah-run.docker.tar")
    assert seen and seen[0] is not old  # from the moment the new image is shown
    panel = shown(qtbot, window)
    assert panel.view.treemap is not old
    assert panel.view.treemap.usage.bytes("") == usage_of_tree(window.session.tree).bytes("")


def test_a_late_usage_of_the_old_image_is_never_kept_for_the_new_one(window, qtbot):
    load(qtbot, window, IMAGE)
    old = window.session
    load(qtbot, window, "buildah-run.docker.tar")  # as many layers: the same (top, own) key
    flow = window.explorer.space.flow

    class Job:
        @staticmethod
        def cancelled() -> bool:
            return False

    top = len(old.layers) - 1
    late = flow._usage_for(old, top, False, Job())  # an old job that ran on past the switch
    assert late.bytes("") == usage_of_tree(old.tree).bytes("")
    assert all(u is not late for u in flow._usages.values())
    mine = flow._usage_for(window.session, top, False, Job())
    assert mine.bytes("") == usage_of_tree(window.session.tree).bytes("")
    assert flow._usage_for(window.session, top, False, Job()) is mine  # kept for the image shown


def test_the_treemap_does_not_wait_for_the_lock_the_lower_layers_views_hold(window, qtbot):
    """prepare_views holds the session's views lock while its cancel checks wait for foreground work;
    the treemap's job is foreground work, so it must never ask for that lock (a deadlock otherwise)."""
    load(qtbot, window, IMAGE)
    space = window.explorer.space
    s = window.session
    space.flow._usages.clear()  # the top's usage is made again by the treemap's own job
    with s._views_lock:  # as prepare_views holds it
        space.treemap_action.trigger()
        panel = shown(qtbot, window)
    assert panel.view.treemap.usage.bytes("") == usage_of_tree(s.tree).bytes("")


def test_a_zoom_stays_across_layers_that_hold_the_folder_and_alt_left_steps_the_treemap_back(window, qtbot):
    """Stepping through the layers while zoomed on a folder keeps the zoom where the layer has the
    folder (the root where it has not); Alt+Left with the treemap focused goes back in its zooms,
    not in the tree's history."""
    load(qtbot, window, IMAGE)
    window.explorer.space.show_treemap(True)
    panel = shown(qtbot, window)
    s = window.session
    top = len(s.layers) - 1
    folder = max(
        (t for t in panel.view.treemap.tiles if t.folder and t.depth == 0), key=lambda t: t.bytes
    ).path
    panel.zoom(folder)
    shown(qtbot, window, folder)
    below = next(i for i in range(top - 1, -1, -1) if folder in s.merged_upto(i).nodes)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.controller.select_layer(below)
    qtbot.waitUntil(lambda: complete(panel, folder) and panel.view.treemap.top == below, timeout=TIMEOUT)
    assert panel.path_bar.path == folder
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.controller.select_layer(top)
    qtbot.waitUntil(lambda: complete(panel, folder) and panel.view.treemap.top == top, timeout=TIMEOUT)
    panel.zoom("")  # up to the root: the folder is the treemap's Back now
    shown(qtbot, window, "")
    tree_before = window.tree.current_path()
    panel.view.setFocus()
    qtbot.waitUntil(panel.view.hasFocus, timeout=TIMEOUT)
    window.explorer.back_action.trigger()  # Alt+Left
    shown(qtbot, window, folder)
    assert window.tree.current_path() == tree_before


def test_tiny_tiles_are_filled_without_outlines(qtbot):
    """A grid of 1 px outlines around tiles a few pixels wide read as mud: tiles under SMALL_TILE are
    filled only, those under FAINT_TILE get a faint outline, bigger ones the full line."""
    from PySide6.QtGui import QColor, QPainter

    from layerscope.core.space.squarify import Rect, Tile
    from layerscope.gui.panels.treemap import FAINT_TILE, SMALL_TILE, current_look, render

    look = current_look()
    tiny = Tile("a", "", Rect(10.0, 10.0, SMALL_TILE - 1, 40.0), 10, 0, 0, False)
    small = Tile("b", "", Rect(30.0, 10.0, FAINT_TILE - 2, 40.0), 10, 0, 0, False)
    big = Tile("c", "", Rect(60.0, 10.0, 40.0, 40.0), 10, 0, 0, False)
    img = QImage(120, 60, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    render(p, [tiny, small, big], look, 120, 60, "")
    p.end()
    fill, line = QColor(look.tints[0]), QColor(look.line)

    def at(x: int, y: int) -> QColor:
        return img.pixelColor(x, y)

    assert at(10, 30) == fill  # the tiny tile's left edge: its fill, no outline
    assert at(30, 30) not in (fill, line)  # the small one's edge: a faint line, between the two
    assert at(60, 30) == line


def test_a_kept_picture_superseded_before_it_is_shown_never_arrives(window, qtbot):
    """Back to a folder seen before shows its kept picture on the next turn of the event loop, unless
    another request, or another image (the flow stops), came first."""
    from layerscope.gui.panels.treemap import current_look

    load(qtbot, window, IMAGE)
    space = window.explorer.space
    space.show_treemap(True)
    panel = shown(qtbot, window)
    flow, top, look = space.flow, len(window.session.layers) - 1, current_look()
    w, h = panel.view.width(), panel.view.height()
    root = panel.view.treemap
    assert flow._pictures.get((top, False, "", w, h)) is not None  # kept
    space.show_treemap(False)  # the panel hidden asks for nothing itself: only these requests count
    qtbot.waitUntil(lambda: not flow.busy, timeout=TIMEOUT)
    got: list[Treemap] = []
    flow.treemap_ready.connect(got.append)
    flow.request(top, False, "", w, h, look)  # kept: shown on the next turn ...
    flow.request(top, False, "", w - 30, h, look)  # ... but another size is asked first
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    qtbot.wait(100)
    assert [tm.size for tm in got] == [(w - 30, h)] and root not in got
    got.clear()
    flow.request(top, False, "", w, h, look)  # kept again; then the flow stops (another image)
    flow._stop()
    qtbot.wait(100)
    assert got == []
