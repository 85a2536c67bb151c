"""Looking inside: file details and preview, JSON viewers, the waste panel, export from the window."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QApplication

from layerscope.core.archive.open import open_archive
from layerscope.core.layers.index import load_image
from layerscope.core.limits import PREVIEW_TEXT_CAP
from layerscope.core.preview import preview
from layerscope.gui.models import PATH_ROLE
from layerscope.gui.panels.json_view import PATH_ROLE as JSON_PATH_ROLE
from layerscope.gui.panels.json_view import jq_path
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared
from tests.imagebuilder import Dir, File, Image, Layer, build

TIMEOUT = 30000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    return w


def load(qtbot, w, path):
    with qtbot.waitSignals([w.loaded, w.documents.shown], timeout=TIMEOUT):  # documents: the next turn
        w.open_path(Path(path))
    assert w.session is not None, w.error


def select(qtbot, w, path):
    assert w.expand_path(path)
    qtbot.waitUntil(
        lambda: w.file_panel.current_preview is not None or "folder" in w.file_panel.preview_note.text(),
        timeout=TIMEOUT,
    )


def test_file_details_and_text_preview(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    select(qtbot, window, "opt/app/config.ini")
    info = window.file_panel.info.text()
    assert "/opt/app/config.ini" in info
    assert "-rw-------" in info and "(0600)" in info  # chmod 600 in layer 6
    assert "4 bytes" in info
    assert window.file_panel.current_preview.text == "v=2\n"
    history = [window.file_panel.history.item(i).text() for i in range(window.file_panel.history.count())]
    assert [h.split()[0] for h in history] == ["#0", "#2", "#6"]
    # a click on a history entry selects that layer
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.file_panel._history_item(window.file_panel.history.item(1))
    assert window.current_layer == 2


def test_xattrs_symlink_jump_and_preview_of_any_layer(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    select(qtbot, window, "opt/app/data/b.txt")
    assert "user.comment=hello xattr" in window.file_panel.info.text()
    # layer 0 stored another config.ini: its preview shows that layer's bytes
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(0)
    window.file_panel.current_preview = None
    select(qtbot, window, "opt/app/config.ini")
    assert window.file_panel.current_preview.text == "v=1\n"
    out = window.file_panel.open_externally()
    assert out.read_bytes() == b"v=1\n"


def test_binary_preview_is_hex_and_image_preview(window, qtbot, tmp_path):
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QColor, QImage

    qimg = QImage(4, 4, QImage.Format.Format_RGB32)
    qimg.fill(QColor("teal"))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    qimg.save(buf, "PNG")
    png = bytes(buf.data())
    img = build(
        Image([Layer([Dir("d"), File("d/bin", bytes(range(256)) * 4), File("d/p.png", png)])]),
        tmp_path / "img.tar",
        "docker-legacy",
    )
    load(qtbot, window, img)
    select(qtbot, window, "d/bin")
    p = window.file_panel.current_preview
    assert p.kind == "hex" and p.text.startswith("00000000  00 01 02 03")
    window.file_panel.current_preview = None
    select(qtbot, window, "d/p.png")
    assert window.file_panel.current_preview.kind == "image"
    assert window.file_panel.stack.currentIndex() == 1
    assert not window.file_panel.image.pixmap().isNull()


def test_large_text_file_previews_without_loading_it_whole(tmp_path, monkeypatch):
    big = ("line of text\n" * 500_000).encode()  # 6.5 MB
    path = build(Image([Layer([File("big.txt", big)])]), tmp_path / "img.tar", "oci-archive", "gzip")
    import layerscope.core.preview as pv

    asked = []
    real = pv.read_content

    def spy(archive, desc, entry, limit=None):
        asked.append(limit)
        return real(archive, desc, entry, limit)

    monkeypatch.setattr(pv, "read_content", spy)
    with open_archive(path) as a:
        (li,) = load_image(a, a.images[0])
        p = preview(a, li, li.entries[0])
    assert p.kind == "text" and p.truncated and p.shown == PREVIEW_TEXT_CAP and p.size == len(big)
    assert None not in asked and max(asked) == PREVIEW_TEXT_CAP  # never read whole
    assert "first 262,144 of 6,500,000 bytes" in p.note()


def _all_keys(doc, prefix=()):
    out = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add((*prefix, k))
            out |= _all_keys(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.add((*prefix, i))
            out |= _all_keys(v, (*prefix, i))
    return out


def test_config_json_model_shows_every_key_and_passes_modeltester(window, qtbot, qtmodeltester):
    need_shared()
    load(qtbot, window, REAL / "docker26-edge.save.tar")
    panel = window.json_panels["config"]
    qtmodeltester.check(panel.model)
    model = panel.model
    seen = set()

    def walk(parent):
        for r in range(model.rowCount(parent)):
            idx = model.index(r, 0, parent)
            seen.add(model.data(idx, JSON_PATH_ROLE))
            walk(idx)

    walk(QModelIndex())
    doc = json.loads(window.session.image.config_raw)
    assert seen == {jq_path(list(k)) for k in _all_keys(doc)}
    assert ".config.Env[0]" in seen and ".rootfs.diff_ids[6]" in seen
    for name in ("manifest", "index"):
        qtmodeltester.check(window.json_panels[name].model)


def test_copy_key_path_and_value_and_find(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    panel = window.json_panels["config"]
    model = panel.model
    cfg = next(model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data() == "config")
    env = next(
        model.index(r, 0, cfg) for r in range(model.rowCount(cfg)) if model.index(r, 0, cfg).data() == "Env"
    )
    panel.tree.setCurrentIndex(model.index(0, 0, env))
    panel.copy_key_path()
    assert QApplication.clipboard().text() == ".config.Env[0]"
    panel.copy_value()
    assert QApplication.clipboard().text() == "A=1"
    panel.find_edit.setText("diff_ids")
    assert panel.find_next()
    assert panel.current_path() == ".rootfs.diff_ids"
    assert (
        jq_path(["annotations", "org.opencontainers.image.ref.name"])
        == '.annotations["org.opencontainers.image.ref.name"]'
    )


def test_digest_links_select_layers(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    panel = window.json_panels["manifest"]
    digest = window.session.image.layers[3].digest
    assert panel.model.is_link(digest)
    assert panel.model.is_link(window.session.image.config_digest)  # a blob of this archive
    assert not panel.model.is_link("sha256:" + "0" * 64)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        panel.link_activated.emit(digest)
    assert window.current_layer == 3


def test_waste_panel_click_selects_the_path_at_the_wasting_layer(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    qtbot.waitUntil(lambda: window.controller.waste_rows is not None, timeout=TIMEOUT)  # made after the load
    wp = window.waste_panel
    assert "dive-compatible" in wp.figures.text() and "LayerScope" in wp.figures.text()
    assert wp.model.rowCount() == len(window.session.figures.wasted)
    top = wp.model.index(0, 0)
    assert top.data() == "/srv/blob.bin"  # sorted by wasted bytes, largest first
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        wp._clicked(top)
    qtbot.waitUntil(lambda: window.tree.currentIndex().data(PATH_ROLE) == "srv/blob.bin", timeout=TIMEOUT)
    assert window.current_layer == 0 and window.mode_layer.isChecked()


def test_export_layer_from_the_window_equals_cli_export(window, qtbot, tmp_path):
    need_shared()
    src = REAL / "docker20-edge.save.tar"
    load(qtbot, window, src)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.run_export("layer", 6, "", tmp_path / "gui")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "layerscope.core.cli",
            "export",
            str(src),
            "--layer",
            "6",
            "--to",
            str(tmp_path / "cli"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr

    def listing(root):
        return {
            p.relative_to(root).as_posix(): (
                p.read_bytes()
                if p.is_file() and not p.is_symlink()
                else str(p.readlink())
                if p.is_symlink()
                else "dir"
            )
            for p in sorted(root.rglob("*"))
        }

    assert listing(tmp_path / "gui") == listing(tmp_path / "cli")
    assert "WHITEOUTS.txt" in listing(tmp_path / "gui")
    assert "wrote" in window.status.text()


def test_export_node_and_as_stored_from_the_window(window, qtbot, tmp_path):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.run_export("path", None, "opt/app", tmp_path / "app.tar")
    import tarfile

    with tarfile.open(tmp_path / "app.tar") as t:
        assert "app/config.ini" in t.getnames()
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.run_export("stored", 0, "", tmp_path / "l0.tar.gz", compressed=True)
    assert (tmp_path / "l0.tar.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_drag_out_of_the_tree_exports_a_temporary_copy(window, qtbot):
    need_shared()
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    assert window.expand_path("opt/app/config.ini")
    md = window.tree_model.mimeData([window.tree.currentIndex()])
    (url,) = md.urls()
    assert Path(url.toLocalFile()).read_bytes() == b"v=2\n"


def test_layer_colours_follow_light_and_dark_palettes(qapp):
    from PySide6.QtGui import QColor, QPalette

    from layerscope.gui.colors import change_color, delta_e, is_dark, layer_color

    saved = qapp.palette()
    try:
        for window_colour in ("#f6f6f6", "#1e1e1e"):
            pal = QPalette()
            pal.setColor(QPalette.ColorRole.Window, QColor(window_colour))
            qapp.setPalette(pal)
            assert is_dark() == (window_colour == "#1e1e1e")
            tints = [layer_color(i) for i in range(12)]
            gaps = [delta_e(a, b) for i, a in enumerate(tints) for b in tints[i + 1 :]]
            assert min(gaps) >= 10  # any two of the first 12 layers differ visibly (CIEDE2000; test_look.py)
            assert change_color("added") != change_color("removed")
    finally:
        qapp.setPalette(saved)


def test_documents_follow_the_load_on_the_next_turn_and_only_the_last_image(window, qtbot):
    """The JSON tabs are filled on the event loop's turn after the load ends (a shorter freeze), with
    the image shown: one cleared or replaced before that turn is never filled in."""
    load(qtbot, window, REAL / "umoci-edge.oci.tar")
    docs = window.documents
    config = docs.panels["config"]
    assert json.loads(window.session.image.config_raw)["architecture"] in config.raw.toPlainText()
    docs.show_image(window.session)
    docs.clear("gone")
    qtbot.wait(50)
    assert config.raw.toPlainText() == "" and config.note.text() == "gone"
