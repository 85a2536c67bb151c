"""The path bar: the selected node's path as breadcrumbs, each folder clickable, and a quiet note
when the path the user was looking at is not in the view shown (its nearest folder is selected)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QToolButton, QWidget

from .elided_label import ElidedLabel

MAX_PART_CHARS = 40
"""A longer name is shortened in the middle on its button (the tooltip has it whole)."""


def _short(name: str) -> str:
    if len(name) <= MAX_PART_CHARS:
        return name
    half = (MAX_PART_CHARS - 1) // 2
    return f"{name[:half]}…{name[-half:]}"


class PathBar(QWidget):
    """``/ › srv › app › app.py``: clicking a part selects that folder (the root part: nothing)."""

    path_clicked = Signal(str)  # the folder's path, "" for the root

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.path = ""
        self.crumbs: list[QToolButton] = []
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(0)
        self._scroll = QScrollArea()
        self._scroll.setWidget(self._inner)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # the path's end in sight; a "…" before it says the start is scrolled out of view
        self.clipped = QLabel("…")
        self.clipped.setEnabled(False)
        self.clipped.setToolTip("The start of the path is out of sight")
        self.clipped.hide()
        bar = self._scroll.horizontalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        # elided, never wider than the room it is given: a long note widened the tree's pane and
        # moved the splitters (a tester saw the timeline's columns cut as the note came and went)
        self.note = ElidedLabel(min_width=0)
        self.note.setEnabled(False)  # greyed: a remark, not an error
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.clipped)
        lay.addWidget(self._scroll, 1)
        lay.addWidget(self.note, 1)
        self.show_path("")

    def _range_changed(self, _low: int, high: int) -> None:
        self._scroll.horizontalScrollBar().setValue(high)
        self.clipped.setVisible(high > 0)

    def show_path(self, path: str, note: str = "") -> None:
        """Breadcrumbs for ``path`` ("" for nothing selected) and ``note`` beside them."""
        self.path = path.strip("/")
        while self._row.count():
            item = self._row.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        parts = self.path.split("/") if self.path else []
        self.crumbs = [self._crumb("/", "", "The root folder")]
        for i, name in enumerate(parts):
            sep = QLabel("›")
            sep.setEnabled(False)
            self._row.addWidget(sep)
            self.crumbs.append(self._crumb(_short(name), "/".join(parts[: i + 1]), name))
        last = self.crumbs[-1]
        bold = QFont(last.font())  # (not a style sheet: a crumb row is made at every selection)
        bold.setBold(True)
        last.setFont(bold)
        self._row.addStretch(1)
        self.note.setText(note)
        self._scroll.setFixedHeight(self.crumbs[0].sizeHint().height())

    def _crumb(self, text: str, target: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays in the tree
        b.setToolTip(f"Select /{target}" if target else tip)
        b.clicked.connect(lambda _c=False, p=target: self.path_clicked.emit(p))
        self._row.addWidget(b)
        return b
