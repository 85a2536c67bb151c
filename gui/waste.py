"""The Waste tab: dive-compatible and LayerScope figures side by side, and the wasted paths."""

from __future__ import annotations

from typing import Any

import humanize
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.analysis import WasteItem
from layerscope.core.session import LoadedImage

from .models import SORT_ROLE

_Index = QModelIndex | QPersistentModelIndex


class WasteModel(QAbstractTableModel):
    COLUMNS = ("Path", "Copies", "Wasted", "Layers", "")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[WasteItem] = []

    def set_items(self, items: list[WasteItem]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        w = self.items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                "/" + w.path,
                str(len(w.copies)),
                humanize.naturalsize(w.size, binary=False),
                ", ".join(f"#{i}" for i in w.layers),
                "deleted" if w.deleted else "shadowed",
            )[col]
        if role == SORT_ROLE:
            return (w.path, len(w.copies), w.size, w.layers[0] if w.layers else -1, w.deleted)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"/{w.path}: {w.size:,} bytes stored in layers "
                + ", ".join(f"#{layer} ({n:,} B)" for layer, n in w.copies)
                + " and hidden by layer "
                + ", ".join(f"#{b}" for b in w.by)
            )
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class WastePanel(QWidget):
    path_requested = Signal(str, int)  # path, layer that stored the wasted copy

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.figures = QLabel("")
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = WasteModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._clicked)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.figures)
        split.addWidget(self.table)
        split.setSizes([360, 800])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    def set_session(self, s: LoadedImage) -> None:
        d, f = s.dive, s.figures
        h = humanize.naturalsize
        self.figures.setText(
            "<b>dive-compatible</b> (as dive 0.13.1 computes them)<br>"
            f"efficiency: {d.efficiency * 100:.4f} %<br>"
            f"wasted bytes: {d.wasted_bytes:,} ({h(d.wasted_bytes, binary=False)})<br>"
            f"user wasted percent: {d.user_wasted_percent * 100:.4f} %<br>"
            f"inefficient files: {len(d.inefficient_files):,}<br><br>"
            "<b>LayerScope</b> (stored but hidden in the final filesystem; kept copies not counted)<br>"
            f"stored: {h(f.stored_bytes, binary=False)}, visible: {h(f.visible_bytes, binary=False)}<br>"
            f"wasted: {h(f.wasted_bytes, binary=False)} ({f.wasted_percent * 100:.2f} % of stored) "
            f"in {len(f.wasted):,} paths<br><br>"
            + "<br>".join(
                f"layer #{ly.index}: stored {h(ly.stored, binary=False)}, "
                f"visible {h(ly.visible, binary=False)}"
                for ly in f.layers
            )
        )
        self.model.set_items(f.wasted)

    def _clicked(self, index: QModelIndex) -> None:
        src = self.proxy.mapToSource(index)
        w = self.model.items[src.row()]
        self.path_requested.emit(w.path, w.copies[0][0] if w.copies else 0)
