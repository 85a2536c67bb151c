"""The Qt application: windows, command-line files, the screenshot mode."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from .window import MainWindow

_windows: list[MainWindow] = []  # keeps every open window alive


def new_window() -> MainWindow:
    w = MainWindow()
    w.open_requested.connect(lambda paths: [open_in_new_window(p) for p in paths])
    w.destroyed.connect(lambda *_: None)
    _windows.append(w)
    return w


def open_in_new_window(path: Path) -> MainWindow:
    w = new_window()
    w.show()
    w.open_path(Path(path))
    return w


def _screenshot(w: MainWindow, out: str, layer: int | None, expand: str | None, app: QApplication) -> None:
    """After the load: select the layer, expand the path, then grab the window at its fixed size."""

    def shoot() -> None:
        w.grab().save(out)
        app.exit(0 if w.error is None else 2)

    def after_view() -> None:
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


def run(opts: argparse.Namespace) -> int:
    # The GUI thread calls into Python for every cell it paints; with a loader thread busy, each call
    # waits for the GIL up to the switch interval (5 ms by default), so a repaint could stall for
    # hundreds of milliseconds. A short interval keeps painting fluid for a small cost to the loader.
    sys.setswitchinterval(0.0002)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("LayerScope")
    app.setOrganizationName("LayerScope")
    targets: list[Path | None] = [Path(f) for f in opts.files]
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
            w.open_path(t)
    return int(app.exec())
