"""The Qt application: windows, command-line files, one instance per user and display, the screenshot mode.

A double-clicked archive starts ``layerscope FILE``. When LayerScope already runs for this user on
this display, that process hands FILE to the running instance over a local socket (QLocalServer
named ``layerscope-<uid>-<hash of the display>``, see ``instance_name``) and exits 0; the instance
opens FILE in a new window and raises it. When no instance answers, the new process becomes the
instance. An instance on another X display or Wayland session, or one running offscreen, is never
handed a file: its windows would open where the user who double-clicked cannot see them.
``--screenshot`` and LAYERSCOPE_NO_SINGLE_INSTANCE=1 run a process of their own. On macOS, files
arrive as QFileOpenEvent and open the same way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFileOpenEvent, QGuiApplication
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from layerscope.core.sources.reference import parse_reference

from . import icons, settings, theme
from .window import MainWindow

NO_SINGLE_INSTANCE_ENV = "LAYERSCOPE_NO_SINGLE_INSTANCE"
"""Set to 1: every ``layerscope`` process runs on its own (tests, debugging)."""
INSTANCE_NAME_ENV = "LAYERSCOPE_INSTANCE_NAME"
"""Overrides the server name (tests run a private instance)."""
HANDOFF_TIMEOUT_MS = 3000
_MAX_REQUEST = 1 << 20

_windows: list[MainWindow] = []  # keeps every open window alive


def new_window() -> MainWindow:
    w = MainWindow()
    w.setWindowIcon(icons.app_icon())
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # a long-running instance frees closed windows
    w.open_requested.connect(lambda paths: [open_in_new_window(p) for p in paths])
    w.closed.connect(lambda win=w: _windows.remove(win) if win in _windows else None)
    _windows.append(w)
    return w


def open_in_new_window(target: str | Path) -> MainWindow:
    """A new window opening ``target``: a file, or a reference (``docker://...``, ``podman:...``)."""
    w = new_window()
    w.show()
    w.open_reference(os.fspath(target))
    return w


def _bring_to_front(w: MainWindow) -> None:
    w.show()
    w.raise_()
    w.activateWindow()
    QApplication.alert(w)  # where the window manager refuses focus, at least flag the window


def open_request(files: list[str], sample: bool = False) -> list[MainWindow]:
    """What a second ``layerscope [FILE ...] [--sample]`` asked for: a window per file (an empty
    one when there is nothing to open), each raised."""
    opened = [open_in_new_window(f) for f in files]
    if sample:
        w = new_window()
        w.show()
        w.open_sample()
        opened.append(w)
    if not opened:
        w = new_window()
        w.show()
        opened.append(w)
    for w in opened:
        _bring_to_front(w)
    return opened


# ---- one instance per user and display --------------------------------------------------------------
SESSION_ENV = ("WAYLAND_DISPLAY", "DISPLAY", "XDG_SESSION_ID")
"""The variables that tell one graphical session (X display, Wayland compositor, login) from another."""


def _platform(env: Mapping[str, str]) -> str:
    """The Qt platform plugin (xcb, wayland, offscreen, ...): the running application's, or the one
    QT_QPA_PLATFORM asks for before there is an application ('' for Qt's default)."""
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        return QGuiApplication.platformName()
    return env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]


def session_key(env: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """A short hash naming the display this process shows its windows on: the Qt platform plugin
    and the session variables, so that an instance on another X display or Wayland session, or one
    running offscreen, gets a name of its own. Only [0-9a-f], whatever the variables hold."""
    env = os.environ if env is None else env
    platform = _platform(env) if platform is None else platform
    parts = [f"platform={platform}"] + [f"{k}={env[k]}" for k in SESSION_ENV if env.get(k)]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def instance_name(env: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """The local server name: per user (the socket itself is private to the user as well) and per
    display (``session_key``). ``env`` and ``platform`` default to this process's own."""
    env = os.environ if env is None else env
    override = env.get(INSTANCE_NAME_ENV)
    if override:
        return override
    uid = os.getuid() if hasattr(os, "getuid") else env.get("USERNAME", "user")
    return f"layerscope-{uid}-{session_key(env, platform)}"


def single_instance_wanted(opts: argparse.Namespace) -> bool:
    return not getattr(opts, "screenshot", None) and os.environ.get(NO_SINGLE_INSTANCE_ENV, "") != "1"


def encode_request(files: list[str], sample: bool) -> bytes:
    """One JSON line; paths are made absolute here, since the instance runs in another folder."""
    doc = {"files": [_absolute(f) for f in files], "sample": bool(sample)}
    return json.dumps(doc).encode("utf-8") + b"\n"


def hand_off(name: str, files: list[str], sample: bool, timeout_ms: int = HANDOFF_TIMEOUT_MS) -> bool:
    """Give the request to the instance listening on ``name``; True once it confirmed."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(encode_request(files, sample))
    if not sock.waitForBytesWritten(timeout_ms):
        sock.abort()
        return False
    reply = b""
    while b"\n" not in reply and sock.waitForReadyRead(timeout_ms):
        reply += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return reply.startswith(b"ok")


def _answers(name: str) -> bool:
    sock = QLocalSocket()
    sock.connectToServer(name)
    alive = sock.waitForConnected(500)
    sock.abort()
    return alive


class InstanceServer(QObject):
    """The listening side: each connection carries one request line and gets ``ok``."""

    requested = Signal(list, bool)  # files (absolute paths), sample

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Start listening; a socket file nobody answers on (a crashed instance) is removed first.
        False when a live instance holds the name."""
        if self.server.listen(self.name):
            return True
        if _answers(self.name):
            return False
        QLocalServer.removeServer(self.name)  # stale
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            buf = bytearray()

            def read(sock: QLocalSocket = sock, buf: bytearray = buf) -> None:
                buf += bytes(sock.readAll().data())
                if b"\n" not in buf:
                    if len(buf) > _MAX_REQUEST:
                        sock.abort()
                    return
                sock.readyRead.disconnect()
                line = bytes(buf).split(b"\n", 1)[0]
                try:
                    doc = json.loads(line)
                    files = [str(f) for f in doc.get("files", [])]
                    sample = bool(doc.get("sample", False))
                except (ValueError, AttributeError, TypeError):
                    sock.write(b"error\n")
                    sock.disconnectFromServer()
                    return
                sock.write(b"ok\n")
                sock.flush()
                sock.disconnectFromServer()
                self.requested.emit(files, sample)

            sock.readyRead.connect(read)
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                read()


def _absolute(target: str) -> str:
    """A file made absolute (the running instance has another working folder); a reference as it is."""
    return os.path.abspath(target) if parse_reference(target).kind.is_file else target


def claim_instance(files: list[str], sample: bool) -> InstanceServer | None:
    """Hand the request to the instance running on this display (returns None), or become it
    (returns the listening server). A race with another new process is settled by whoever listens
    first. Called once the QApplication exists, so the name has the platform it really uses."""
    name = instance_name()
    for _attempt in range(3):
        if hand_off(name, files, sample):
            return None
        server = InstanceServer(name)
        if server.listen():
            return server
        server.deleteLater()
    print(f"layerscope: cannot reach or start the instance server {name!r}; running alone", file=sys.stderr)
    return InstanceServer(name)  # not listening: this process just runs on its own


class FileOpenFilter(QObject):
    """macOS hands double-clicked files to the running app as QFileOpenEvent (installed there only)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if path:
                _bring_to_front(open_in_new_window(Path(path)))
                return True
        return super().eventFilter(obj, event)


_keep: list[QObject] = []  # the instance server and the event filter live as long as the app


# ---- screenshot mode -------------------------------------------------------------------------------
def _screenshot(w: MainWindow, out: str, layer: int | None, expand: str | None, app: QApplication) -> None:
    """After the load: select the layer, expand the path, then grab the window at its fixed size."""

    def shoot() -> None:
        w.grab().save(out)
        app.exit(0 if w.error is None else 2)

    def after_view() -> None:
        view = w.tree_model.view
        if view is None or view.top != layer:
            return  # an earlier view; the one for the requested layer is still being computed
        w.view_ready.disconnect(after_view)
        if expand:
            w.expand_path(expand)
        QTimer.singleShot(150, shoot)

    def after_load() -> None:
        if w.session is None:
            QTimer.singleShot(50, shoot)
            return
        if layer is not None and layer != w.current_layer:
            w.view_ready.connect(after_view)
            w.select_layer(layer)
        else:
            if expand:
                w.expand_path(expand)
            QTimer.singleShot(150, shoot)

    w.loaded.connect(after_load)


def setup_application() -> QApplication:
    """The QApplication with LayerScope's name, icon and macOS file-open handling."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("LayerScope")
    app.setOrganizationName("LayerScope")
    app.setDesktopFileName(icons.ICON_NAME)  # matches layerscope.desktop (Wayland app id)
    app.setWindowIcon(icons.app_icon())
    theme.apply(settings.THEME.get())  # the system's light or dark, unless the user chose one
    # macOS only: a filter on the application sees every event of every object, and each one would
    # enter Python (and wait for the interpreter lock while a job runs Python)
    if sys.platform == "darwin" and not any(isinstance(o, FileOpenFilter) for o in _keep):
        f = FileOpenFilter(app)
        app.installEventFilter(f)
        _keep.append(f)
    return app


def run(opts: argparse.Namespace) -> int:
    app = setup_application()
    if getattr(opts, "theme", None):
        theme.apply(opts.theme)  # this run only: not remembered
    server = None
    if single_instance_wanted(opts):
        server = claim_instance(list(opts.files), bool(opts.sample))
        if server is None:
            return 0  # the running instance opens them
        server.requested.connect(open_request)
        _keep.append(server)
    try:
        return _open_windows(opts, app)
    finally:
        if server is not None:
            server.close()  # removes the socket file


def _open_windows(opts: argparse.Namespace, app: QApplication) -> int:
    targets: list[str | None] = list(opts.files)
    if opts.sample:
        targets.append(None)
    if not targets:
        w = new_window()
        w.show()
        if opts.screenshot:
            QTimer.singleShot(200, lambda: (w.grab().save(opts.screenshot), app.exit(0)))
        return int(app.exec())
    first = None
    for t in targets:
        w = new_window()
        first = first or w
        w.resize(1280, 800)
        if opts.screenshot and w is first:
            _screenshot(w, opts.screenshot, opts.select_layer, opts.expand, app)
        w.show()
        if t is None:
            w.open_sample()
        else:
            w.open_reference(t)
    return int(app.exec())
