"""The file tree model as a dive user meets it: sort orders, the permissions and owner columns,
tooltips, "Hide unmodified", dragging folders out; it stays a correct Qt model throughout."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest

from layerscope.core.archive.open import open_archive
from layerscope.core.session import LoadedImage, load
from layerscope.core.views import FileView
from layerscope.gui import settings
from layerscope.gui.models import (
    CHANGE,
    LAYER,
    NAME,
    OWNER,
    PATH_ROLE,
    PERMISSIONS,
    SIZE,
    TREE_COLUMNS,
    TREE_DRAG_FORMAT,
    FileTreeModel,
    natural_key,
)
from layerscope.gui.panels.drop_zone import local_paths
from layerscope.gui.panels.file_tree import FileTreePanel
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared
from tests.imagebuilder import Dir, File, Image, Layer, Symlink, build

TIMEOUT = 30000
Display = Qt.ItemDataRole.DisplayRole


@pytest.fixture(autouse=True)
def _app(qapp):
    """Models need a QApplication (style icons, palette)."""


def session_of(path: Path) -> LoadedImage:
    a = open_archive(path)
    return load(a, a.images[0])


@pytest.fixture(scope="module")
def names_image(tmp_path_factory: pytest.TempPathFactory) -> LoadedImage:
    """Names that sort wrong as plain text, sizes that sort wrong as text, modes and owners."""
    base = Layer(
        [
            Dir("d"),
            *(File(f"d/f{n}", b"x" * n) for n in (1, 2, 10, 100)),
            File("d/F3", b"x" * 3),
            Dir("d/sub10"),
            Dir("d/sub9"),
            File("d/big", b"y" * 2500, mode=0o4755, uid=1000, gid=50, uname="app", gname="staff"),
            Symlink("d/link", "f1"),
            Dir("etc"),
            File("etc/hosts", b"127.0.0.1 localhost\n"),
            File("etc/motd", b"hello\n"),
        ]
    )
    # layer 1 lists etc/hosts again unchanged (Unmodified) and changes etc/motd and adds a file
    top = Layer([Dir("etc"), File("etc/hosts", b"127.0.0.1 localhost\n"), File("etc/motd", b"bye\n"),
                 File("etc/new", b"new\n")])  # fmt: skip
    path = build(Image([base, top]), tmp_path_factory.mktemp("names") / "names.tar", "docker25")
    return session_of(path)


def model_of(view: FileView) -> FileTreeModel:
    m = FileTreeModel()
    m.set_view(view)
    return m


def children(m: FileTreeModel, path: str, col: int = NAME) -> list[str]:
    parent = m.index_for_path(path) if path else QModelIndex()
    if m.canFetchMore(parent):
        m.fetchMore(parent)
    return [m.data(m.index(r, col, parent), Display) for r in range(m.rowCount(parent))]


def visible(m: FileTreeModel, parent: QModelIndex | None = None) -> list[str]:
    parent = parent or QModelIndex()
    out = []
    if m.canFetchMore(parent):
        m.fetchMore(parent)
    for r in range(m.rowCount(parent)):
        idx = m.index(r, 0, parent)
        out.append(m.data(idx, PATH_ROLE))
        out.extend(visible(m, idx))
    return out


# ---- sorting -------------------------------------------------------------------------------------
def test_natural_key_orders_numbers_as_numbers():
    names = ["f100", "f10", "F3", "f2", "f1", "f01"]
    assert sorted(names, key=natural_key) == ["f01", "f1", "f2", "F3", "f10", "f100"]


def test_names_sort_naturally_folders_first_both_ways(names_image, qtmodeltester):
    m = model_of(names_image.view(0, False))
    assert children(m, "d") == ["sub9", "sub10", "big", "f1", "f2", "F3", "f10", "f100", "link → f1"]
    m.sort(NAME, Qt.SortOrder.DescendingOrder)
    assert children(m, "d") == ["sub10", "sub9", "link → f1", "f100", "f10", "F3", "f2", "f1", "big"]
    qtmodeltester.check(m)


def test_sizes_sort_by_bytes_and_resorting_is_stable(names_image):
    m = model_of(names_image.view(0, False))
    first = children(m, "d")
    m.sort(SIZE, Qt.SortOrder.DescendingOrder)
    by_size = children(m, "d")
    # 2.5 kB before 100 bytes before 10 bytes (as text "100 bytes" < "2.5 kB" < "3 bytes")
    assert by_size[:4] == ["big", "f100", "f10", "F3"]
    # equal sizes (the empty folders, the link) keep name order
    assert by_size[-3:] == ["link → f1", "sub9", "sub10"]
    m.sort(LAYER, Qt.SortOrder.AscendingOrder)
    m.sort(SIZE, Qt.SortOrder.DescendingOrder)
    assert children(m, "d") == by_size
    m.sort(NAME, Qt.SortOrder.AscendingOrder)
    assert children(m, "d") == first


def test_size_sort_starts_descending_on_first_click(names_image, qtbot):
    tree = FileTreePanel(lambda paths: [])
    qtbot.addWidget(tree)
    tree.resize(900, 400)
    tree.show()
    tree.show_view(names_image.view(0, False))
    tree.expand_path("d")
    header = tree.header()
    x = header.sectionViewportPosition(SIZE) + header.sectionSize(SIZE) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert header.sortIndicatorSection() == SIZE
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert children(tree.tree_model, "d")[0] == "big"  # the largest first
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder


def test_sort_touches_only_loaded_children(names_image):
    """Sorting re-orders the folders already loaded; nothing else of the image is read."""
    view = names_image.view(0, False)
    asked: list[str] = []
    real_row = view.row
    view.row = lambda p: (asked.append(p), real_row(p))[1]  # type: ignore[method-assign]
    m = model_of(view)
    m.rowCount()
    m.sort(SIZE, Qt.SortOrder.DescendingOrder)
    m.sort(NAME, Qt.SortOrder.AscendingOrder)
    assert set(asked) == {"d", "etc"}


# ---- columns and tooltips ------------------------------------------------------------------------
def test_permissions_and_owner_columns(names_image, qtmodeltester):
    m = model_of(names_image.view(0, False))
    assert [m.headerData(c, Qt.Orientation.Horizontal) for c in (PERMISSIONS, OWNER)] == [
        "Permissions",
        "UID:GID",
    ]
    idx = m.index_for_path("d/big")
    assert m.data(idx.siblingAtColumn(PERMISSIONS), Display) == "-rwsr-xr-x"
    assert m.data(idx.siblingAtColumn(OWNER), Display) == "1000:50"
    assert m.data(m.index_for_path("d").siblingAtColumn(PERMISSIONS), Display) == "drwxr-xr-x"
    assert m.data(m.index_for_path("d/link").siblingAtColumn(PERMISSIONS), Display) == "lrwxrwxrwx"
    m.sort(PERMISSIONS, Qt.SortOrder.DescendingOrder)
    assert children(m, "d")[0] == "big"
    m.sort(OWNER, Qt.SortOrder.DescendingOrder)
    assert children(m, "d")[0] == "big"
    qtmodeltester.check(m)


def test_every_cell_has_the_full_details_as_tooltip(names_image):
    m = model_of(names_image.view(1, True))
    idx = m.index_for_path("etc/motd")
    tips = {m.data(idx.siblingAtColumn(c), Qt.ItemDataRole.ToolTipRole) for c in range(len(TREE_COLUMNS))}
    assert len(tips) == 1
    tip = tips.pop()
    want = ("/etc/motd", "Type: file", "Size: 4 bytes", "Mode: -rw-r--r-- (0644)", "Layer: #1")
    for part in (*want, "Owner (UID:GID): 0:0", "Change: modified"):
        assert part in tip, (part, tip)
    big = m_top = model_of(names_image.view(0, False))
    tip = big.data(m_top.index_for_path("d/big"), Qt.ItemDataRole.ToolTipRole)
    assert "Size: 2.5 kB (2,500 bytes)" in tip and "Owner (UID:GID): 1000:50 (app:staff)" in tip
    assert "(4755)" in tip
    tip = big.data(m_top.index_for_path("d/link"), Qt.ItemDataRole.ToolTipRole)
    assert "Type: symbolic link" in tip and "Link target: f1" in tip
    tip = big.data(m_top.index_for_path("d"), Qt.ItemDataRole.ToolTipRole)
    assert "Type: folder" in tip and "(9 items directly inside)" in tip


def test_columns_hide_from_the_header_menu_and_stay_hidden(names_image, qtbot):
    tree = FileTreePanel(lambda paths: [])
    qtbot.addWidget(tree)
    menu = tree.columns.menu()
    titles = [a.text() for a in menu.actions()]
    assert titles == list(TREE_COLUMNS[1:])  # Name cannot be hidden
    owner = next(a for a in menu.actions() if a.text() == "UID:GID")
    owner.setChecked(False)
    assert tree.header().isSectionHidden(OWNER)
    assert settings.TREE_HIDDEN_COLUMNS.get() == ["UID:GID"]
    again = FileTreePanel(lambda paths: [])
    qtbot.addWidget(again)
    assert again.header().isSectionHidden(OWNER) and not again.header().isSectionHidden(PERMISSIONS)
    shown = next(a for a in again.columns.menu().actions() if a.text() == "UID:GID")
    assert not shown.isChecked()
    shown.setChecked(True)
    assert settings.TREE_HIDDEN_COLUMNS.get() == []


# ---- hide unmodified -----------------------------------------------------------------------------
def test_hide_unmodified_in_a_layers_changes_hides_unmodified_rows(names_image, qtmodeltester):
    m = model_of(names_image.view(1, True))
    assert visible(m) == ["etc", "etc/hosts", "etc/motd", "etc/new"]
    m.set_hide_unmodified(True)
    assert visible(m) == ["etc", "etc/motd", "etc/new"]
    qtmodeltester.check(m)


def test_hide_unmodified_in_merged_keeps_what_the_layer_changed(names_image, qtmodeltester):
    m = model_of(names_image.view(1, False))
    everything = visible(m)
    assert "d/big" in everything and "etc/hosts" in everything
    m.set_hide_unmodified(True)
    assert visible(m) == ["etc", "etc/motd", "etc/new"]
    m.set_view(names_image.view(0, False))  # the bottom layer added everything it has
    assert m.hide_unmodified and visible(m) == visible(model_of(names_image.view(0, False)))
    qtmodeltester.check(m)  # last: Qt's tester fetches inside a reset it watches


def test_hide_unmodified_changes_the_rows_shown_on_a_real_image(qtbot):
    """The checkbox used to change nothing: merged rows are never Unmodified."""
    need_shared()
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "docker20-edge.save.tar")
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.timeline.selectRow(w.timeline_model.row_of_layer(2))
    assert not w.mode_layer.isChecked()
    before = visible(w.tree_model)
    w.hide_unmodified.setChecked(True)
    after = visible(w.tree_model)
    assert 0 < len(after) < len(before)
    assert after == ["opt", "opt/app", "opt/app/config.ini"]  # what layer 2 changed, and its folders
    w.hide_unmodified.setChecked(False)
    assert visible(w.tree_model) == before


# ---- dragging out --------------------------------------------------------------------------------
def test_dragging_a_folder_out_delivers_a_copy_of_it(qtbot):
    need_shared()
    w = MainWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "docker20-edge.save.tar")
    m = w.tree_model
    calls: list[list[str]] = []
    write = m.materialize
    assert write is not None
    m.materialize = lambda paths: (calls.append(paths), write(paths))[1]
    idx = m.index_for_path("opt/app")
    md = m.mimeData([idx, idx.siblingAtColumn(SIZE)])
    assert md.hasUrls() and md.hasFormat(TREE_DRAG_FORMAT)
    assert local_paths(md) == []  # not taken for an archive dropped on the window
    assert calls == []  # nothing copied until a drop target asks
    urls = md.urls()
    assert calls == [["opt/app"]]
    assert len(urls) == 1
    copy = Path(urls[0].toLocalFile())
    assert copy.is_dir() and copy.name == "app"
    assert (copy / "config.ini").is_file()
    assert md.urls() == urls  # copied once, however often a target asks
    # a file still arrives as a file
    f = m.index_for_path("opt/app/config.ini")
    copy = Path(m.mimeData([f]).urls()[0].toLocalFile())
    assert copy.is_file() and copy.name == "config.ini"
    # from a layer's own changes, the folder holds what that layer wrote there
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.timeline.selectRow(w.timeline_model.row_of_layer(2))
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.mode_layer.click()
    copy = Path(m.mimeData([m.index_for_path("opt/app")]).urls()[0].toLocalFile())
    assert sorted(p.name for p in copy.iterdir()) == ["config.ini"]


def test_model_checks_on_every_real_image_view(qtmodeltester):
    need_shared()
    s = session_of(REAL / "umoci-edge.oci.tar")
    for layer in range(len(s.layers)):
        for own in (False, True):
            for hide in (False, True):
                m = model_of(s.view(layer, own))
                m.set_hide_unmodified(hide)
                visible(m)
                for col in (SIZE, CHANGE, NAME):
                    m.sort(col, Qt.SortOrder.DescendingOrder)
                qtmodeltester.check(m)


def test_a_folder_too_big_to_copy_here_is_refused_with_a_note(qtbot, monkeypatch):
    need_shared()
    import layerscope.gui.content as content
    import layerscope.gui.panels.explorer as explorer

    monkeypatch.setattr(content, "MAX_FOLDER_COPY_BYTES", 10)
    monkeypatch.setattr(explorer, "MAX_FOLDER_COPY_BYTES", 10)
    w = MainWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "docker20-edge.save.tar")
    notes: list[str] = []
    w.explorer.note.connect(notes.append)
    md = w.tree_model.mimeData([w.tree_model.index_for_path("opt/app")])
    assert md.urls() == []
    assert notes and "/opt/app holds 22 bytes" in notes[0] and "Export" in notes[0]


# ---- painting: one call into Python per cell (gui/cells.py) ----------------------------------------
def test_a_painted_cell_is_one_call_with_the_same_values_as_data(names_image, qtbot):
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTreeView

    calls = {"data": 0, "multiData": 0}

    class Counting(FileTreeModel):
        def data(self, *a):
            calls["data"] += 1
            return super().data(*a)

        def multiData(self, *a):
            calls["multiData"] += 1
            return super().multiData(*a)

    m = Counting()
    m.set_view(names_image.view(1, False))
    view = QTreeView()
    qtbot.addWidget(view)
    view.setModel(m)
    view.resize(700, 400)
    view.expandAll()
    view.show()
    qtbot.waitExposed(view)
    calls.update(data=0, multiData=0)
    view.grab()  # paints every visible cell
    assert calls["multiData"] >= len(TREE_COLUMNS)  # rows were painted...
    assert calls["data"] == 0  # ...through multiData only: one entry into Python per cell
    d = QStyledItemDelegate()
    for path in ("d/big", "d/link", "etc/motd", "etc/new"):
        row = m.index_for_path(path)
        for col in range(len(TREE_COLUMNS)):
            idx = row.siblingAtColumn(col)
            o = QStyleOptionViewItem()
            d.initStyleOption(o, idx)  # what a delegate paints, asked through multiData
            assert o.text == (m.data(idx, Display) or "")
            assert o.backgroundBrush == m.data(idx, Qt.ItemDataRole.BackgroundRole)
            assert o.font.strikeOut() == bool(
                (f := m.data(idx, Qt.ItemDataRole.FontRole)) is not None and f.strikeOut()
            )
