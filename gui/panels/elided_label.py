"""A label that elides its one line instead of widening the layout it is in."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """One line shown ending in "…" when it is wider than its place (the whole line then leads its
    tooltip); it never asks for more room than it gets. ``text()`` is the whole line. The status
    bar's summary, the path bar's note."""

    def __init__(self, min_width: int = 40) -> None:
        super().__init__("")
        self._full = ""
        self._tip = ""
        self.setMinimumWidth(min_width)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        self._full = text
        self._elide()

    def text(self) -> str:
        return self._full

    def setToolTip(self, tip: str) -> None:
        self._tip = tip
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width(), 1))
        super().setText(shown)
        cut = shown != self._full
        super().setToolTip(self._full + ("\n\n" + self._tip if self._tip else "") if cut else self._tip)
