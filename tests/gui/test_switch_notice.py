"""A slow layer switch says so over the tree (the timeline already shows the new layer; the tree
still the old one), and says nothing for a fast one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from layerscope.core.session import LoadedImage
from layerscope.gui.panels.switch_notice import NOTICE_AFTER_MS
from layerscope.gui.window import MainWindow
from tests.imagebuilder import Dir, File, Image, Layer, build

TIMEOUT = 30000


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> MainWindow:
    img = Image(
        [
            Layer([Dir("etc"), File("etc/a", b"a")]),
            Layer([File("etc/b", b"b")]),
            Layer([File("etc/c", b"c")]),
        ]
    )
    path = build(img, tmp_path / "three.tar", "docker25")
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(path)
    assert w.session is not None, w.error
    return w


def test_a_slow_switch_shows_a_notice_until_the_view_arrives(window, qtbot, monkeypatch):
    real = LoadedImage.view

    def slow(self: LoadedImage, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.6)  # as right after a large image's load, while the background preparation runs
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LoadedImage, "view", slow)
    notice = window.explorer.switch_notice
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(0)
        qtbot.waitUntil(notice.isVisible, timeout=2000)
        assert "Showing layer #0 (merged)" in notice.text()
        assert notice.parent() is window.tree.viewport()
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=2000)
    assert window.tree_model.view is not None and window.tree_model.view.top == 0


def test_a_fast_switch_shows_nothing(window, qtbot):
    notice = window.explorer.switch_notice
    shown: list[bool] = []
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(1)
    qtbot.wait(NOTICE_AFTER_MS + 100)
    shown.append(notice.isVisible())
    assert shown == [False]


def _slow_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import layerscope.gui.controller as controller

    real = controller.load

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.6)  # as a large image's read
        return real(*args, **kwargs)

    monkeypatch.setattr(controller, "load", slow)


def test_reading_another_image_shows_none_of_the_old_one(window, qtbot, monkeypatch, tmp_path):
    """While another image is read, beside its timeline: no tree, picture, JSON or findings of the old
    one, the title names the new one, and the notice says Cancel goes back."""
    other = build(Image([Layer([Dir("srv"), File("srv/x", b"x")])]), tmp_path / "other.tar", "docker25")
    _slow_loads(monkeypatch)
    notice = window.explorer.switch_notice
    treemap = window.explorer.space.treemap
    window.explorer.space.show_treemap(True)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
        qtbot.waitUntil(notice.isVisible, timeout=2000)
        assert "Reading " in notice.text() and "Cancel goes back to three.tar" in notice.text()
        assert treemap.view.treemap is None  # no picture of the old image beside the new layers
        assert window.windowTitle() == "Reading other.tar… — LayerScope"
        assert window.explorer.tree.tree_model.view is None
        assert all(not p.raw.toPlainText() for p in window.explorer.documents.panels.values())
        assert window.status_panel.findings_button.isHidden()
        assert window.status_panel.warnings_button.isHidden() and window.status_panel._summary == ""
        box = window.commands.image_combo  # the image being read, and no other
        assert box.count() == 1 and box.itemData(0) is None and not box.isEnabled()
        assert window.controller.auditor.shown_report is None
        assert window.explorer.findings_panel.model.report is None
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=2000)
    assert window.controller.shown_name == "other.tar"


def test_a_cancelled_read_hides_the_notice_and_shows_the_old_image_again(
    window, qtbot, monkeypatch, tmp_path
):
    other = build(Image([Layer([Dir("srv"), File("srv/x", b"x")])]), tmp_path / "other.tar", "docker25")
    window.explorer.space.show_treemap(True)
    treemap = window.explorer.space.treemap
    qtbot.waitUntil(lambda: treemap.view.treemap is not None, timeout=TIMEOUT)
    _slow_loads(monkeypatch)
    notice = window.explorer.switch_notice
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
        qtbot.waitUntil(notice.isVisible, timeout=2000)
        window.controller.cancel()
    assert not notice.isVisible()
    assert window.controller.shown_name == "three.tar"
    assert window.windowTitle() == "three.tar — LayerScope"
    assert window.status_panel._summary != ""  # the image's summary again
    docs = window.explorer.documents.panels
    qtbot.waitUntil(lambda: bool(docs["manifest"].raw.toPlainText() and docs["config"].raw.toPlainText()))
    qtbot.waitUntil(lambda: window.controller.auditor.shown_report is not None, timeout=TIMEOUT)
    assert not window.status_panel.findings_button.isHidden()
    qtbot.waitUntil(lambda: treemap.view.treemap is not None, timeout=TIMEOUT)  # its picture again


def _audited(qtbot: Any, window: MainWindow) -> None:
    from layerscope.gui.auditor import AuditState

    a = window.controller.auditor
    qtbot.waitUntil(lambda: a.state is AuditState.DONE and a.report is not None, timeout=TIMEOUT)


def test_while_reading_the_old_report_bars_and_rerun_stay_away(window, qtbot, monkeypatch, tmp_path):
    """The old image's audit (done), its timeline bars and an "Audit all files" click during the read
    show nothing of the old image beside the new timeline; a cancelled read shows its report, bars,
    overview and waste rows again."""
    other = build(Image([Layer([Dir("srv"), File("srv/x", b"x")])]), tmp_path / "other.tar", "docker25")
    _audited(qtbot, window)
    c = window.controller
    space = window.explorer.space
    tl = window.explorer.timeline.timeline_model
    qtbot.waitUntil(lambda: space.flow.info is not None and c.waste_rows is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: tl.has_bars, timeout=TIMEOUT)
    _slow_loads(monkeypatch)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
        qtbot.waitUntil(lambda: c.reading, timeout=2000)
        assert c.auditor.withheld and c.auditor.shown_report is None
        assert window.status_panel.findings_button.isHidden()
        assert not tl.has_bars  # the old image's bars on the new layers would be wrong facts
        window.explorer.findings_panel.deep.setChecked(True)  # "Audit all files" while reading
        assert c.auditor.shown_report is None and not c.auditor.running  # (run once the read ends)
        window.controller.cancel()
    assert not c.auditor.withheld
    qtbot.waitUntil(lambda: c.auditor.shown_report is not None and c.auditor.report_deep, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: tl.has_bars, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: space.overview.overview is not None, timeout=TIMEOUT)
    assert c.waste_rows is not None


def test_the_window_keeps_the_merged_tree_after_the_load(window, qtbot, tmp_path, monkeypatch):
    """After a load, in the background, the merged tree and the folder records go into the cache:
    the next open of the same image neither merges nor sums its folders."""
    from layerscope.core import session as session_mod
    from layerscope.core import views as views_mod
    from layerscope.core.cache import settings as cache_settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # empty: only this image's files
    home = cache_settings.cache_dir()
    other = build(Image([Layer([Dir("srv"), File("srv/x", b"xy")])]), tmp_path / "kept.tar", "docker25")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
    qtbot.waitUntil(lambda: not window.controller.after_load.preparing, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.controller.after_load._keeping is None, timeout=TIMEOUT)
    assert list(home.glob("merge-*")) and list(home.glob("folders-*"))

    def no_merge(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("merged again")

    monkeypatch.setattr(session_mod, "merge", no_merge)
    monkeypatch.setattr(views_mod, "sum_folders", no_merge)
    before = window.controller.session
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
    assert window.controller.error is None
    assert window.controller.session is not None and window.controller.session is not before


def test_the_read_layers_sizes_reach_the_timeline_alone(window, qtbot, monkeypatch, tmp_path):
    """Once the layers of the image being read are indexed, their uncompressed sizes replace the
    archive's in its timeline; nothing else of the window is laid out again (``loading`` comes once)."""
    import layerscope.gui.controller as controller
    from layerscope.core.layers.index import load_image

    other = build(
        Image([Layer([Dir("srv"), File("srv/x", b"x" * 5000)]), Layer([File("srv/y", b"y" * 9000)])]),
        tmp_path / "other.tar",
        "oci-archive",
        compression="gzip",  # the archive's sizes (compressed) are not the read ones
    )
    real = controller.load
    indexed: list[dict[int, int]] = []

    def slow(archive: Any, image: Any, *args: Any, on_layers: Any = None, **kwargs: Any) -> Any:
        layers = load_image(archive, image)
        on_layers(layers)
        indexed.append({li.index: li.uncompressed_size for li in layers})
        time.sleep(0.6)
        return real(archive, image, *args, **kwargs)

    monkeypatch.setattr(controller, "load", slow)
    loadings: list[object] = []
    window.controller.loading.connect(lambda image, _sizes: loadings.append(image))
    model = window.explorer.timeline.timeline_model
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
        qtbot.waitUntil(lambda: bool(indexed) and model._sizes == indexed[0], timeout=TIMEOUT)
        assert window.controller.reading and window.explorer.tree.tree_model.view is None
    assert len(loadings) == 1
    archive_sizes = {d.index: d.size for d in window.session.image.layers}
    assert archive_sizes != indexed[0]  # so the timeline's sizes did change when the layers were read


def test_a_read_cancelled_during_the_old_images_preparation_prepares_it_again(
    window, qtbot, monkeypatch, tmp_path
):
    """The Waste rows (and the rest of the work after a load) of the image shown, stopped by the read
    of another that is then cancelled, are made again."""
    from layerscope.gui.panels.waste import WasteRows

    other = build(Image([Layer([Dir("srv"), File("srv/x", b"x")])]), tmp_path / "other.tar", "docker25")
    c = window.controller
    real = WasteRows.prepare.__func__  # type: ignore[attr-defined]
    calls: list[int] = []

    def slow(cls: Any, s: Any, cancelled: Any = None) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first: stopped by the read
            for _ in range(300):
                if cancelled is not None and cancelled():
                    break
                time.sleep(0.01)
        return real(cls, s, cancelled)

    monkeypatch.setattr(WasteRows, "prepare", classmethod(slow))
    c.waste_rows = None
    window.controller.after_load.prepare(c.session)
    qtbot.waitUntil(lambda: bool(calls), timeout=TIMEOUT)
    _slow_loads(monkeypatch)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(other)
        qtbot.waitUntil(lambda: c.reading, timeout=2000)
        c.cancel()
    qtbot.waitUntil(lambda: c.waste_rows is not None, timeout=TIMEOUT)
    assert len(calls) >= 2 and window.controller.shown_name == "three.tar"
