"""The layer timeline: one row per history step, a size bar in the layer's colour, the command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QContextMenuEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from layerscope.core.archive.records import HistoryStep

from ..colors import is_dark, layer_color
from ..models import LAYER_ROLE
from ..timeline_model import LayerTimelineModel
from .file_tree import context_menu, keyboard_menu_shortcut, menu_for_current


class SizeBarDelegate(QStyledItemDelegate):
    """The size column: a bar proportional to the largest layer, in the layer's colour."""

    def __init__(self, model: LayerTimelineModel, parent: Any = None) -> None:
        super().__init__(parent)
        self._model = model

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        layer = index.data(LAYER_ROLE)
        if layer is not None:
            size = self._model._sizes.get(layer, 0)
            frac = size / self._model.max_size if self._model.max_size else 0
            r = option.rect.adjusted(2, 4, -2, -4)
            w = max(2, int(r.width() * frac)) if size else 0
            colour = layer_color(layer)
            painter.fillRect(QRect(r.left(), r.top(), w, r.height()), colour)  # the tree's tint
            bar = self._model.layer_bar(layer)
            if bar is not None and bar.hidden and bar.stored and w:
                # the part later layers hid (issue 18): hatched, at the bar's end
                hw = max(1, round(w * bar.hidden / bar.stored))
                part = QRect(r.left() + w - hw, r.top(), hw, r.height())
                painter.fillRect(part, option.palette.color(QPalette.ColorRole.Base))
                ink = colour.lighter(200) if is_dark() else colour.darker(170)
                painter.fillRect(part, QBrush(ink, Qt.BrushStyle.BDiagPattern))
        super().paint(painter, option, index)


NARROW_PX = 520
"""Below this width the timeline shows #, Size and Command only."""
CREATED = 3
PACKAGES_SHARE = 0.2
"""The most of the timeline's width the Packages column takes."""
PACKAGES_MIN_PX = 90


class TimelinePanel(QTableView):
    """The steps of an image's history; selecting a row asks for that layer."""

    layer_selected = Signal(int)
    export_requested = Signal(str, int)  # "layer" (its files) or "stored" (its tar), layer

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.timeline_model = LayerTimelineModel(self)
        self.can_export = False  # set by the window: an image is loaded
        self._quiet = False  # the selection is being restored, not made by the user
        self._by_user = False  # a click or a key press is being handled
        self.setModel(self.timeline_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().hide()
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setItemDelegateForColumn(1, SizeBarDelegate(self.timeline_model, self))
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(1, 110)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(LayerTimelineModel.PACKAGES, QHeaderView.ResizeMode.ResizeToContents)
        self.selectionModel().currentRowChanged.connect(self._row_changed)
        self.menu_row: int | None = None  # the row the last context menu was built for
        self.context_menu: QMenu | None = None
        keyboard_menu_shortcut(self, self.open_menu_for_current)
        copy = QAction("Copy command", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_command)
        self.addAction(copy)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Narrower than NARROW_PX (beside the treemap, a narrow pane), Created and Packages give
        their room to Command (both are in each row's tooltip); wider, they come back."""
        super().resizeEvent(event)
        narrow = self.viewport().width() < NARROW_PX
        for column in (CREATED, LayerTimelineModel.PACKAGES):
            if self.isColumnHidden(column) != narrow:
                self.setColumnHidden(column, narrow)

    def sizeHintForColumn(self, column: int) -> int:
        """The Packages column fits its text up to PACKAGES_SHARE of the view (the whole summary is
        in the row's tooltip): beside the treemap, a long one left the Command column a sliver."""
        want = super().sizeHintForColumn(column)
        if column == LayerTimelineModel.PACKAGES:
            return min(want, max(PACKAGES_MIN_PX, int(self.viewport().width() * PACKAGES_SHARE)))
        return want

    def show_steps(
        self, steps: Sequence[HistoryStep], sizes: dict[int, int], selected: int | None = None
    ) -> None:
        """Show ``steps``, with layer ``selected``'s row selected (quietly: no ``layer_selected``)."""
        self.timeline_model.set_steps(steps, sizes)
        row = self.timeline_model.row_of_layer(selected) if selected is not None else -1
        if row >= 0:
            self._quiet = True
            try:
                self.selectRow(row)
            finally:
                self._quiet = False

    def show_layer(self, layer: int) -> None:
        """Select ``layer``'s row (the ``layer_selected`` it emits names the layer already shown)."""
        row = self.timeline_model.row_of_layer(layer)
        if row >= 0 and self.currentIndex().row() != row:
            self.selectRow(row)

    @property
    def choosing(self) -> bool:
        """The current row is changing by the user's click or key (not by focus or by the window)."""
        return self._by_user

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._by_user = True
        try:
            super().mousePressEvent(event)
        finally:
            self._by_user = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self._by_user = True
        try:
            super().keyPressEvent(event)
        finally:
            self._by_user = False

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """Up and Down step from layer to layer, over the history steps that made none."""
        step = {
            QAbstractItemView.CursorAction.MoveUp: -1,
            QAbstractItemView.CursorAction.MoveDown: 1,
        }.get(cursorAction)
        current = self.currentIndex()
        if step is None or not current.isValid():
            return super().moveCursor(cursorAction, modifiers)
        m, row = self.timeline_model, current.row() + step
        while 0 <= row < m.rowCount() and m.step(row).layer is None:
            row += step
        return m.index(row, current.column()) if 0 <= row < m.rowCount() else current

    def _row_changed(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid() and not self._quiet:
            layer = self.timeline_model.step(current.row()).layer
            if layer is not None:
                self.layer_selected.emit(layer)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        context_menu(self, event, self._popup_menu)

    def open_menu_for_current(self) -> None:
        menu_for_current(self, self._popup_menu)

    def _popup_menu(self, idx: QModelIndex, where: QPoint) -> None:
        if not idx.isValid():
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Copy command", lambda: self._copy_row(idx.row()))
        layer = self.timeline_model.step(idx.row()).layer
        if layer is not None and self.can_export:
            menu.addSeparator()
            ask = self.export_requested.emit
            menu.addAction(f"Export layer #{layer}'s files…", lambda: ask("layer", layer))
            menu.addAction(f"Save layer #{layer} as stored…", lambda: ask("stored", layer))
        self.menu_row, self.context_menu = idx.row(), menu
        menu.popup(where)

    def _copy_row(self, row: int) -> None:
        if 0 <= row < self.timeline_model.rowCount():
            QApplication.clipboard().setText(self.timeline_model.step(row).text)

    def copy_command(self) -> None:
        idx = self.currentIndex()
        if idx.isValid():
            QApplication.clipboard().setText(self.timeline_model.step(idx.row()).text)
