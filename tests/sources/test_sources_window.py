"""The window opens images where they live: the Open from Docker / Podman dialog lists the real
engine's images, the chosen one loads with the reference in the title and the status bar, and a
missing engine is one sentence in the dialog while the window stays usable."""

from __future__ import annotations

import pytest

from layerscope.core.sources.reference import SourceKind
from layerscope.gui import settings
from layerscope.gui.panels.source_dialogs import EngineImagesDialog
from layerscope.gui.panels.source_flow import engine_rows
from layerscope.gui.window import MainWindow

from .daemons import Engine

TIMEOUT = 60000


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERSCOPE_SETTINGS", str(tmp_path / "settings.ini"))


@pytest.mark.parametrize("engine_fixture", ["dockerd", "podman_service"])
def test_engine_dialog_lists_and_the_window_opens_the_choice(engine_fixture, request, qtbot, monkeypatch):
    engine: Engine = request.getfixturevalue(engine_fixture)
    for k, v in engine.env.items():
        monkeypatch.setenv(k, v)
    kind = SourceKind.DOCKER_DAEMON if engine_fixture == "dockerd" else SourceKind.PODMAN
    dlg = EngineImagesDialog(None, kind, lambda: engine_rows(kind))
    qtbot.addWidget(dlg)
    want = engine.images[0]
    qtbot.waitUntil(lambda: dlg.model.rowCount() > 0, timeout=TIMEOUT)
    names = {dlg.model.item(r, 0).text() for r in range(dlg.model.rowCount())}
    assert {im.listed for im in engine.images} <= names
    dlg.filter.setText(want.listed)
    dlg.table.setCurrentIndex(dlg.proxy.index(0, 0))
    ref = dlg.chosen()
    assert ref == f"{kind}:{want.listed}"

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_reference(ref)
    assert w.session is not None, w.controller.error
    assert w.windowTitle() == f"{ref} — LayerScope"
    words = "the Docker engine" if kind is SourceKind.DOCKER_DAEMON else "Podman"
    assert f"(from {words})" in w.status_panel.status.text()
    qtbot.waitUntil(lambda: settings.recent_files()[:1] == [ref])  # written on the next turn
    assert w.controller.path is None and w.controller.source is not None


def test_a_missing_engine_is_one_sentence_and_the_window_stays_usable(qtbot, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    dlg = EngineImagesDialog(None, SourceKind.DOCKER_DAEMON, lambda: engine_rows(SourceKind.DOCKER_DAEMON))
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: "none.sock" in dlg.status.text(), timeout=TIMEOUT)
    assert "\n" not in dlg.status.text() and dlg.refresh.isEnabled()
    w = MainWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.controller.failed, timeout=TIMEOUT) as sig:
        w.open_reference("docker-daemon:corpus/bbase:1")
    assert "none.sock" in sig.args[0]
    assert w.session is None and w.windowTitle() == "LayerScope"
