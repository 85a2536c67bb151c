"""The window and a real registry: File > Open from a Registry loads an image without a daemon, a
multi-platform index asks which platform, a registry that wants credentials asks for them (kept in
memory unless "remember"), and cancelling either leaves the window as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.core.cache import settings as cache_settings
from layerscope.gui import credentials, settings
from layerscope.gui.credentials import Given
from layerscope.gui.window import MainWindow
from tests.sources.registry_server import MULTI, MULTI_PLATFORMS, PASSWORD, USER, Registries, registries

TIMEOUT = 60000


@pytest.fixture
def regs() -> Registries:
    return registries()


@pytest.fixture(autouse=True)
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LAYERSCOPE_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(var, raising=False)
    cache_settings.set_enabled(True)
    credentials._session.clear()
    yield
    credentials._session.clear()


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def test_open_from_registry_shows_the_reference(window, qtbot, regs):
    ref = regs.open.ref("corpus/umoci-edge:1")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_reference(ref)
    assert window.session is not None, window.controller.error
    assert window.windowTitle() == f"{ref} — LayerScope"
    assert f"(from registry {regs.open.host})" in window.status_panel.status.text()
    qtbot.waitUntil(lambda: settings.recent_references() == [ref])  # written on the next turn


def test_a_multi_platform_index_asks_which_platform(window, qtbot, regs):
    asked: list[list[str]] = []
    chosen = "linux/arm64/v8"

    def pick(_ref: str, platforms: list[str]) -> str:
        asked.append(platforms)
        return chosen

    window.controller.pick_platform = pick
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_reference(regs.open.ref(MULTI))
    assert asked and sorted(asked[0]) == sorted(MULTI_PLATFORMS)
    assert window.session is not None and str(window.session.image.platform) == chosen

    window.controller.pick_platform = lambda _ref, _platforms: None  # the user cancels
    shown = window.session
    with qtbot.waitSignal(window.controller.cancelled, timeout=TIMEOUT):
        window.open_reference(regs.open.ref(MULTI))
    assert window.session is shown


def test_credentials_are_asked_for_and_a_refusal_asks_again(window, qtbot, regs):
    answers = [Given(f"{USER}:wrong", False), Given(f"{USER}:{PASSWORD}", False)]
    asked: list[str] = []

    def ask(registry: str, why: str) -> Given | None:
        asked.append(registry)
        return answers.pop(0) if answers else None

    window.controller.ask_credentials = ask
    ref = regs.basic.ref("corpus/buildah-run:1")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_reference(ref)
    assert window.session is not None, window.controller.error
    assert asked == [regs.basic.host, regs.basic.host]
    assert credentials.credentials_for(regs.basic.host) == f"{USER}:{PASSWORD}"
    assert not credentials.auth_file().exists()  # not remembered: never on disk


def test_cancelling_the_credentials_leaves_the_window_as_it_was(window, qtbot, regs):
    window.controller.ask_credentials = lambda _registry, _why: None
    with qtbot.waitSignal(window.controller.cancelled, timeout=TIMEOUT):
        window.open_reference(regs.basic.ref("corpus/umoci-edge:1"))
    assert window.session is None and window.windowTitle() == "LayerScope"
