"""The Waste tab's groups (issue 18) on real images: by folder and by the layer that hid it, with
totals equal to the headline's figure, each path with its sentence; a click shows the path in the
layer that stored it, and Back returns; the models pass qtmodeltester."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex

from layerscope.core.display import human_size
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared

TIMEOUT = 30000
IMAGE = "docker26-edge.save.tar"


@pytest.fixture
def window(qtbot):
    need_shared()
    w = MainWindow()
    w.ask_image = lambda _archive: 0
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / IMAGE)
    qtbot.waitUntil(lambda: w.explorer.space.flow.info is not None, timeout=TIMEOUT)
    return w


def all_rows(model, parent=None):
    parent = parent or QModelIndex()
    out = []
    for r in range(model.rowCount(parent)):
        i = model.index(r, 0, parent)
        out.append(i)
        out += all_rows(model, i)
    return out


def test_groups_total_the_headline(window):
    panel = window.waste_panel
    s = window.session
    total = s.figures.wasted_bytes
    assert total > 0
    assert human_size(total) in panel.headline.text()
    assert "(dive)" in panel.headline.text() and "LayerScope" in panel.headline.text()
    assert "dive does not" in panel.headline.toolTip() or "dive" in panel.headline.toolTip()
    for model in (panel.by_folder, panel.by_cause):
        assert model.total() == total
    root = panel.by_folder.waste.by_folder.folder("")
    assert root.bytes == total
    # every folder's total is what the paths below it add up to
    m = panel.by_folder
    for i in all_rows(m):
        v = m.node(i).value
        if hasattr(v, "items") and hasattr(v, "path") and isinstance(v.items, int):
            below = [m.item(j) for j in all_rows(m, i) if m.item(j) is not None]
            assert sum(w.size for w in below) == v.bytes


def test_each_path_says_why(window):
    panel = window.waste_panel
    for model in (panel.by_folder, panel.by_cause):
        items = [i for i in all_rows(model) if model.item(i) is not None]
        assert items
        for i in items:
            why = model.index(i.row(), 3, i.parent()).data()
            assert why == model.item(i).why and why.startswith("stored")
    causes = [panel.by_cause.index(r, 0) for r in range(panel.by_cause.rowCount())]
    assert all(c.data().startswith("hidden by #") for c in causes)


def test_click_shows_it_in_the_storing_layer_and_back_returns(window, qtbot):
    panel = window.waste_panel
    m = panel.by_cause
    panel.views.setCurrentWidget(panel.cause_tree)
    item = next(i for i in all_rows(m) if m.item(i) is not None)
    w = m.item(item)
    before = window.explorer.shown_place()
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        panel.cause_tree.clicked.emit(item)
    place = window.explorer.shown_place()
    assert (place.layer, place.own_changes, place.path) == (w.stored_in, True, w.path)
    assert window.tree.current_path() == w.path
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.explorer.back_action.trigger()
    assert window.explorer.shown_place() == before


def test_group_models_pass_modeltester(window, qtmodeltester):
    panel = window.waste_panel
    for model in (panel.by_folder, panel.by_cause):
        qtmodeltester.check(model, force_py=True)


def test_timeline_bars(window):
    model = window.timeline_model
    s = window.session
    for li in s.layers:
        bar = model.layer_bar(li.index)
        assert bar is not None and bar.visible + bar.shadowed + bar.deleted == bar.stored
    hid = [li.index for li in s.layers if model.layer_bar(li.index).hidden]
    assert hid
    row = model.row_of_layer(hid[0])
    tip = model.index(row, 1).data(3)  # ToolTipRole
    assert "still visible" in tip and "hidden" in tip
