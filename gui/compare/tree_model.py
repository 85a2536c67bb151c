"""The tree of differences: a lazy model over a ``DiffIndex``.

A folder's children are made when it is expanded (``canFetchMore``/``fetchMore``), from the index
made off the GUI thread, so a 186k-path difference costs one folder at a time. Columns: the name,
the change mark (gui/marks.py: shape, word and colour), the size change (B minus A; a folder's is
the total below it), both sizes, what changed, and the layers the two versions come from.
"Only changed" (the default) shows what differs and the folders above it; off, every path of both
sides, the unchanged ones marked ``·``. Sorting re-orders the folders already loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import QApplication, QStyle

from layerscope.core.compare.verdict import signed_size
from layerscope.core.display import human_size
from layerscope.core.kinds import ChangeKind

from .. import marks
from ..cells import CellData
from ..colors import change_color
from ..models import natural_key
from ..worker import gui_busy
from .index import DiffIndex, PathInfo

_Index = QModelIndex | QPersistentModelIndex
NAME, CHANGE, DELTA, SIZE_A, SIZE_B, WHAT, LAYERS = range(7)
COLUMNS = ("Name", "Change", "Δ Size", "Size A", "Size B", "What changed", "Layer A → B")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
_RANK = {
    ChangeKind.ADDED: 0,
    ChangeKind.MODIFIED: 1,
    ChangeKind.REMOVED: 2,
    None: 3,
    ChangeKind.UNMODIFIED: 4,
}
_MARK = {
    ChangeKind.ADDED: marks.Mark.ADDED,
    ChangeKind.REMOVED: marks.Mark.REMOVED,
    ChangeKind.MODIFIED: marks.Mark.MODIFIED,
    ChangeKind.UNMODIFIED: marks.Mark.UNMODIFIED,
}


class _Item:
    __slots__ = ("children", "info", "parent", "path", "row")

    def __init__(self, path: str, parent: _Item | None, row: int, info: PathInfo | None) -> None:
        self.path = path
        self.parent = parent
        self.row = row
        self.info = info
        self.children: list[_Item] | None = None


def _size(n: int | None) -> str:
    return "—" if n is None else human_size(n)


def _layer(n: int | None) -> str:
    return "—" if n is None else str(n)


_SORT_KEYS: dict[int, Callable[[PathInfo], Any]] = {
    CHANGE: lambda i: _RANK.get(i.change, 9),
    DELTA: lambda i: i.delta,
    SIZE_A: lambda i: -1 if i.size_a is None else i.size_a,
    SIZE_B: lambda i: -1 if i.size_b is None else i.size_b,
    WHAT: lambda i: i.what,
    LAYERS: lambda i: (-1 if i.layer_a is None else i.layer_a, -1 if i.layer_b is None else i.layer_b),
}


def sort_infos(infos: list[PathInfo], column: int, descending: bool) -> list[PathInfo]:
    """Siblings in the order of ``column``: by name (natural order, folders first either way), or by
    the column's value with ties by name (always the same order for the same siblings)."""
    by_name = sorted(infos, key=lambda i: natural_key(i.name), reverse=descending and column == NAME)
    if column == NAME or column not in _SORT_KEYS:
        return sorted(by_name, key=lambda i: not i.is_dir)
    key = _SORT_KEYS[column]
    return sorted(by_name, key=key, reverse=descending)  # stable: ties keep the name order


class DiffTreeModel(CellData, QAbstractItemModel):
    """See the module docstring."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.index_: DiffIndex | None = None
        self.only_changed = True
        self._sort_col = NAME
        self._descending = False
        self._root = _Item("", None, 0, None)
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    # ---- what is shown ---------------------------------------------------------------------------
    def set_index(self, index: DiffIndex | None) -> None:
        self._replace_root(index, self.only_changed)

    def set_only_changed(self, on: bool) -> None:
        if on != self.only_changed:
            self._replace_root(self.index_, on)

    def _replace_root(self, index: DiffIndex | None, only_changed: bool) -> None:
        """Show ``index`` as ``only_changed`` says: the old rows removed, the new top rows inserted
        (row signals rather than a reset: views and testers follow them without a second look)."""
        root = self._root
        if root.children:
            self.beginRemoveRows(QModelIndex(), 0, len(root.children) - 1)
            root.children = []
            self.endRemoveRows()
        root.children = []  # nothing shown while the new rows are made (asked for meanwhile)
        self.index_, self.only_changed = index, only_changed
        kids = self._child_items(root)
        if kids:
            self.beginInsertRows(QModelIndex(), 0, len(kids) - 1)
            root.children = kids
            self.endInsertRows()

    def info(self, index: _Index) -> PathInfo | None:
        return self._item(index).info if index.isValid() else None

    def index_of(self, path: str) -> QModelIndex:
        """The index of ``path``, loading the folders above it; invalid when it is not shown."""
        parent = QModelIndex()
        it = self._root
        parts = path.split("/") if path else []
        for n in range(len(parts)):
            want = "/".join(parts[: n + 1])
            if it.children is None:
                if parent.isValid():
                    self.fetchMore(parent)
                else:
                    self._load(it)
            found = next((c for c in it.children or () if c.path == want), None)
            if found is None:
                return QModelIndex()
            it = found
            parent = self.createIndex(it.row, 0, it)
        return parent

    def _child_items(self, item: _Item) -> list[_Item]:
        if self.index_ is None:
            return []
        idx, only = self.index_, self.only_changed
        infos = [idx.info(p, only) for p in idx.children(item.path, only)]
        ordered = sort_infos(infos, self._sort_col, self._descending)
        return [_Item(i.path, item, r, i) for r, i in enumerate(ordered)]

    def _load(self, item: _Item) -> list[_Item]:
        if item.children is None:
            item.children = self._child_items(item)
        return item.children

    def _item(self, index: _Index) -> _Item:
        if not index.isValid():
            return self._root
        it = index.internalPointer()
        assert isinstance(it, _Item)
        return it

    # ---- QAbstractItemModel ------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        p = self._item(parent)
        kids = p.children if p is not self._root else self._load(p)
        if kids is None or row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, index: _Index) -> QModelIndex: ...
    def parent(self, index: _Index | None = None) -> QObject | QModelIndex | None:
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        par = self._item(index).parent
        if par is None or par is self._root:
            return QModelIndex()
        return self.createIndex(par.row, 0, par)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        it = self._item(parent)
        if it is self._root:
            return len(self._load(it))
        return len(it.children) if it.children is not None else 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return self.rowCount() > 0
        if parent.column() != 0:
            return False
        it = self._item(parent)
        if it.children is not None:
            return len(it.children) > 0
        return it.info is not None and it.info.has_children

    def canFetchMore(self, parent: _Index) -> bool:
        if not parent.isValid() or parent.column() != 0:
            return False
        it = self._item(parent)
        return it.children is None and it.info is not None and it.info.has_children

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        it = self._item(parent)
        kids = self._child_items(it)
        if not kids:
            it.children = []
            return
        self.beginInsertRows(parent, 0, len(kids) - 1)
        it.children = kids
        self.endInsertRows()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section == DELTA:
            return "File bytes B has minus A's: a folder's is the total below it"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid():
            return None
        i = self._item(index).info
        if i is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(i, col)
        if role == PATH_ROLE:
            return "/" + i.path
        if role == SORT_ROLE:
            return natural_key(i.name)[1] if col == NAME else _SORT_KEYS[col](i)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == NAME:
                style = QApplication.style()
                sp = QStyle.StandardPixmap.SP_DirIcon if i.is_dir else QStyle.StandardPixmap.SP_FileIcon
                return style.standardIcon(sp)
            if col == CHANGE and i.change is not None:
                return marks.icon(_MARK[i.change])
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == DELTA and i.delta:
            return change_color(ChangeKind.ADDED if i.delta > 0 else ChangeKind.REMOVED)
        if role == Qt.ItemDataRole.ForegroundRole and i.change is ChangeKind.UNMODIFIED:
            return _dim()
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (DELTA, SIZE_A, SIZE_B):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and col == DELTA:
            return self._mono
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(i)
        if role == Qt.ItemDataRole.AccessibleTextRole and col == CHANGE:
            return self._text(i, col) or "same, holds changes"
        return None

    @staticmethod
    def _text(i: PathInfo, col: int) -> str:
        if col == NAME:
            return i.name
        if col == CHANGE:
            return marks.label(_MARK[i.change]) if i.change is not None else ""
        if col == DELTA:
            return signed_size(i.delta) if i.delta else ("0" if i.change is not None else "")
        if col == SIZE_A:
            return _size(i.size_a)
        if col == SIZE_B:
            return _size(i.size_b)
        if col == WHAT:
            return ", ".join(i.what) if i.what else ""
        if col == LAYERS:
            return f"{_layer(i.layer_a)} → {_layer(i.layer_b)}"
        return ""

    @staticmethod
    def _tip(i: PathInfo) -> str:
        lines = [f"/{i.path}"]
        if i.change is not None:
            lines.append(marks.text(_MARK[i.change]) + (f": {', '.join(i.what)}" if i.what else ""))
        lines.append(f"A: {_size(i.size_a)}   B: {_size(i.size_b)}   ({signed_size(i.delta)})")
        return "\n".join(lines)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-order every loaded folder's children (the rest are ordered when they load)."""
        if not 0 <= column < len(COLUMNS):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (column, descending) == (self._sort_col, self._descending):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        items = [(self._item(ix), ix.column()) for ix in old]
        self._sort_col, self._descending = column, descending
        stack = [self._root]
        while stack:
            it = stack.pop()
            if it.children is None:
                continue
            by_info = {c.info.path: c for c in it.children if c.info is not None}
            infos = [c.info for c in it.children if c.info is not None]
            it.children = [by_info[i.path] for i in sort_infos(infos, column, descending)]
            for r, c in enumerate(it.children):
                c.row = r
                stack.append(c)
        self.changePersistentIndexList(old, [self.createIndex(it.row, col, it) for it, col in items])
        self.layoutChanged.emit()


def _dim() -> QColor:
    from PySide6.QtGui import QPalette

    return QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
