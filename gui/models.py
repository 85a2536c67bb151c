"""Qt models over core objects: the layer timeline and the lazy file tree.

The file tree creates child items only when a folder is expanded (``canFetchMore``/``fetchMore``),
so a 200k-entry image costs nothing until it is browsed. Items are small ``__slots__`` objects that
point at their parent; the core view answers everything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, overload

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QUrl,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QStyle

from layerscope.core.display import human_size, mode_string
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.views import FileView, Row

from . import marks
from .cells import CellData
from .colors import is_dark, layer_color, text_color
from .worker import gui_busy

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
LAYER_ROLE = Qt.ItemDataRole.UserRole + 3
ROW_ROLE = Qt.ItemDataRole.UserRole + 4
_Index = QModelIndex | QPersistentModelIndex


human = human_size
"""Sizes as the whole app shows them (one unit system: core.display.human_size)."""


# ---- file tree ----------------------------------------------------------------------------------------
NAME, SIZE, LAYER, CHANGE, PERMISSIONS, OWNER = range(6)
TREE_COLUMNS = ("Name", "Size", "Layer", "Change", "Permissions", "UID:GID")
"""The file tree's columns, in order; all but Name can be hidden (settings.TREE_HIDDEN_COLUMNS)."""
TREE_DRAG_FORMAT = "application/x-layerscope-tree-paths"
"""Marks a drag that started in the file tree, so the window does not take it for an archive drop."""
_URI_LIST = "text/uri-list"
_DIGITS = re.compile(r"(\d+)")
_CHANGE_RANK = {ChangeKind.ADDED: 0, ChangeKind.MODIFIED: 1, ChangeKind.REMOVED: 2, ChangeKind.UNMODIFIED: 3}
_TYPE_WORD = {
    EntryType.DIR: "folder",
    EntryType.FILE: "file",
    EntryType.SYMLINK: "symbolic link",
    EntryType.HARDLINK: "hard link",
    EntryType.CHAR: "character device",
    EntryType.BLOCK: "block device",
    EntryType.FIFO: "named pipe",
    EntryType.SOCKET: "socket",
}


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """``f2`` before ``f10``: runs of digits compare as numbers, the rest case-insensitively; ties
    (``F1``/``f1``, ``f01``/``f1``) by the name itself, so the order is total and never depends on
    the order before."""
    parts: list[str | int] = list(_DIGITS.split(name.casefold()))
    parts[1::2] = map(int, parts[1::2])  # split() puts the digit runs at the odd places
    return tuple(parts), name


def _mode(r: Row) -> int:
    return r.entry.mode & 0o7777 if r.entry is not None else -1


def _owner(r: Row) -> int:
    """UID then GID, as one number."""
    return (r.entry.uid << 32) + r.entry.gid if r.entry is not None else -1


_SORT_KEYS: dict[int, Callable[[Row], int]] = {
    SIZE: lambda r: r.size,
    LAYER: lambda r: r.layer,
    CHANGE: lambda r: _CHANGE_RANK.get(r.change, 9),
    PERMISSIONS: _mode,
    OWNER: _owner,
}
_RANKS = 1 << 32
"""More siblings than any folder has: ``value * _RANKS + rank`` orders by value, then by name."""


def natural_ranks(rows: Sequence[Row]) -> dict[str, int]:
    """Each row's place among ``rows`` in natural name order (ranks compare faster than keys)."""
    order = sorted(rows, key=lambda r: natural_key(r.name))
    return {r.path: i for i, r in enumerate(order)}


def sorted_rows(
    rows: list[Row], column: int, descending: bool, ranks: dict[str, int] | None = None
) -> list[Row]:
    """Rows in the order of ``column``: by name in natural order with folders first, or by the
    column's value with ties by name; the same rows always come out in the same order, whatever
    order they came in. ``ranks``: natural_ranks of the rows (made here when not given)."""
    rank = natural_ranks(rows) if ranks is None else ranks
    sign = -1 if descending else 1
    if column == NAME:  # folders first either way
        return sorted(rows, key=lambda r: (r.type is not EntryType.DIR) * _RANKS + sign * rank[r.path])
    return sorted(rows, key=_value_key(column, sign * _RANKS, rank))


def _value_key(column: int, scale: int, rank: dict[str, int]) -> Callable[[Row], int]:
    """The sort key of a value column: ``value * scale + rank`` (the common columns inlined)."""
    if column == SIZE:
        return lambda r: r.size * scale + rank[r.path]
    if column == LAYER:
        return lambda r: r.layer * scale + rank[r.path]
    value = _SORT_KEYS.get(column, _SORT_KEYS[SIZE])
    return lambda r: value(r) * scale + rank[r.path]


def _display(r: Row, col: int) -> str | None:
    """The text of column ``col`` of the file tree for ``r``."""
    e = r.entry
    if col == NAME:
        return f"{r.name} → {r.link}" if r.type is EntryType.SYMLINK and r.link else r.name
    if col == SIZE:
        return human(r.size) if (r.size or r.type is EntryType.FILE) else ""
    if col == LAYER:
        return f"#{r.layer}"
    if col == CHANGE:
        return marks.label(marks.mark_of(r))  # beside the mark's icon (DecorationRole)
    if col == PERMISSIONS:
        return mode_string(e.type, e.mode) if e is not None else ""
    if col == OWNER:
        return f"{e.uid}:{e.gid}" if e is not None else ""
    return None


def _amount(n: int) -> str:
    """``7.6 MB (7,612,345 bytes)``; below 1 kB only the bytes (``116 bytes``)."""
    exact = "1 byte" if n == 1 else f"{n:,} bytes"
    return exact if n < 1000 else f"{human(n)} ({exact})"


def _size_line(r: Row) -> str | None:
    if r.change is ChangeKind.REMOVED and r.type is EntryType.DIR:
        entries = "1 entry" if r.held == 1 else f"{r.held:,} entries"
        return f"Held: {_amount(r.size)} in {entries}"
    if r.type is EntryType.DIR:
        items = "1 item" if r.children == 1 else f"{r.children:,} items"
        return f"Size: {_amount(r.size)} in the files below ({items} directly inside)"
    if r.type is EntryType.FILE or r.size:
        return f"Size: {_amount(r.size)}"
    return None


def _layer_line(r: Row) -> str:
    if r.change is ChangeKind.REMOVED:
        came = "" if r.stored_in == r.layer else f"; the entry came from layer #{r.stored_in}"
        return f"Layer: #{r.layer} (removed it{came})"
    return f"Layer: #{r.layer}"


def row_tooltip(r: Row) -> str:
    """Everything the tree knows about a row: path, type, size in bytes, mode, owner, layer, change,
    link target."""
    e = r.entry
    lines = [f"/{r.path}", f"Type: {_TYPE_WORD.get(r.type, str(r.type))}"]
    if r.link:
        lines.append(f"Link target: {r.link}")
    size = _size_line(r)
    if size:
        lines.append(size)
    if e is None:
        lines.append("Mode, owner: not recorded (a folder implied by the paths below it)")
    else:
        lines.append(f"Mode: {mode_string(e.type, e.mode)} ({e.mode & 0o7777:04o})")
        user, group = e.owner_names
        names = f" ({user or e.uid}:{group or e.gid})" if user or group else ""
        lines.append(f"Owner (UID:GID): {e.uid}:{e.gid}{names}")
        if e.type.is_device:
            lines.append("Device: {}, {}".format(*e.device))
    lines.append(_layer_line(r))
    lines.append(f"Change: {r.change}")
    return "\n".join(lines)


class _Item:
    __slots__ = ("children", "has_kids", "parent", "path", "row")

    def __init__(self, path: str, parent: _Item | None, row: int) -> None:
        self.path = path
        self.parent = parent
        self.row = row
        self.children: list[_Item] | None = None
        # whether it shows children, once asked (the view asks for every row it lays out; items are
        # made again when the filter or "hide unmodified" changes)
        self.has_kids: bool | None = None


class DraggedRows(QMimeData):
    """Rows dragged out of the tree: the URLs of temporary copies, written only when a drop target
    asks for them (a drag that is cancelled or dropped back on the window copies nothing)."""

    def __init__(self, paths: list[str], materialize: Callable[[list[str]], list[Path]]) -> None:
        super().__init__()
        self.paths = paths
        self._materialize = materialize
        self._urls: list[QUrl] | None = None
        self.setData(TREE_DRAG_FORMAT, QByteArray("\n".join(paths).encode()))

    def formats(self) -> list[str]:
        return [_URI_LIST, TREE_DRAG_FORMAT]

    def hasFormat(self, mimetype: str) -> bool:
        return mimetype in (_URI_LIST, TREE_DRAG_FORMAT)

    def retrieveData(self, mimetype: str, preferred_type: Any) -> Any:
        if mimetype != _URI_LIST:
            return super().retrieveData(mimetype, preferred_type)
        if self._urls is None:
            self._urls = [QUrl.fromLocalFile(str(p)) for p in self._materialize(self.paths)]
        return self._urls  # Qt makes the uri-list bytes of them when those are asked for


_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
"""A file tree row's flags (combining enum members costs more than the rest of ``flags``)."""


class FileTreeModel(CellData, QAbstractItemModel):
    """A lazy tree over a core FileView: name, size, owning layer, change, permissions, owner; rows
    tinted by owner. Only the children of expanded folders are ever made or sorted."""

    COLUMNS = TREE_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.view: FileView | None = None
        self._root = _Item("", None, 0)
        self._rows: dict[str, Row] = {}
        self._name_ranks: dict[str, int] = {}  # loaded rows' places among their siblings by name
        self._filter: set[str] | None = None  # visible paths when filtering
        self.hide_unmodified = False
        self._has_kids: dict[str, bool] = {}  # folders with a shown child, when filtering or hiding
        self._tints: dict[tuple[int, bool], tuple[QBrush, QColor]] = {}
        self._sort_col = NAME
        self._sort_order = Qt.SortOrder.AscendingOrder
        # set by the window: writes temporary copies of files and folders, for dragging them out
        self.materialize: Callable[[list[str]], list[Path]] | None = None
        self._italic = QFont()
        self._italic.setItalic(True)
        self._strike = QFont()
        self._strike.setStrikeOut(True)
        self._fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        style = QApplication.style()
        self._icons = {
            EntryType.DIR: style.standardIcon(QStyle.StandardPixmap.SP_DirIcon),
            EntryType.FILE: style.standardIcon(QStyle.StandardPixmap.SP_FileIcon),
            EntryType.SYMLINK: style.standardIcon(QStyle.StandardPixmap.SP_FileLinkIcon),
        }

    # -- configuration ------------------------------------------------------------------------------
    def _reset(self) -> None:
        """Forget the loaded children (the view shows again from the top)."""
        self._root = _Item("", None, 0)
        self._has_kids = {}

    def set_view(self, view: FileView | None) -> None:
        self.beginResetModel()
        self.view = view
        self._rows = {}
        self._name_ranks = {}
        self._filter = None
        self._reset()
        self.endResetModel()

    def set_filter(self, visible: set[str] | None) -> None:
        self.beginResetModel()
        self._filter = visible
        self._reset()
        self.endResetModel()

    def set_hide_unmodified(self, hide: bool) -> None:
        """Show only what the view's layer changed: in its own changes, no Unmodified rows; merged,
        only the paths that layer added or modified and the folders above them."""
        if hide == self.hide_unmodified:
            return
        self.beginResetModel()
        self.hide_unmodified = hide
        self._reset()
        self.endResetModel()

    # -- helpers ------------------------------------------------------------------------------------
    def row_info(self, path: str) -> Row:
        r = self._rows.get(path)
        if r is None:
            assert self.view is not None
            r = self.view.row(path)
            self._rows[path] = r
        return r

    def _shown(self, path: str) -> bool:
        """Whether ``path`` passes the filter and "hide unmodified"."""
        if self._filter is not None and path not in self._filter:
            return False
        if not self.hide_unmodified:
            return True
        return self.view is not None and self.view.changed(path)

    def _all_children(self, path: str) -> list[str]:
        if self.view is None:
            return []
        return [f"{path}/{name}" if path else name for name in self.view.children(path)]

    def _child_paths(self, path: str) -> list[str]:
        shown = [p for p in self._all_children(path) if self._shown(p)]
        return self._sorted(shown)

    def _has_shown_children(self, path: str) -> bool:
        if self.view is None or self.row_info(path).children == 0:
            return False
        if self._filter is None and not self.hide_unmodified:
            return True
        known = self._has_kids.get(path)
        if known is None:
            known = self._has_kids[path] = any(self._shown(p) for p in self._all_children(path))
        return known

    def _sorted(self, paths: list[str]) -> list[str]:
        """Sibling paths in the current sort order."""
        rows = [self.row_info(p) for p in paths]
        ranks = self._name_ranks
        if not all(map(ranks.__contains__, paths)):  # siblings loaded for the first time (or others shown)
            ranks.update(natural_ranks(rows))
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        return [r.path for r in sorted_rows(rows, self._sort_col, descending, ranks)]

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
        p: _Item = parent.internalPointer() if parent.isValid() else self._root  # asked for every row
        kids = p.children
        if kids is None or row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    # QObject.parent() and QAbstractItemModel.parent(child) share the name: keep both meanings
    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, index: _Index) -> QModelIndex: ...
    def parent(self, index: _Index | None = None) -> QObject | QModelIndex | None:
        if index is None:
            return super().parent()
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
            return self.rowCount() > 0
        if parent.column() != 0:
            return False
        it: _Item = parent.internalPointer()  # asked for every row the view lays out: kept on the item
        if it.children is not None:
            return len(it.children) > 0
        has = it.has_kids
        if has is None:
            has = it.has_kids = self._has_shown_children(it.path)
        return has

    def canFetchMore(self, parent: _Index) -> bool:
        if not parent.isValid() or parent.column() != 0:
            return False
        it = self._item(parent)
        return it.children is None and self._has_shown_children(it.path)

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
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.InitialSortOrderRole and section == SIZE:
            return Qt.SortOrder.DescendingOrder.value  # the largest first, on the first click
        if role == Qt.ItemDataRole.TextAlignmentRole and section in (SIZE, LAYER):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS  # once: the view asks for every row it lays out, twice

    def _tint(self, layer: int) -> tuple[QBrush, QColor]:
        """The row tint of ``layer`` and the text colour that reads on it (kept per palette)."""
        key = (layer, is_dark())
        t = self._tints.get(key)
        if t is None:
            bg = layer_color(layer)
            t = self._tints[key] = (QBrush(bg), text_color(bg))
        return t

    def _font(self, r: Row, col: int) -> QFont | None:
        """Removed rows are struck out, symlinks' names italic, permissions in a fixed-width font."""
        if r.change is ChangeKind.REMOVED:
            return self._strike
        if col == PERMISSIONS:
            return self._fixed
        return self._italic if r.type is EntryType.SYMLINK and col == NAME else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid():
            return None
        return self._value(self.row_info(self._item(index).path), index.column(), role)

    def cell_roles(self, index: _Index, roles: list[int]) -> list[Any]:
        """A painted cell's roles (gui/cells.py), from one look-up of its row."""
        if not index.isValid():
            return [None] * len(roles)
        r = self.row_info(self._item(index).path)
        col = index.column()
        return [self._value(r, col, role) for role in roles]

    def _value(self, r: Row, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(r, col)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._tint(r.layer)[0]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._tint(r.layer)[1]
        if role == Qt.ItemDataRole.FontRole:
            return self._font(r, col)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == CHANGE:
                return marks.icon(marks.mark_of(r))
            if col == NAME:
                return self._icons.get(r.type if r.type in self._icons else EntryType.FILE)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return row_tooltip(r)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (SIZE, LAYER):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return self._data_role(r, col, role)

    def _data_role(self, r: Row, col: int, role: int) -> Any:
        if role == SORT_ROLE:
            return r.name if col == NAME else _SORT_KEYS[col](r)
        if role == PATH_ROLE:
            return r.path
        if role == LAYER_ROLE:
            return r.layer
        if role == ROW_ROLE:
            return r
        return None

    def mimeTypes(self) -> list[str]:
        return [_URI_LIST, TREE_DRAG_FORMAT]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Dragging rows out of the tree exports them: URLs of temporary copies of the files and
        folders, made when the drop target asks for them."""
        paths = sorted({self._item(i).path for i in indexes if i.isValid()})
        materialize = self.materialize
        if materialize is None or not paths:
            return QMimeData()
        return DraggedRows(paths, materialize)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-order the loaded children (folders never expanded are sorted when they are)."""
        self._sort_col, self._sort_order = column, order
        if self.view is None:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_items = [(self._item(i), i.column()) for i in old]
        stack = [self._root]
        while stack:
            item = stack.pop()
            if item.children is None:
                continue
            by_path = {c.path: c for c in item.children}
            item.children = [by_path[p] for p in self._sorted(list(by_path))]
            for i, c in enumerate(item.children):
                c.row = i
            stack.extend(item.children)
        # the items stay; only their rows changed
        new = [self.createIndex(it.row, col, it) for it, col in old_items]
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
