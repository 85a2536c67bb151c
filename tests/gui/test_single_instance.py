"""Double-click semantics: one LayerScope per user and display. A second `layerscope FILE` hands
FILE to the instance running on the same display, which opens it in a new, raised window; the second
process exits 0 at once. One started on another display becomes an instance of its own.
Also: a stale socket left by a crash is taken over, the bypasses, macOS QFileOpenEvent, the icon."""

from __future__ import annotations

import os
import random
import re
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
from PySide6.QtNetwork import QLocalServer
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


def launch_on(env: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen[str]:
    """`layerscope ARGS` with no name override: it finds the instance by user and display."""
    return subprocess.Popen(
        [sys.executable, "-m", "layerscope.gui.launcher", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def display_env(display: str) -> dict[str, str]:
    """This process's environment as a process started on X display ``display`` (offscreen all the
    same) would have it; no server name override, single instance on."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DISPLAY": display}
    env.pop(gui_app.INSTANCE_NAME_ENV, None)
    env.pop(gui_app.NO_SINGLE_INSTANCE_ENV, None)
    return env


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
    assert gui_app.instance_name().startswith(f"layerscope-{os.getuid()}-")


NAME_RE = re.compile(r"^layerscope-\d+-[0-9a-f]{16}$")


def test_instance_name_is_per_user_and_display(qapp):
    def name(platform: str = "xcb", **env: str) -> str:
        return gui_app.instance_name(env, platform)

    assert name(DISPLAY=":0") == name(DISPLAY=":0")  # every process on one display agrees
    assert name(DISPLAY=":0") != name(DISPLAY=":1")
    assert name(DISPLAY=":0") != name(DISPLAY="otherhost:0")
    assert name("wayland", WAYLAND_DISPLAY="wayland-0") != name("wayland", WAYLAND_DISPLAY="wayland-1")
    assert name(DISPLAY=":0", XDG_SESSION_ID="2") != name(DISPLAY=":0", XDG_SESSION_ID="3")
    # offscreen (no display at all) has a key of its own, never the one of a real display
    assert name("offscreen") != name("xcb") != name(DISPLAY=":0")
    assert name("offscreen", DISPLAY=":0") != name(DISPLAY=":0")
    # a safe socket name whatever the variables hold (XQuartz's DISPLAY is a path)
    for n in (
        name(DISPLAY="/private/tmp/com.apple.launchd.Ab3/org.xquartz:0"),
        name("wayland", WAYLAND_DISPLAY="../../etc/wayland 0\n", XDG_SESSION_ID="c1"),
        name("offscreen"),
    ):
        assert NAME_RE.match(n), n
        assert n.startswith(f"layerscope-{os.getuid()}-")
    # the override (tests) still wins, and by default a process uses its own environment and platform
    assert name(DISPLAY=":0", **{gui_app.INSTANCE_NAME_ENV: "private"}) == "private"
    env = {k: v for k, v in os.environ.items() if k != gui_app.INSTANCE_NAME_ENV}
    assert gui_app.instance_name(env) == gui_app.instance_name(env, qapp.platformName())


def test_handoff_does_not_reach_an_instance_on_another_display(qtbot, tmp_path):
    """An instance on display A; `layerscope FILE` on display B becomes B's instance instead of
    handing FILE to A, and `layerscope FILE` on A still reaches A."""
    n = random.randrange(50000, 60000)  # displays nobody uses: no real instance can be involved
    env_a, env_b = display_env(f":{n}"), display_env(f":{n + 1}")
    name_a, name_b = gui_app.instance_name(env_a, "offscreen"), gui_app.instance_name(env_b, "offscreen")
    assert name_a != name_b
    server = gui_app.InstanceServer(name_a)
    assert server.listen()
    got: list[list[str]] = []
    server.requested.connect(lambda files, sample: got.append(files))
    proc_b = None
    try:
        proc_b = launch_on(env_b, "b.tar", cwd=tmp_path)
        qtbot.waitUntil(lambda: proc_b.poll() is not None or gui_app._answers(name_b), timeout=15000)
        assert proc_b.poll() is None, proc_b.communicate()[1]  # it did not hand off and exit
        assert gui_app._answers(name_b)  # it listens as the instance of display B
        qtbot.wait(200)
        assert got == []  # and A was never told
        # a launch on A does reach A: the names the processes compute are the ones computed here
        proc_a = launch_on(env_a, "a.tar", cwd=tmp_path)
        wait_exit(qtbot, proc_a)
        assert proc_a.returncode == 0, proc_a.communicate()[1]
        # B started first: had it handed b.tar to A, A would have it by now
        assert got == [[str(tmp_path / "a.tar")]]
        assert proc_b.poll() is None  # B still runs as the instance of its own display
    finally:
        server.close()
        if proc_b is not None:
            proc_b.terminate()
            try:
                proc_b.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc_b.kill()
                proc_b.communicate()
        QLocalServer.removeServer(name_b)  # the socket file of the terminated instance


def test_file_open_event_opens_a_window(qtbot, windows, monkeypatch):
    """On macOS (the only platform that sends it) a QFileOpenEvent opens the file in a window; on
    the others no filter sees the application's events (each would enter Python)."""
    qapp = gui_app.setup_application()
    assert not qapp.windowIcon().isNull()
    on_mac = sys.platform == "darwin"
    if not on_mac:
        assert not [o for o in gui_app._keep if isinstance(o, gui_app.FileOpenFilter)]
    monkeypatch.setattr(gui_app.sys, "platform", "darwin")
    gui_app.setup_application()
    (f,) = [o for o in gui_app._keep if isinstance(o, gui_app.FileOpenFilter)]
    try:
        with resource_path(SAMPLE_IMAGE) as sample:
            n = len(windows)
            assert QApplication.sendEvent(qapp, QFileOpenEvent(str(sample)))
            assert len(windows) == n + 1
            w = windows[-1]
            qtbot.waitUntil(lambda: w.session is not None or w.error is not None, timeout=TIMEOUT)
            assert w.path == Path(sample) and w.error is None
    finally:
        if not on_mac:
            qapp.removeEventFilter(f)
            gui_app._keep.remove(f)


def test_icon_has_every_size(qapp):
    icon = icons.app_icon()
    sizes = {s.width() for s in icon.availableSizes()}
    assert sizes == set(icons.PNG_SIZES)
    pm = icon.pixmap(16, 16)
    assert not pm.isNull()
    img = pm.toImage()
    assert len({img.pixel(x, y) for x in range(16) for y in range(16)}) > 8  # not blank
