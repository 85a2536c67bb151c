"""The status bar and the inline error bar.

The status bar's label shows, by priority: a transient message (it times out), the running job's
stage, and the image's summary, which therefore always comes back. The progress bar and the Cancel
button show while a job with progress runs; the warnings button while the image has warnings.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QPushButton, QStatusBar, QWidget

from layerscope.core.display import human_size, plural
from layerscope.core.packages import OsRelease
from layerscope.core.session import LoadedImage
from layerscope.core.sources.reference import SourceKind, parse_reference
from layerscope.core.space.waste_groups import EXPLANATION, waste_headline

from ..colors import is_dark
from ..controller import Controller
from .elided_label import ElidedLabel

MESSAGE_MS = 6000
"""How long a transient status message stays before the summary comes back."""
PROGRESS_WIDTH = 300
"""The progress bar's least width in pixels: "reading layers — 100 %" fits without being cut."""


def summary(s: LoadedImage, os: OsRelease | None = None) -> str:
    """The one-line description of a loaded image (its counts were made by the load, off the GUI
    thread; ``os``, the OS it names, by the package job)."""
    total = sum(li.uncompressed_size for li in s.layers)
    source = s.archive.source
    parts = [
        s.image.name if source is None else f"{s.image.name} (from {_source_words(source)})",
        *([os.describe()] if os is not None else []),
        human_size(total),
        plural(len(s.layers), "layer"),
        plural(s.files, "file"),
        # LayerScope's figure first, dive's named as dive's: both say what they count (the tooltip)
        f"{human_size(s.figures.wasted_bytes)} hidden by later layers (LayerScope)",
        waste_headline(s.dive, s.figures).dive,  # as the Waste tab words it
    ]
    return "   ·   ".join(parts)


def _source_words(reference: str) -> str:
    """Where an image not opened from a file came from: ``the Docker engine``, ``registry ghcr.io``."""
    ref = parse_reference(reference)
    if ref.kind is SourceKind.REGISTRY and ref.name is not None:
        return f"registry {ref.name.registry}"
    return f"the {ref.kind.description}" if ref.kind is SourceKind.DOCKER_DAEMON else ref.kind.description


class StatusPanel(QObject):
    cancel_requested = Signal()
    warnings_requested = Signal()
    findings_requested = Signal()  # the audit's button: open the Findings tab

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.message_ms = MESSAGE_MS
        self._summary = ""
        self._stage: str | None = None
        self._message: str | None = None
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._message_expired)
        self.status = ElidedLabel()
        bar.addWidget(self.status, 1)
        self.warnings_button = QPushButton("")
        self.warnings_button.setFlat(True)
        self.warnings_button.clicked.connect(self.warnings_requested)
        self.warnings_button.hide()
        bar.addPermanentWidget(self.warnings_button)
        self.findings_button = QPushButton("")  # the audit's counts by severity (show_findings)
        self.findings_button.setFlat(True)
        self.findings_button.clicked.connect(self.findings_requested)
        self.findings_button.hide()
        bar.addPermanentWidget(self.findings_button)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(PROGRESS_WIDTH)  # the stage and the percentage fit in it
        self.progress.setMaximumWidth(2 * PROGRESS_WIDTH)
        self.progress.setTextVisible(True)
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
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

    def show_summary(self, s: LoadedImage | None, os: OsRelease | None = None) -> None:
        """The image's summary (with ``os``, once known) and its warnings count (nothing without an image)."""
        self._summary = summary(s, os) if s is not None else ""
        n = len(s.warnings) if s is not None else 0
        self.warnings_button.setText(f"⚠ {n} warning{'s' if n != 1 else ''}")
        self.warnings_button.setVisible(n > 0)
        self._render()

    def show_findings(self, shown: tuple[str, str] | None) -> None:
        """The findings button's text and tooltip (gui/panels/findings.badge); None hides it."""
        self.findings_button.setVisible(shown is not None)
        if shown is not None:
            self.findings_button.setText(shown[0])
            self.findings_button.setToolTip(shown[1])

    def flash(self, text: str) -> None:
        """Show ``text`` for ``message_ms``, then what was there before."""
        self._message = text
        self._timer.start(self.message_ms)
        self._render()

    def withdraw(self, text: str) -> None:
        """Take ``text`` down if it is the message shown (it is no longer true)."""
        if self._message == text:
            self.clear_message()

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
        """A job's progress: the bar with the stage and its percentage (at most 20 times a second,
        gui/worker.py; only what changed is set, each setter lays the status bar out again)."""
        bar = self.progress
        if total > 1:  # (0, 1) says a stage began, not how far it is: no "0 %" that never moves
            if bar.maximum() != 1000:
                bar.setRange(0, 1000)
            value = int(1000 * min(done, total) / total)
            if value != bar.value():
                bar.setValue(value)
            text = f"{stage} — %p %"
        else:
            if bar.maximum() != 0:
                bar.setRange(0, 0)
            text = stage
        if bar.format() != text:
            bar.setFormat(text)
        if stage != self._stage:
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
        # how "100 % efficient (dive)" and "300 kB hidden" are both true, while the summary shows
        self.status.setToolTip(
            EXPLANATION if self._message is None and self._stage is None and self._summary else ""
        )


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
