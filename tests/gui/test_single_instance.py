"""Double-click semantics: one LayerScope per user. A second `layerscope FILE` hands FILE to the
running instance, which opens it in a new, raised window; the second process exits 0 at once.
Also: a stale socket left by a crash is taken over, the bypasses, macOS QFileOpenEvent, the icon."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from argparse import Namespace
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.gui import app as gui_app
from layerscope.gui import icons

TIMEOUT = 30000


@pytest.fixture
def instance_name(monkeypatch):
    """A private server name, so that a LayerScope the user runs is never involved."""
    name = f"layerscope-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(gui_app.INSTANCE_NAME_ENV, name)
    monkeypatch.delenv(gui_app.NO_SINGLE_INSTANCE_ENV, raising=False)
    return name


@pytest.fixture
def windows():
    """Windows the app module opens during the test are closed afterwards."""
    before = list(gui_app._windows)
    yield gui_app._windows
    for w in gui_app._windows[len(before) :]:
        w.cancel()
        w.close()
    del gui_app._windows[len(before) :]


def launch(name: str, *args: str, cwd: Path) -> subprocess.Popen[str]:
    """A second `layerscope ARGS`, as a desktop would start it on a double-click."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", gui_app.INSTANCE_NAME_ENV: name}
    env.pop(gui_app.NO_SINGLE_INSTANCE_ENV, None)
    return subprocess.Popen(
        [sys.executable, "-m", "layerscope.gui.launcher", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_exit(qtbot, proc: subprocess.Popen[str], timeout_ms: int = 15000) -> float:
    """Keep our event loop (the instance server) running until the client process exits."""
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=timeout_ms)
    return time.monotonic() - t0


def test_second_launch_hands_the_file_to_the_running_instance(qtbot, instance_name, windows, tmp_path):
    server = gui_app.InstanceServer(instance_name)
    assert server.listen()
    got: list[tuple[list[str], bool]] = []
    server.requested.connect(lambda files, sample: got.append((files, sample)))
    server.requested.connect(gui_app.open_request)
    try:
        with resource_path(SAMPLE_IMAGE) as sample:
            link = tmp_path / "image.tar"
            link.symlink_to(sample)
            n = len(windows)
            proc = launch(instance_name, "image.tar", cwd=tmp_path)  # a relative path, resolved by the client
            took = wait_exit(qtbot, proc)
            _out, err = proc.communicate()
            assert proc.returncode == 0, err
            assert took < 10, f"the second process took {took:.1f} s"
            assert got == [([str(link)], False)]
            # the instance opened it in a new window, shown and raised
            assert len(windows) == n + 1
            w = windows[-1]
            assert w.isVisible()
            qtbot.waitUntil(lambda: w.session is not None or w.error is not None, timeout=TIMEOUT)
            assert w.path == link and w.error is None
            assert not w.windowIcon().isNull()
    finally:
        server.close()


def test_second_launch_without_files_opens_an_empty_window(qtbot, instance_name, windows, tmp_path):
    server = gui_app.InstanceServer(instance_name)
    assert server.listen()
    got = []
    server.requested.connect(lambda files, sample: got.append((files, sample)))
    server.requested.connect(gui_app.open_request)
    try:
        n = len(windows)
        proc = launch(instance_name, "--sample", cwd=tmp_path)
        wait_exit(qtbot, proc)
        assert proc.returncode == 0, proc.communicate()[1]
        assert got == [([], True)]
        assert len(windows) == n + 1
        gui_app.open_request([], False)
        assert len(windows) == n + 2 and windows[-1].isVisible() and windows[-1].path is None
    finally:
        server.close()


def test_no_instance_then_the_process_becomes_it(qtbot, instance_name, tmp_path):
    assert not gui_app.hand_off(instance_name, ["x.tar"], False, timeout_ms=500)
    server = gui_app.claim_instance(["x.tar"], False)
    assert server is not None and server.server.isListening()
    got = []
    server.requested.connect(lambda files, sample: got.append(files))
    try:
        proc = launch(instance_name, str(tmp_path / "y.tar"), cwd=tmp_path)
        wait_exit(qtbot, proc)
        assert proc.returncode == 0
        assert got == [[str(tmp_path / "y.tar")]]
    finally:
        server.close()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="Unix sockets")
def test_stale_socket_of_a_crashed_instance_is_taken_over(qtbot, instance_name):
    path = os.path.join(QDir.tempPath(), instance_name)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)  # a socket file nobody listens on: what a killed instance leaves
    s.close()
    try:
        assert os.path.exists(path)
        assert not gui_app.hand_off(instance_name, [], False, timeout_ms=500)
        server = gui_app.InstanceServer(instance_name)
        assert server.listen()
        server.close()
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_bypasses(monkeypatch):
    monkeypatch.delenv(gui_app.NO_SINGLE_INSTANCE_ENV, raising=False)
    assert gui_app.single_instance_wanted(Namespace(files=[], screenshot=None))
    assert not gui_app.single_instance_wanted(Namespace(files=[], screenshot="out.png"))
    monkeypatch.setenv(gui_app.NO_SINGLE_INSTANCE_ENV, "1")
    assert not gui_app.single_instance_wanted(Namespace(files=[], screenshot=None))
    monkeypatch.delenv(gui_app.INSTANCE_NAME_ENV, raising=False)
    assert gui_app.instance_name() == f"layerscope-{os.getuid()}"


def test_file_open_event_opens_a_window(qtbot, windows):
    qapp = gui_app.setup_application()
    assert not qapp.windowIcon().isNull()
    with resource_path(SAMPLE_IMAGE) as sample:
        n = len(windows)
        assert QApplication.sendEvent(qapp, QFileOpenEvent(str(sample)))
        assert len(windows) == n + 1
        w = windows[-1]
        qtbot.waitUntil(lambda: w.session is not None or w.error is not None, timeout=TIMEOUT)
        assert w.path == Path(sample) and w.error is None


def test_icon_has_every_size(qapp):
    icon = icons.app_icon()
    sizes = {s.width() for s in icon.availableSizes()}
    assert sizes == set(icons.PNG_SIZES)
    pm = icon.pixmap(16, 16)
    assert not pm.isNull()
    img = pm.toImage()
    assert len({img.pixel(x, y) for x in range(16) for y in range(16)}) > 8  # not blank
