"""Opening what is not a file, in the window: the registry dialog, the recent list of references, the
credentials a registry asks for (kept in memory unless "remember"), and references on the command line."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtWidgets import QDialog

from layerscope.core.sources.reference import SourceKind
from layerscope.gui import credentials, settings
from layerscope.gui.panels.source_dialogs import (
    DEFAULT_PLATFORM,
    EngineImagesDialog,
    EngineRow,
    RegistryDialog,
)
from layerscope.gui.window import MainWindow
from tests.imagebuilder import File, Image, Layer, build

TIMEOUT = 30000


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    credentials._session.clear()
    yield tmp_path / "config"
    credentials._session.clear()


def test_recent_list_keeps_references_and_prunes_missing_files(tmp_path):
    f = tmp_path / "a.tar"
    f.write_bytes(b"x")
    settings.add_recent(str(f))
    settings.add_recent("docker://localhost:5000/app:1")
    settings.add_recent("docker-daemon:corpus/x:1")
    settings.add_recent(str(tmp_path / "gone.tar"))
    (tmp_path / "gone.tar").unlink(missing_ok=True)
    assert settings.recent_files() == ["docker-daemon:corpus/x:1", "docker://localhost:5000/app:1", str(f)]
    assert settings.recent_references() == ["docker-daemon:corpus/x:1", "docker://localhost:5000/app:1"]


def test_registry_dialog_completes_from_recent_and_names_the_transport(qtbot):
    dlg = RegistryDialog(None, ["docker://ghcr.io/o/app:1", "podman:x:1", "docker://alpine:3.20"])
    qtbot.addWidget(dlg)
    assert dlg.reference.currentText() == "ghcr.io/o/app:1"
    assert [dlg.reference.itemText(i) for i in range(dlg.reference.count())] == [
        "ghcr.io/o/app:1",
        "alpine:3.20",
    ]
    dlg.reference.setCurrentText("localhost:5000/corpus/x:1")
    dlg.platform.setCurrentText("linux/arm64")
    c = dlg.choice()
    assert (c.reference, c.platform) == ("docker://localhost:5000/corpus/x:1", "linux/arm64")
    dlg.platform.setCurrentText(DEFAULT_PLATFORM)
    assert dlg.choice().platform is None


def test_registry_dialog_refuses_a_malformed_reference_in_place(qtbot):
    dlg = RegistryDialog(None, [])
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.reference.setCurrentText("Not Valid")
    dlg._accept()
    assert dlg.result() != QDialog.DialogCode.Accepted
    assert dlg.problem.isVisible() and "not a repository name" in dlg.problem.text()


def test_engine_dialog_lists_off_the_gui_thread_filters_and_sorts(qtbot, qtmodeltester):
    rows = [
        EngineRow("corpus/a:1", "sha256:" + "a" * 64, 5_000_000, 1_700_000_000),
        EngineRow("corpus/b:2", "sha256:" + "b" * 64, 1_000, 1_800_000_000),
        EngineRow("", "sha256:" + "c" * 64, 7, 0),
    ]
    dlg = EngineImagesDialog(None, SourceKind.DOCKER_DAEMON, lambda: rows)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.model.rowCount() == 3, timeout=TIMEOUT)
    qtmodeltester.check(dlg.proxy)
    assert dlg.chosen() == "docker-daemon:corpus/b:2"  # newest first
    dlg.filter.setText("CORPUS/A")
    assert dlg.proxy.rowCount() == 1
    dlg.table.setCurrentIndex(dlg.proxy.index(0, 0))
    assert dlg.chosen() == "docker-daemon:corpus/a:1"
    dlg.filter.clear()
    dlg.table.sortByColumn(2, dlg.table.header().sortIndicatorOrder().AscendingOrder)
    assert dlg.proxy.index(0, 0).data() == "(untagged) cccccccccccc"
    dlg.table.setCurrentIndex(dlg.proxy.index(0, 0))
    assert dlg.chosen() == "docker-daemon:sha256:" + "c" * 64


def test_engine_dialog_shows_why_listing_failed(qtbot):
    from layerscope.core.errors import LayerScopeError

    def fail() -> list[EngineRow]:
        raise LayerScopeError("cannot reach the Docker engine at /nowhere.sock: is dockerd running?")

    dlg = EngineImagesDialog(None, SourceKind.PODMAN, fail)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: "dockerd running" in dlg.status.text(), timeout=TIMEOUT)
    assert dlg.refresh.isEnabled() and dlg.chosen() is None


def test_credentials_stay_in_memory_unless_remembered(config_home):
    credentials.keep("reg.example:5000", "me:secret", remember=False)
    assert credentials.credentials_for("reg.example:5000") == "me:secret"
    assert not credentials.auth_file().exists()
    credentials.keep("reg.example:5000", "me:secret2", remember=True)
    f = credentials.auth_file()
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert "secret2" not in f.read_text()  # base64, as docker writes it; never the plain text
    credentials._session.clear()
    assert credentials.credentials_for("reg.example:5000") == "me:secret2"
    f.write_text("{broken")
    assert credentials.credentials_for("reg.example:5000") is None


def test_a_malformed_reference_fails_in_the_window_and_it_stays_usable(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.controller.failed, timeout=TIMEOUT) as sig:
        w.open_reference("docker://Bad/Name")
    assert "not a repository name" in sig.args[0]
    img = build(Image([Layer([File("etc/x", b"x")])]), tmp_path / "a.tar", "oci-archive")
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_reference(f"oci-archive:{img}")
    assert w.session is not None and w.windowTitle() == "a.tar — LayerScope"
    qtbot.waitUntil(lambda: settings.recent_files()[:1] == [str(img)])  # written on the next turn


def test_an_explicit_form_that_does_not_match_is_one_line(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    img = build(Image([Layer([File("etc/x", b"x")])]), tmp_path / "a.tar", "oci-archive")
    with qtbot.waitSignal(w.controller.failed, timeout=TIMEOUT) as sig:
        w.open_reference(f"docker-archive:{img}")
    assert "not a docker-archive" in sig.args[0] and "\n" not in sig.args[0]
    assert w.session is None
