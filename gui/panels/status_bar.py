"""The status bar and the inline error bar.

The status bar's label shows, by priority: a transient message (it times out), the running job's
stage, and the image's summary, which therefore always comes back. The progress bar and the Cancel
button show while a job with progress runs; the warnings button while the image has warnings.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QPushButton, QStatusBar, QWidget

from layerscope.core.display import human_size, plural
from layerscope.core.session import LoadedImage

from ..colors import is_dark
from ..controller import Controller

MESSAGE_MS = 6000
"""How long a transient status message stays before the summary comes back."""


def summary(s: LoadedImage) -> str:
    """The one-line description of a loaded image (its counts were made by the load, off the GUI thread)."""
    total = sum(li.uncompressed_size for li in s.layers)
    parts = [
        s.image.name,
        human_size(total),
        plural(len(s.layers), "layer"),
        plural(s.files, "file"),
        f"efficiency {s.dive.efficiency * 100:.1f} % (dive)",
        f"{human_size(s.figures.wasted_bytes)} hidden by later layers",
    ]
    return "   ·   ".join(parts)


class StatusPanel(QObject):
    cancel_requested = Signal()
    warnings_requested = Signal()

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.message_ms = MESSAGE_MS
        self._summary = ""
        self._stage: str | None = None
        self._message: str | None = None
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._message_expired)
        self.status = QLabel("")
        bar.addWidget(self.status, 1)
        self.warnings_button = QPushButton("")
        self.warnings_button.setFlat(True)
        self.warnings_button.clicked.connect(self.warnings_requested)
        self.warnings_button.hide()
        bar.addPermanentWidget(self.warnings_button)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress.hide()
        bar.addPermanentWidget(self.progress)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.hide()
        bar.addPermanentWidget(self.cancel_button)

    def connect_to(self, c: Controller) -> None:
        """Follow the controller's jobs and notes; Cancel cancels them."""
        c.busy.connect(self.busy)
        c.progressed.connect(self.progressed)
        c.idle.connect(self.idle)
        c.note.connect(self.flash)
        self.cancel_requested.connect(c.cancel)

    def show_summary(self, s: LoadedImage | None) -> None:
        """The image's summary and its warnings count (nothing without an image)."""
        self._summary = summary(s) if s is not None else ""
        n = len(s.warnings) if s is not None else 0
        self.warnings_button.setText(f"⚠ {n} warning{'s' if n != 1 else ''}")
        self.warnings_button.setVisible(n > 0)
        self._render()

    def flash(self, text: str) -> None:
        """Show ``text`` for ``message_ms``, then what was there before."""
        self._message = text
        self._timer.start(self.message_ms)
        self._render()

    def clear_message(self) -> None:
        self._timer.stop()
        self._message = None
        self._render()

    def busy(self, text: str) -> None:
        self._stage = text
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.show()
        self.cancel_button.show()
        self._message = None
        self._render()

    def progressed(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(stage)
        self._stage = stage
        self._render()

    def idle(self) -> None:
        self._stage = None
        self.progress.hide()
        self.cancel_button.hide()
        self._render()

    def _message_expired(self) -> None:
        self._message = None
        self._render()

    def _render(self) -> None:
        if self._message is not None:
            self.status.setText(self._message)
        elif self._stage is not None:
            self.status.setText(self._stage + " …")
        else:
            self.status.setText(self._summary)


def show_warnings(parent: QWidget, s: LoadedImage, name: str) -> None:
    """Every warning met while reading the image, in a dialog."""
    box = QMessageBox(parent)
    box.setWindowTitle("Warnings")
    box.setIcon(QMessageBox.Icon.Warning)
    ws = s.warnings
    box.setText(f"{len(ws)} warning(s) while reading {name}:")
    box.setDetailedText("\n".join(ws))
    box.setInformativeText("\n".join(ws[:8]) + ("\n…" if len(ws) > 8 else ""))
    box.exec()


class MessageBar(QLabel):
    """An error, inline above the window's content, until the next image opens."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bg, fg, border = ("#5a1d1d", "#ffdcd7", "#b62324") if is_dark() else ("#ffebe9", "#82071e", "#ff8182")
        self.setStyleSheet(
            f"QLabel {{ background: {bg}; color: {fg}; padding: 6px; "
            f"border: 1px solid {border}; border-radius: 4px; }}"
        )
        self.hide()

    def show_error(self, message: str) -> None:
        self.setText(message)
        self.show()
