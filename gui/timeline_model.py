"""The layer timeline's model: one row per history step, with its layer, size, command and, once the
package job has read them, the packages the layer changed ("+3 deb, ~1 deb")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import humanize
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import QApplication

from layerscope.core.archive.records import HistoryStep
from layerscope.core.display import human_size, readable_command, redact_secrets
from layerscope.core.space.layers import LayerBar

from .cells import CellData
from .colors import layer_color
from .models import LAYER_ROLE, SORT_ROLE, human
from .worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex


class LayerTimelineModel(CellData, QAbstractTableModel):
    """One row per history step; steps that made no layer are dimmed."""

    COLUMNS = ("#", "Size", "Command", "Created", "Packages")
    PACKAGES = 4

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._steps: list[HistoryStep] = []
        self._sizes: dict[int, int] = {}
        self.max_size = 1
        self._packages: dict[int, str] = {}  # layer -> its package changes in short
        self._bars: dict[int, LayerBar] = {}  # layer -> stored, visible and hidden bytes (issue 18)

    def set_steps(self, steps: Sequence[HistoryStep], sizes: dict[int, int]) -> None:
        self.beginResetModel()
        self._steps = [s for s in steps if s.layer is not None or s.empty_layer]
        # layer steps in layer order, with the empty steps where history puts them
        self._take_sizes(sizes)
        self.endResetModel()

    def _take_sizes(self, sizes: dict[int, int]) -> None:
        self._sizes = sizes
        self.max_size = max(sizes.values(), default=1) or 1

    def _size_column_changed(self) -> None:
        if self._steps:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._steps) - 1, 1))

    def set_package_summaries(self, summaries: dict[int, str]) -> None:
        """Each layer's package changes in short (layers that changed none left out; {}: not known)."""
        if summaries == self._packages:
            return
        self._packages = dict(summaries)
        if self._steps:
            last = len(self._steps) - 1
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(self.COLUMNS) - 1))

    def set_sizes(self, sizes: dict[int, int]) -> None:
        """Other sizes for the layers shown (their uncompressed sizes, once read): the Size column
        changes, nothing else (no reset: the current row and the scroll stay)."""
        self._take_sizes(sizes)
        self._size_column_changed()

    @property
    def has_bars(self) -> bool:
        """Whether layer bars are shown (``set_layer_bars``)."""
        return bool(self._bars)

    def set_layer_bars(self, bars: Sequence[LayerBar]) -> None:
        """Each layer's stored bytes, split into visible and hidden by later layers ([]: not known)."""
        self._bars = {b.index: b for b in bars}
        self._size_column_changed()

    def layer_bar(self, layer: int) -> LayerBar | None:
        return self._bars.get(layer)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._steps)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def step(self, row: int) -> HistoryStep:
        return self._steps[row]

    def row_of_layer(self, layer: int) -> int:
        for r, s in enumerate(self._steps):
            if s.layer == layer:
                return r
        return -1

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        s = self._steps[index.row()]
        if s.layer is None:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        s = self._steps[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"#{s.layer}" if s.layer is not None else "·"
            if col == 1:
                return human(self._sizes.get(s.layer, 0)) if s.layer is not None else "(no layer)"
            if col == 2:
                return readable_command(s.text).replace("\n", " ") or "(no command recorded)"
            if col == 3:
                return _when(s.created)
            if col == self.PACKAGES:
                return self._packages.get(s.layer, "") if s.layer is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole and col == 1 and s.layer in self._bars:
            return bar_tooltip(self._bars[s.layer])
        if role == Qt.ItemDataRole.ToolTipRole:
            changed = self._packages.get(s.layer, "") if s.layer is not None else ""
            shown = redact_secrets(s.text)
            when = f"Created: {s.created} ({_when(s.created)})" if s.created else ""
            parts = (shown, when, f"Packages: {changed}" if changed else "")
            return "\n\n".join(t for t in parts if t) or None
        if role == Qt.ItemDataRole.ForegroundRole and s.layer is None:
            dim = QColor(QApplication.palette().color(QPalette.ColorRole.Text))
            dim.setAlpha(110)  # dimmed in light and dark palettes alike
            return QBrush(dim)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and s.layer is not None:
            return layer_color(s.layer)
        if role == LAYER_ROLE:
            return s.layer
        if role == SORT_ROLE and col == 1:
            return self._sizes.get(s.layer, 0) if s.layer is not None else -1
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 1):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def bar_tooltip(b: LayerBar) -> str:
    """A layer's two-part bar in words: what is still seen at the top, what later layers hid."""
    h = human_size
    lines = [f"Layer #{b.index} stored {h(b.stored)} of files: {h(b.visible)} still visible at the top"]
    if b.hidden:
        lines.append(
            f"{h(b.hidden)} hidden: {h(b.shadowed)} shadowed by newer copies, {h(b.deleted)} deleted"
        )
        lines += [f"  by #{k}: {h(v)}" for k, v in b.hidden_by.items()]
    return "\n".join(lines)


def _when(created: str | None) -> str:
    if not created:
        return ""
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created
    now = dt.datetime.now(dt.UTC)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return str(humanize.naturaltime(now - t))
