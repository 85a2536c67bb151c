"""The File panel names who removed a path, what it was and how much it held; the small words users
read: plurals, one unit system, the image picker, the Config value column, a failed "Open with"."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QFileSystemModel

from layerscope.core.archive.open import open_archive
from layerscope.core.session import LoadedImage, load
from layerscope.core.views import LayerView, MergedView
from layerscope.gui.models import LAYER_ROLE, PATH_ROLE, ROW_ROLE
from layerscope.gui.panels import details
from layerscope.gui.panels.details import FilePanel
from layerscope.gui.panels.json_view import JsonPanel
from layerscope.gui.panels.layer_info import layer_description
from layerscope.gui.panels.open_dialogs import DecimalSizes, ImagePicker, archive_file_dialog
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared

TIMEOUT = 30000


@pytest.fixture(scope="module")
def edge() -> LoadedImage:
    need_shared()
    a = open_archive(REAL / "umoci-edge.oci.tar")
    return load(a, a.images[0])


@pytest.fixture
def panel(qtbot):
    p = FilePanel()
    qtbot.addWidget(p)
    p.show()
    return p


def text_of(panel: FilePanel) -> str:
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(panel.info.text())
    return doc.toPlainText()


def test_removed_file_names_the_layer_that_removed_it(panel, edge):
    """/opt/app/cache/c1 was removed by layer #4 (it was stored by #0): not "removed in layer #0"."""
    row = LayerView(edge.tree, 4).row("opt/app/cache/c1")
    assert panel.show_row(edge, row)  # its bytes, still stored in layer #0, are previewed
    t = text_of(panel)
    assert "Removed in layer #4" in t, t
    assert "What was removed: a file of 3 bytes, stored by layer #0" in t, t
    assert "Mode: -rw-r--r-- (0644)" in t
    assert "layer #0" not in t.split("\n")[1]  # the removal line names the remover only
    assert "removed in layer #0" not in t.lower()
    # the panel cuts the long command; its tooltip has it whole, and the history entries theirs
    full = edge.image.layers[4].history.text
    assert len(full) > 100
    assert "…" in t and full in panel.info.toolTip()
    assert [panel.history.item(i).text().split()[:2] for i in range(panel.history.count())] == [
        ["#0", "added"],
        ["#4", "removed"],
    ]
    assert full in panel.history.item(1).toolTip()


def test_removed_folder_says_how_much_it_held(panel, edge):
    """/srv (removed by the top layer #7) held 300 kB in 3 entries: not "0 bytes below this folder"."""
    row = LayerView(edge.tree, 7).row("srv")
    assert not panel.show_row(edge, row)
    t = text_of(panel)
    assert "Removed in layer #7" in t
    assert (
        f"a folder from layer #{row.stored_in}, holding 300.0 kB (300,012 bytes) in 3 entries below it" in t
    )
    assert "0 bytes below" not in t and "0 entries" not in t
    assert panel.preview_note.text() == "removed folder, it held 3 entries: nothing left to show"


def test_the_parent_of_a_removal_shows_its_attributes_at_that_layer(panel, edge):
    """/opt/app, above /opt/app/cache/c1 that #4 removed, is not listed by #4's tar: its mode and owner
    are those it has at #4 (layer #0's entry), said to be so, not left empty."""
    panel.show_row(edge, LayerView(edge.tree, 4).row("opt/app"))
    t = text_of(panel)
    assert "modified in layer #4" in t
    assert "Not listed by layer #4: its attributes are layer #0's" in t
    assert "Mode: drwxr-xr-x (0755)" in t


def test_layer_links_in_the_removal_select_that_layer(panel, edge, qtbot):
    panel.show_row(edge, LayerView(edge.tree, 4).row("opt/app/cache/c1"))
    assert 'href="layer:4"' in panel.info.text() and 'href="layer:0"' in panel.info.text()
    with qtbot.waitSignal(panel.layer_requested) as sig:
        panel.info.linkActivated.emit("layer:0")
    assert sig.args == [0]


def test_plain_rows_one_size_and_plural_entries(panel, edge):
    row = MergedView(edge.tree).row("opt/app/config.ini")
    panel.show_row(edge, row)
    t = text_of(panel)
    assert "Size: 4 bytes" in t and "Bytes" not in t  # not "4 bytes (4 Bytes)"
    panel.show_row(edge, MergedView(edge.tree).row("opt/app/cache"))
    assert panel.preview_note.text() == "folder, 1 entry"  # not "1 entries"
    big = MergedView(edge.merged_upto(6)).row("srv")
    panel.show_row(edge, big)
    assert "Size: 300.0 kB (300,012 bytes) below this folder" in text_of(panel)


def test_window_tints_and_numbers_removed_rows_with_the_remover(qtbot):
    """In the top layer's own changes, /srv is numbered #7 (its remover), and the File panel says so."""
    need_shared()
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(REAL / "umoci-edge.oci.tar")
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.mode_layer.click()
    idx = w.tree_model.index(0, 0)
    assert w.tree_model.data(idx, PATH_ROLE) == "srv"
    assert w.tree_model.data(idx, LAYER_ROLE) == 7
    assert w.tree_model.data(idx, ROW_ROLE).stored_in == 1
    assert w.expand_path("srv")
    qtbot.waitUntil(lambda: "Removed in" in w.file_panel.info.text(), timeout=TIMEOUT)
    assert "held" in w.file_panel.preview_note.text()
    # the removed file of layer #4: its bytes (from layer #0) are shown, with who removed it
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.select_layer(4)
    qtbot.waitUntil(lambda: w.tree_model.rowCount() > 0, timeout=TIMEOUT)
    assert w.expand_path("opt/app/cache/c1")
    qtbot.waitUntil(lambda: w.file_panel.current_preview is not None, timeout=TIMEOUT)
    assert w.file_panel.current_preview.size == 3
    assert w.file_panel.preview_note.text().startswith("removed in layer #4; the bytes layer #0 stored")


def test_open_with_default_application_says_why_it_failed(panel, edge, qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(details, "scratch_folder", lambda _name: tmp_path)
    panel.show_row(edge, MergedView(edge.tree).row("opt/app/config.ini"))
    panel.open_url = lambda _url: False  # no application for the file
    with qtbot.waitSignal(panel.failed) as sig:
        assert panel.open_externally() is None
    assert "No application opened /opt/app/config.ini" in sig.args[0]
    assert panel.preview_note.text() == sig.args[0] and "color" in panel.preview_note.styleSheet()

    def refuse(*_a):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(details, "write_copy", refuse)
    with qtbot.waitSignal(panel.failed) as sig:
        assert panel.open_externally() is None
    assert "Could not copy /opt/app/config.ini out of the image" in sig.args[0]
    assert "Permission denied" in panel.preview_note.text()
    panel.clear()  # the next file starts with a plain note
    assert panel.preview_note.text() == "" and panel.preview_note.styleSheet() == ""


def test_open_with_default_application_succeeds_quietly(panel, edge, monkeypatch, tmp_path):
    monkeypatch.setattr(details, "scratch_folder", lambda _name: tmp_path)
    opened = []
    panel.open_url = lambda url: opened.append(url.toLocalFile()) or True
    panel.show_row(edge, MergedView(edge.tree).row("opt/app/config.ini"))
    out = panel.open_externally()
    assert out is not None and opened == [str(out)] and out.read_bytes() == b"v=2\n"


def test_json_counts_are_singular_when_one_and_the_value_column_is_wide(qtbot):
    p = JsonPanel("config")
    qtbot.addWidget(p)
    p.resize(1000, 500)
    p.show()
    long_value = "sha256:" + "ab" * 32
    raw = json.dumps({"one": [1], "pair": [1, 2], "obj": {"k": 1}, "d": long_value}).encode()
    p.set_document(raw)
    m = p.model
    cells = {m.index(r, 0).data(): m.index(r, 1).data() for r in range(m.rowCount())}
    assert cells["one"] == "[1 item]" and cells["pair"] == "[2 items]" and cells["obj"] == "{1 key}"
    assert p.tree.columnWidth(1) > 2 * p.tree.columnWidth(2) and p.tree.columnWidth(1) > 200  # not 95 px
    tip = m.index(3, 1).data(3)  # ToolTipRole: the full value
    assert long_value in tip and ".d" in tip
    assert p.note.text() == f"{len(raw)} bytes"


def test_image_picker_shows_every_tag_platform_layers_and_size(qtbot):
    need_shared()
    a = open_archive(REAL / "umoci-edge.multitag.docker.tar")
    dlg = ImagePicker(None, a)
    qtbot.addWidget(dlg)
    it = dlg.table.topLevelItem(0)
    assert it.text(1).split("\n") == list(a.images[0].tags)  # every tag, whole
    assert it.text(2) == "linux/amd64" and it.text(3) == "8"
    assert it.text(4) == "347.6 kB"
    assert "8 layers" in it.toolTip(1) and "example.org:5000/team/umoci-edge:v9" in it.toolTip(4)
    assert dlg.chosen() == 0
    b = open_archive(REAL / "podman-multi.docker.tar")
    dlg2 = ImagePicker(None, b)
    qtbot.addWidget(dlg2)
    rows = [dlg2.table.topLevelItem(i) for i in range(dlg2.table.topLevelItemCount())]
    assert [r.text(3) for r in rows] == ["3", "7", "1"]
    assert dlg2.label.text() == "podman-multi.docker.tar holds 3 images. Open which one?"
    dlg2.table.setCurrentItem(rows[2])
    assert dlg2.chosen() == 2


def test_file_dialog_sizes_are_decimal(qtbot, tmp_path):
    (tmp_path / "img.tar").write_bytes(b"\0" * 4100)
    dlg = archive_file_dialog(None)
    qtbot.addWidget(dlg)
    proxy = dlg.proxyModel()
    assert isinstance(proxy, DecimalSizes)
    src = proxy.sourceModel()
    assert isinstance(src, QFileSystemModel)
    with qtbot.waitSignal(src.directoryLoaded, timeout=TIMEOUT):
        dlg.setDirectory(str(tmp_path))
    sidx = src.index(str(tmp_path / "img.tar"), 1)
    assert proxy.mapFromSource(sidx).data() == "4.1 kB"  # Qt alone says "4.00 KiB"


def test_layer_tab_sizes_in_one_unit_system(edge):
    lines = layer_description(edge, 0)
    stored = next(x for x in lines if x.startswith("stored size:"))
    assert "kB (" in stored and "bytes)" in stored and "KiB" not in stored
