"""The filter's results above the tree: how many paths match, which one is selected, Next/Previous
(F3 / Shift+F3), Clear; or, for a regular expression that does not compile, why, in red.

The search itself runs in the controller (over every path of the view, not only the folders opened
so far); this bar only shows its hits, in the order the tree shows them, and asks the tree to
select one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from ..icons import action_icon
from ..theme import set_style_sheet


def _icon_action(text: str, icon: str, parent: QWidget) -> QAction:
    act = QAction(action_icon(icon), text, parent)
    act.setProperty("layerscope_icon", icon)  # redrawn with the palette (gui/panels/actions.py)
    return act


def _n(count: int) -> str:
    return f"{count:,} match{'' if count == 1 else 'es'}"


class MatchBar(QWidget):
    go_to = Signal(str)  # select this hit
    clear_requested = Signal()  # the user closed the filter

    def __init__(self, limit: int = 100000, parent: Any = None) -> None:
        super().__init__(parent)
        self.limit = limit  # the controller's search stops there
        self.hits: list[str] = []
        self.text = ""
        self.error = ""
        self._rank: dict[str, int] = {}
        self._at = -1
        self.label = QLabel("")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.previous_action = _icon_action("&Previous Match", "previous-match", self)
        self.previous_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.FindPrevious))
        self.previous_action.triggered.connect(self.previous)
        self.next_action = _icon_action("&Next Match", "next-match", self)
        self.next_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.FindNext))
        self.next_action.triggered.connect(self.next)
        self.clear_action = _icon_action("Clear the Filter", "clear-filter", self)
        self.clear_action.triggered.connect(self.clear_requested)
        for a in (self.previous_action, self.next_action, self.clear_action):
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setToolTip(a.text().replace("&", "") + (f" ({keys})" if keys else ""))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        for a in (self.previous_action, self.next_action, self.clear_action):
            b = QToolButton()
            b.setDefaultAction(a)
            b.setAutoRaise(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            lay.addWidget(b)
        self._enable(False)
        self.hide()

    def _enable(self, on: bool) -> None:
        self.previous_action.setEnabled(on)
        self.next_action.setEnabled(on)

    # ---- what the controller found -------------------------------------------------------------
    def show_matches(self, hits: list[str], text: str) -> None:
        """``hits`` in the order Next steps through them."""
        self.hits, self.text, self.error = hits, text, ""
        self._rank = {p: i for i, p in enumerate(hits)}
        self._at = -1
        self._enable(bool(hits))
        set_style_sheet(self.label, "")
        self._describe()
        self.show()

    def reorder(self, hits: list[str]) -> None:
        """The same hits in another order (the tree was sorted again)."""
        self.hits = hits
        self._rank = {p: i for i, p in enumerate(hits)}

    def show_invalid(self, message: str) -> None:
        """A regular expression that does not compile: say why; no results are shown."""
        self.hits, self._rank, self._at, self.error = [], {}, -1, message
        self._enable(False)
        set_style_sheet(self.label, "color: #c62828; font-weight: bold")
        self.label.setText(message)
        self.show()

    def clear(self) -> None:
        self.hits, self._rank, self._at, self.text, self.error = [], {}, -1, "", ""
        self._enable(False)
        self.label.setText("")
        self.hide()

    def show_current(self, path: str) -> None:
        """The tree's selection moved to ``path``: its rank among the hits, if it is one."""
        if self.hits:
            self._at = self._rank.get(path, -1)
            self._describe()

    def _describe(self) -> None:
        n = len(self.hits)
        if not n:
            self.label.setText(f"No match for “{self.text}”")
            return
        total = f"{_n(n)}+ (the first {n:,} are shown)" if n >= self.limit else _n(n)
        where = f"{self._at + 1:,} of " if self._at >= 0 else ""
        self.label.setText(f"{where}{total} for “{self.text}”")

    # ---- moving between hits --------------------------------------------------------------------
    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    def _step(self, by: int) -> None:
        if not self.hits:
            return
        if self._at < 0:
            self._at = 0 if by > 0 else len(self.hits) - 1
        else:
            self._at = (self._at + by) % len(self.hits)
        self._describe()
        self.go_to.emit(self.hits[self._at])
