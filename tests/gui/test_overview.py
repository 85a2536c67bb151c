"""The overview (issue 18): shown in the File tab when an image opens, before anything is selected;
its biggest folders and wasted items are links to them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl

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
    qtbot.waitUntil(lambda: w.explorer.space.overview.overview is not None, timeout=TIMEOUT)
    return w


def test_overview_is_shown_before_a_selection(window):
    ov = window.explorer.space.overview
    fp = window.file_panel
    assert fp.pages.currentWidget() is ov
    text = ov.text.toPlainText()
    o = ov.overview
    assert o.layers == len(window.session.layers)
    for want in (
        "BusyBox",
        f"{o.files:,}",
        human_size(o.compressed_bytes),
        "Biggest folders",
        "Biggest waste",
    ):
        assert want in text
    assert 1 <= len(o.biggest_folders) <= 5 and 1 <= len(o.biggest_waste) <= 5
    assert len(ov.links) == len(o.biggest_folders) + len(o.biggest_waste)


def test_a_biggest_folder_is_clickable(window, qtbot):
    ov = window.explorer.space.overview
    folder = ov.overview.biggest_folders[0].path
    ov.activate(next(h for h in ov.links if h.startswith("folder:")))
    qtbot.waitUntil(lambda: window.tree.current_path() == folder, timeout=TIMEOUT)
    assert window.file_panel.pages.currentIndex() == 0  # the row's details now
    window.explorer.go_back()  # Alt+Left: back at the top, nothing selected
    qtbot.waitUntil(lambda: window.tree.current_path() in ("", None), timeout=TIMEOUT)
    assert window.file_panel.pages.currentWidget() is ov  # the overview again, not the folder's details


def test_a_wasted_item_is_clickable_and_back_returns(window, qtbot):
    ov = window.explorer.space.overview
    w = ov.overview.biggest_waste[0]
    before = window.explorer.shown_place()
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        k = ov.links.index(f"waste:{w.stored_in}:{w.path}")
        ov.text.anchorClicked.emit(QUrl(f"link:{k}"))  # as a click on the link does
    place = window.explorer.shown_place()
    assert (place.layer, place.own_changes, place.path) == (w.stored_in, True, w.path)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.explorer.go_back()
    assert window.explorer.shown_place() == before


def test_links_take_the_theme_s_link_colour_and_notes_are_plain(window, qtbot):
    """A live switch to the dark theme writes the overview again with the dark palette's link colour
    (its links were dark blue on dark); a note shown after links is not in a link's format."""
    from PySide6.QtGui import QPalette

    from layerscope.gui import theme

    ov = window.explorer.space.overview
    was = theme.current()
    try:
        theme.apply("dark")
        qtbot.waitUntil(
            lambda: (
                theme.dark_palette().color(QPalette.ColorRole.Link).name()
                in ov.text.document().defaultStyleSheet()
            ),
            timeout=TIMEOUT,
        )
        assert ov.links  # written again, links and all
    finally:
        theme.apply(was)
    ov.show_overview(None, reading=True)
    cursor = ov.text.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    assert not cursor.charFormat().isAnchor()
