"""Qt models over core objects: the layer timeline and the lazy file tree.

The file tree creates child items only when a folder is expanded (``canFetchMore``/``fetchMore``),
so a 200k-entry image costs nothing until it is browsed. Items are small ``__slots__`` objects that
point at their parent; the core view answers everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import humanize
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from layerscope.core.archive import HistoryStep
from layerscope.core.cli import readable_command
from layerscope.core.views import FileView, Row

from .colors import change_color, layer_color

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
LAYER_ROLE = Qt.ItemDataRole.UserRole + 3
ROW_ROLE = Qt.ItemDataRole.UserRole + 4
_Index = QModelIndex | QPersistentModelIndex

_MARK = {"added": "+ added", "modified": "~ modified", "removed": "− removed", "unmodified": ""}


def human(n: int) -> str:
    return str(humanize.naturalsize(n, binary=False))


# ---- layer timeline --------------------------------------------------------------------------------
class LayerTimelineModel(QAbstractTableModel):
    """One row per history step; steps that made no layer are dimmed."""

    COLUMNS = ("#", "Size", "Command", "Created")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._steps: list[HistoryStep] = []
        self._sizes: dict[int, int] = {}
        self.max_size = 1

    def set_steps(self, steps: list[HistoryStep], sizes: dict[int, int]) -> None:
        self.beginResetModel()
        self._steps = [s for s in steps if s.layer is not None or s.empty_layer]
        # layer steps in layer order, with the empty steps where history puts them
        self._sizes = sizes
        self.max_size = max(sizes.values(), default=1) or 1
        self.endResetModel()

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
        if role == Qt.ItemDataRole.ToolTipRole:
            return s.text or None
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


# ---- file tree ----------------------------------------------------------------------------------------
class _Item:
    __slots__ = ("children", "parent", "path", "row")

    def __init__(self, path: str, parent: _Item | None, row: int) -> None:
        self.path = path
        self.parent = parent
        self.row = row
        self.children: list[_Item] | None = None


class FileTreeModel(QAbstractItemModel):
    """A lazy tree over a core FileView: name, size, owning layer, change; rows tinted by owner."""

    COLUMNS = ("Name", "Size", "Layer", "Change")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.view: FileView | None = None
        self._root = _Item("", None, 0)
        self._rows: dict[str, Row] = {}
        self._filter: set[str] | None = None  # visible paths when filtering
        self.hide_unmodified = False
        self._sort_col = 0
        self._sort_order = Qt.SortOrder.AscendingOrder
        # set by the window: writes temporary copies of files, for dragging them out
        self.materialize: Callable[[list[str]], list[Path]] | None = None
        self._italic = QFont()
        self._italic.setItalic(True)
        self._strike = QFont()
        self._strike.setStrikeOut(True)
        style = QApplication.style()
        self._icons = {
            "dir": style.standardIcon(QStyle.StandardPixmap.SP_DirIcon),
            "file": style.standardIcon(QStyle.StandardPixmap.SP_FileIcon),
            "symlink": style.standardIcon(QStyle.StandardPixmap.SP_FileLinkIcon),
        }

    # -- configuration ------------------------------------------------------------------------------
    def set_view(self, view: FileView | None) -> None:
        self.beginResetModel()
        self.view = view
        self._root = _Item("", None, 0)
        self._rows = {}
        self._filter = None
        self.endResetModel()

    def set_filter(self, visible: set[str] | None) -> None:
        self.beginResetModel()
        self._filter = visible
        self._root = _Item("", None, 0)
        self.endResetModel()

    def set_hide_unmodified(self, hide: bool) -> None:
        if hide == self.hide_unmodified:
            return
        self.beginResetModel()
        self.hide_unmodified = hide
        self._root = _Item("", None, 0)
        self.endResetModel()

    # -- helpers ------------------------------------------------------------------------------------
    def row_info(self, path: str) -> Row:
        r = self._rows.get(path)
        if r is None:
            assert self.view is not None
            r = self.view.row(path)
            self._rows[path] = r
        return r

    def _child_paths(self, path: str) -> list[str]:
        if self.view is None:
            return []
        out = []
        for name in self.view.children(path):
            p = f"{path}/{name}" if path else name
            if self._filter is not None and p not in self._filter:
                continue
            if self.hide_unmodified and self.row_info(p).change == "unmodified":
                continue
            out.append(p)
        return self._sorted(out)

    def _sorted(self, paths: list[str]) -> list[str]:
        col, rev = self._sort_col, self._sort_order == Qt.SortOrder.DescendingOrder
        if col == 0:

            def by_name(p: str) -> tuple[bool, str]:
                return (self.row_info(p).type != "dir", p.rsplit("/", 1)[-1].lower())

            return sorted(paths, key=by_name, reverse=rev)
        if col == 1:
            return sorted(paths, key=lambda p: self.row_info(p).size, reverse=rev)
        if col == 2:
            return sorted(paths, key=lambda p: self.row_info(p).layer, reverse=rev)
        return sorted(paths, key=lambda p: self.row_info(p).change, reverse=rev)

    def _load(self, item: _Item) -> list[_Item]:
        if item.children is None:
            item.children = [_Item(p, item, i) for i, p in enumerate(self._child_paths(item.path))]
        return item.children

    def _item(self, index: _Index) -> _Item:
        if not index.isValid():
            return self._root
        it = index.internalPointer()
        assert isinstance(it, _Item)
        return it

    # -- QAbstractItemModel -------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(self.COLUMNS) or row < 0:
            return QModelIndex()
        p = self._item(parent)
        kids = p.children
        if kids is None or row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        it = self._item(index)
        par = it.parent
        if par is None or par is self._root:
            return QModelIndex()
        return self.createIndex(par.row, 0, par)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        it = self._item(parent)
        if it is self._root and it.children is None and self.view is not None:
            self._load(it)
        return len(it.children) if it.children is not None else 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return self.view is not None
        if parent.column() != 0:
            return False
        it = self._item(parent)
        if it.children is not None:
            return len(it.children) > 0
        return self.row_info(it.path).children > 0

    def canFetchMore(self, parent: _Index) -> bool:
        if not parent.isValid() or parent.column() != 0:
            return False
        it = self._item(parent)
        return it.children is None and self.row_info(it.path).children > 0

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        it = self._item(parent)
        paths = self._child_paths(it.path)
        if not paths:
            it.children = []
            return
        self.beginInsertRows(parent, 0, len(paths) - 1)
        it.children = [_Item(p, it, i) for i, p in enumerate(paths)]
        self.endInsertRows()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        it = self._item(index)
        r = self.row_info(it.path)
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{r.name} → {r.link}" if r.type == "symlink" and r.link else r.name
            if col == 1:
                return human(r.size) if (r.size or r.type == "file") else ""
            if col == 2:
                return f"#{r.layer}"
            if col == 3:
                return _MARK.get(r.change, r.change)
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            c = QColor(layer_color(r.layer))
            c.setAlpha(48)
            return QBrush(c)
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return change_color(r.change)
        if role == Qt.ItemDataRole.FontRole:
            if r.change == "removed":
                return self._strike
            if r.type == "symlink" and col == 0:
                return self._italic
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._icons.get(r.type if r.type in self._icons else "file")
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"/{r.path}"
            if r.link:
                tip += f"\n→ {r.link}"
            return tip
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == SORT_ROLE:
            return (r.name, r.size, r.layer, r.change)[col]
        if role == PATH_ROLE:
            return r.path
        if role == LAYER_ROLE:
            return r.layer
        if role == ROW_ROLE:
            return r
        return None

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        """Dragging files out of the tree exports them: URLs of temporary copies."""
        md = QMimeData()
        paths = sorted({self._item(i).path for i in indexes if i.isValid()})
        if self.materialize is not None and paths:
            md.setUrls([QUrl.fromLocalFile(str(p)) for p in self.materialize(paths)])
        return md

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_col, self._sort_order = column, order
        if self.view is None:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_paths = [(self._item(i).path, i.column()) for i in old]

        def resort(item: _Item) -> None:
            if item.children is None:
                return
            by_path = {c.path: c for c in item.children}
            item.children = [by_path[p] for p in self._sorted(list(by_path))]
            for i, c in enumerate(item.children):
                c.row = i
                resort(c)

        resort(self._root)
        new = [self.index_for_path(p, col, fetch=False) for p, col in old_paths]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def index_for_path(self, path: str, column: int = 0, fetch: bool = True) -> QModelIndex:
        """The index of ``path``, loading its ancestors' children when ``fetch``; invalid if hidden."""
        if not path:
            return QModelIndex()
        parts = path.split("/")
        item = self._root
        if item.children is None:
            if not fetch:
                return QModelIndex()
            self._load(item)
        idx = QModelIndex()
        for k in range(len(parts)):
            want = "/".join(parts[: k + 1])
            if item.children is None:
                if not fetch:
                    return QModelIndex()
                self.fetchMore(idx)
                if item.children is None:
                    return QModelIndex()
            nxt = next((c for c in item.children if c.path == want), None)
            if nxt is None:
                return QModelIndex()
            item = nxt
            idx = self.createIndex(item.row, 0, item)
        return idx.siblingAtColumn(column) if column else idx
