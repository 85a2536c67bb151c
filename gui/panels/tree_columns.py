"""The file tree's columns a user can hide: a menu on the header, remembered across runs."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtWidgets import QHeaderView, QMenu

from .. import settings
from ..models import NAME, TREE_COLUMNS


class ColumnChooser(QObject):
    """Right-click on the tree's header: a checkable entry per column (Name always stays)."""

    def __init__(self, header: QHeaderView) -> None:
        super().__init__(header)
        self._header = header
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_menu)
        hidden = set(settings.TREE_HIDDEN_COLUMNS.get())
        for c, title in enumerate(TREE_COLUMNS):
            if c != NAME:
                header.setSectionHidden(c, title in hidden)

    def menu(self) -> QMenu:
        """The header's menu: one checkable action per column but Name."""
        m = QMenu(self._header)
        for c, title in enumerate(TREE_COLUMNS):
            if c == NAME:
                continue
            a = m.addAction(title)
            a.setCheckable(True)
            a.setChecked(not self._header.isSectionHidden(c))
            a.toggled.connect(partial(self.set_shown, c))
        return m

    def set_shown(self, column: int, shown: bool) -> None:
        """Show or hide ``column`` and remember the choice."""
        self._header.setSectionHidden(column, not shown)
        hidden = [t for c, t in enumerate(TREE_COLUMNS) if c != NAME and self._header.isSectionHidden(c)]
        settings.TREE_HIDDEN_COLUMNS.set(hidden)

    def _show_menu(self, pos: QPoint) -> None:
        self.menu().exec(self._header.viewport().mapToGlobal(pos))
