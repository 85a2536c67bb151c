"""The two layer stacks side by side: one row per layer pair, bottom layer first. A layer both sides
have at the same place in the order (matched as diff(1) matches lines, by diff_id) sits on one row
with its twin, joined by the middle column; the rest stand alone on their side (a shared layer moved
to another place is told by its tooltip and mark)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from layerscope.core.compare.layers import Layer, LayersDiff
from layerscope.core.compare.side import Side
from layerscope.core.display import human_size, readable_command
from layerscope.core.kinds import ChangeKind

from .. import marks
from ..cells import CellData
from ..colors import change_color
from ..worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex
A, JOIN, B = range(3)


@dataclass(frozen=True, slots=True)
class LayerPair:
    """One row: A's layer, B's layer (None where that side has none on this row); ``joined`` when
    both are the same layer; ``base`` when it is part of the base both share; ``moved_a`` /
    ``moved_b`` when that side's layer is shared but stands elsewhere in the other stack."""

    a: Layer | None
    b: Layer | None
    joined: bool
    base: bool
    moved_a: bool = False
    moved_b: bool = False


def _layers(side: Side) -> list[Layer]:
    out = []
    for li in side.layers:
        h = li.desc.history
        out.append(Layer(li.index, li.desc.diff_id, li.uncompressed_size, h.text if h is not None else ""))
    return out


def pair_layers(a: Side, b: Side, diff: LayersDiff) -> list[LayerPair]:
    """The rows of the two stacks (proportional to the layers: a few dozen)."""
    la, lb = _layers(a), _layers(b)
    ka = [x.diff_id or f"\0a{x.index}" for x in la]
    kb = [y.diff_id or f"\0b{y.index}" for y in lb]
    shared_a = {s.a for s in diff.shared}
    shared_b = {s.b for s in diff.shared}
    rows: list[LayerPair] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                same_a, same_b = la[i1 + k], lb[j1 + k]
                base = same_a.index < diff.base and same_a.index == same_b.index
                rows.append(LayerPair(same_a, same_b, True, base))
            continue
        n = max(i2 - i1, j2 - j1)
        for k in range(n):
            x = la[i1 + k] if i1 + k < i2 else None
            y = lb[j1 + k] if j1 + k < j2 else None
            rows.append(
                LayerPair(
                    x,
                    y,
                    False,
                    False,
                    x is not None and x.index in shared_a,
                    y is not None and y.index in shared_b,
                )
            )
    return rows


def _tint(colour: QColor | None, base: QColor, amount: float) -> QColor:
    """``colour`` blended into ``base`` (a light wash that keeps the text readable)."""
    if colour is None:
        return base
    return QColor(
        round(base.red() + (colour.red() - base.red()) * amount),
        round(base.green() + (colour.green() - base.green()) * amount),
        round(base.blue() + (colour.blue() - base.blue()) * amount),
    )


class LayerPairsModel(CellData, QAbstractTableModel):
    """Rows of ``LayerPair``; columns A, the join, B."""

    COLUMNS = ("A", "", "B")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.pairs: list[LayerPair] = []

    def set_pairs(self, pairs: Sequence[LayerPair]) -> None:
        self.beginResetModel()
        self.pairs = list(pairs)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.pairs)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self.pairs):
            return None
        p = self.pairs[index.row()]
        col = index.column()
        if col == JOIN:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return "=" if p.joined else ""
            if role == Qt.ItemDataRole.ToolTipRole and p.joined and p.b is not None:
                where = "the common base" if p.base else "the same layer in both"
                return f"{where}\n{p.b.diff_id}"
            return None
        layer, moved = (p.a, p.moved_a) if col == A else (p.b, p.moved_b)
        if layer is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{layer.index}  {human_size(layer.size)}  {readable_command(layer.created_by)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            side = "A" if col == A else "B"
            if p.joined:
                state = "shared with the other image" + (" (the common base)" if p.base else "")
            elif moved:
                state = "shared with the other image, at another place in its stack"
            else:
                state = f"only in {side}"
            return (
                f"{side} layer {layer.index}: {state}\n{layer.diff_id or '(no diff_id)'}\n"
                f"{human_size(layer.size)} ({layer.size:,} bytes)\n{readable_command(layer.created_by)}"
            )
        if role == Qt.ItemDataRole.DecorationRole:
            return marks.icon(self._mark(p, col, moved))
        if role == Qt.ItemDataRole.BackgroundRole:
            if p.joined or moved:
                return None
            base = _palette().color(QPalette.ColorRole.Base)
            kind = ChangeKind.REMOVED if col == A else ChangeKind.ADDED
            return _tint(change_color(kind), base, 0.14)
        return None

    @staticmethod
    def _mark(p: LayerPair, col: int, moved: bool) -> marks.Mark:
        if p.joined or moved:
            return marks.Mark.UNMODIFIED
        return marks.Mark.REMOVED if col == A else marks.Mark.ADDED


def _palette() -> QPalette:
    from PySide6.QtWidgets import QApplication

    return QApplication.palette()


class JoinDelegate(QStyledItemDelegate):
    """The middle column: a band joining a shared layer's two cells (thicker along the common
    base), nothing between layers that differ."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if index.column() != JOIN:
            super().paint(painter, option, index)
            return
        model = index.model()
        if not isinstance(model, LayerPairsModel) or not 0 <= index.row() < len(model.pairs):
            return
        p = model.pairs[index.row()]
        widget = option.widget
        style = widget.style() if isinstance(widget, QWidget) else None
        if style is not None and option.state & QStyle.StateFlag.State_Selected:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        if not p.joined:
            return
        r: QRect = option.rect
        pal: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colour = (
            pal.color(QPalette.ColorRole.HighlightedText)
            if selected
            else change_color(ChangeKind.UNMODIFIED) or pal.color(QPalette.ColorRole.Mid)
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        mid = r.center().y() + 0.5
        pen = QPen(colour, 4 if p.base else 2)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(r.left(), mid - 3), QPointF(r.right() + 1, mid - 3))
        painter.drawLine(QPointF(r.left(), mid + 3), QPointF(r.right() + 1, mid + 3))
        painter.restore()
