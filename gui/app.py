"""The Qt application: a window per opened image.

This is the first, small window (foundation issue): it loads an archive off the GUI thread and shows
the archive's format, images and layers with the command that made each. The explorer window
(layer timeline, coloured file tree, details) grows from here.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

import humanize
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive import Archive, open_archive
from layerscope.core.cli import readable_command
from layerscope.core.errors import LayerScopeError
from layerscope.core.layers import LayerIndex, load_image
from layerscope.core.resources import SAMPLE_IMAGE, resource_path


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class LoadJob(QRunnable):
    """Open an archive and index its first image off the GUI thread; hand the result back by signal."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.signals = _Signals()

    def run(self) -> None:
        try:
            archive = open_archive(self.path)
            image = archive.images[0]
            idx = load_image(archive, image)
            self.signals.done.emit((archive, image, idx))
        except LayerScopeError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:
            traceback.print_exc()
            self.signals.failed.emit(f"{self.path}: internal error: {type(exc).__name__}: {exc}")


class MainWindow(QMainWindow):
    loaded = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("LayerScope")
        self.resize(1000, 640)
        central = QWidget()
        lay = QVBoxLayout(central)
        self.title = QLabel("Drop a docker save / podman save / OCI archive here, or open the sample.")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.title)
        self.sample_button = QPushButton("Open the sample image")
        self.sample_button.clicked.connect(self.open_sample)
        lay.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.layers = QTreeWidget()
        self.layers.setHeaderLabels(["#", "size", "entries", "command"])
        self.layers.setRootIsDecorated(False)
        lay.addWidget(self.layers, 1)
        self.setCentralWidget(central)
        self._job: LoadJob | None = None
        self._sample_ctx: Any = None

    def open_sample(self) -> None:
        self._sample_ctx = resource_path(SAMPLE_IMAGE)
        self.open_path(self._sample_ctx.__enter__())

    def open_path(self, path: Path) -> None:
        self.title.setText(f"Loading {path} …")
        self.statusBar().showMessage(f"Loading {path.name} …")
        job = LoadJob(path)
        job.signals.done.connect(self._show)
        job.signals.failed.connect(self._failed)
        self._job = job
        QThreadPool.globalInstance().start(job)

    def _show(self, result: tuple[Archive, Any, list[LayerIndex]]) -> None:
        archive, image, idx = result
        self.setWindowTitle(f"{archive.path.name} — LayerScope")
        self.title.setText(
            f"<b>{archive.path.name}</b> — {archive.format_name}<br>"
            f"{image.describe()} · {len(image.layers)} layers"
        )
        self.sample_button.hide()
        self.layers.clear()
        for d, li in zip(image.layers, idx, strict=True):
            cmd = readable_command(d.history.text if d.history else "")
            it = QTreeWidgetItem([str(d.index), humanize.naturalsize(d.size), str(li.members), cmd])
            it.setToolTip(3, d.history.text if d.history else "")
            self.layers.addTopLevelItem(it)
        for c in range(3):
            self.layers.resizeColumnToContents(c)
        self.statusBar().showMessage(f"{archive.path}: {len(archive.images)} image(s)")
        self.loaded.emit()

    def _failed(self, message: str) -> None:
        self.title.setText(message)
        self.statusBar().showMessage("Could not open the file")
        self.loaded.emit()


def run(opts: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LayerScope")
    windows: list[MainWindow] = []
    targets: list[Path | None] = [Path(f) for f in opts.files]
    if opts.sample:
        targets.append(None)
    if not targets:
        windows.append(MainWindow())
    for t in targets:
        w = MainWindow()
        windows.append(w)
        if t is None:
            w.open_sample()
        else:
            w.open_path(t)
    if opts.screenshot:
        w = windows[0]
        out = opts.screenshot

        def shoot() -> None:
            w.grab().save(out)
            app.quit()

        if targets:
            w.loaded.connect(lambda: QTimer.singleShot(50, shoot))
        else:
            QTimer.singleShot(100, shoot)
        w.show()
        return int(app.exec())
    for w in windows:
        w.show()
    return int(app.exec())
