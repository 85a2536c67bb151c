"""The Waste tab: dive-compatible and LayerScope figures side by side, and the wasted paths.

Nothing here is proportional to the image on the GUI thread: ``WasteRows.prepare`` (run by the
controller's load job, off the GUI thread) makes every row's text and the row order for each sort
column; the model only indexes into them, and sorting swaps one prepared order for another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.display import human_size, plural
from layerscope.core.progress import CancelCheck, check_cancelled
from layerscope.core.session import LoadedImage
from layerscope.core.space.waste_groups import (
    ExplainedWaste,
    WasteCause,
    WasteExplained,
    WasteFolder,
    WasteHeadline,
)
from layerscope.core.turns import sorted_in_turns
from layerscope.core.waste import WasteItem

from ..cells import CellData
from ..colors import layer_color
from ..models import SORT_ROLE
from ..worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Path", "Copies", "Wasted", "Layers", "Why hidden")
CHUNK = 256
"""Rows made between two checks of the job's cancel (a few milliseconds at most: the check is also
where the job gives way to the GUI thread)."""


@dataclass(slots=True)
class WasteRows:
    """The Waste table, ready to show: per item its cells, and per column the item order (ascending)."""

    items: list[WasteItem] = field(default_factory=list)
    cells: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    orders: list[list[int]] = field(default_factory=list)  # per column: item indexes, ascending
    figures_html: str = ""

    @classmethod
    def prepare(cls, s: LoadedImage, cancelled: CancelCheck | None = None) -> WasteRows:
        """Every row of ``s``'s waste figures (the controller's load job calls this, off the GUI
        thread). Raises Cancelled."""
        items = s.figures.wasted
        cells: list[tuple[str, str, str, str, str]] = []
        for start in range(0, len(items), CHUNK):
            check_cancelled(cancelled)  # also where the job gives the GUI thread its turn
            cells.extend(
                (
                    "/" + w.path,
                    f"{len(w.copies):,}",
                    human_size(w.size),
                    ", ".join(f"#{i}" for i in w.layers),
                    "deleted" if w.deleted else "shadowed",
                )
                for w in items[start : start + CHUNK]
            )
        # ``items`` come biggest first (ties by path): each order is a stable sort of that order on one
        # int key (fast C comparisons, no long GIL-holding sort of tuples); the path order sorts strings
        n = len(items)
        by_size = list(range(n - 1, -1, -1))  # ascending size
        check_cancelled(cancelled)
        orders = [sorted_in_turns(range(n), lambda i: items[i].path)]
        for key in (
            lambda i: len(items[i].copies),
            None,
            lambda i: items[i].layers[0] if items[i].layers else -1,
            lambda i: int(items[i].deleted),
        ):
            check_cancelled(cancelled)
            orders.append(by_size if key is None else sorted_in_turns(range(n), key))
        return cls(items, cells, orders, figures_html(s))


def figures_html(s: LoadedImage) -> str:
    """The figures beside the table: dive's, then LayerScope's, then per layer."""
    d, f = s.dive, s.figures
    h = human_size
    return (
        "<b>dive-compatible</b> (as dive 0.13.1 computes them)<br>"
        f"efficiency: {d.efficiency * 100:.4f} %<br>"
        f"wasted: {h(d.wasted_bytes)} ({d.wasted_bytes:,} bytes)<br>"
        f"user wasted percent: {d.user_wasted_percent * 100:.4f} %<br>"
        f"inefficient files: {len(d.inefficient_files):,}<br><br>"
        "<b>LayerScope</b> (stored but hidden in the final filesystem; kept copies not counted)<br>"
        f"stored: {h(f.stored_bytes)}, visible: {h(f.visible_bytes)}<br>"
        f"wasted: {h(f.wasted_bytes)} ({f.wasted_percent * 100:.2f} % of stored) "
        f"in {plural(len(f.wasted), 'path')}<br><br>"
        + "<br>".join(f"layer #{ly.index}: stored {h(ly.stored)}, visible {h(ly.visible)}" for ly in f.layers)
    )


class WasteModel(CellData, QAbstractTableModel):
    """The wasted paths, from prepared ``WasteRows``; sorting picks one of the prepared orders."""

    COLUMNS = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows = WasteRows()
        self._order: list[int] = []  # row -> item index
        self._sort = (2, Qt.SortOrder.DescendingOrder)

    @property
    def items(self) -> list[WasteItem]:
        return self.rows.items

    def set_rows(self, rows: WasteRows) -> None:
        self.beginResetModel()
        self.rows = rows
        self._order = self._ordered(*self._sort)
        self.endResetModel()

    def item(self, row: int) -> WasteItem:
        return self.rows.items[self._order[row]]

    def _ordered(self, column: int, order: Qt.SortOrder) -> list[int]:
        orders = self.rows.orders
        if not 0 <= column < len(orders):
            return list(range(len(self.rows.items)))
        up = orders[column]
        return up if order == Qt.SortOrder.AscendingOrder else up[::-1]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if (column, order) == self._sort:
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self._order
        new = self._ordered(column, order)
        persistent = self.persistentIndexList()
        if persistent:
            position = {item: row for row, item in enumerate(new)}
            moved = [
                self.index(position[old[p.row()]], p.column()) if 0 <= p.row() < len(old) else QModelIndex()
                for p in persistent
            ]
            self.changePersistentIndexList(persistent, moved)
        self._order = new
        self.layoutChanged.emit()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self._order):
            return None
        n = self._order[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows.cells[n][col]
        if role == SORT_ROLE:
            w = self.rows.items[n]
            return (w.path, len(w.copies), w.size, w.layers[0] if w.layers else -1, w.deleted)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self.rows.items[n])
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def tooltip(w: WasteItem) -> str:
    """One wasted path in full: each stored copy and the layers that hid them."""
    return (
        f"/{w.path}: {human_size(w.size)} stored in layers "
        + ", ".join(f"#{layer} ({human_size(n)})" for layer, n in w.copies)
        + " and hidden by layer "
        + ", ".join(f"#{b}" for b in w.by)
    )


class WastePanel(QWidget):
    path_requested = Signal(str, int)  # path, layer that stored the wasted copy

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.figures = QLabel("")
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = WasteModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
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
        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.by_folder = WasteGroupsModel("folder", self)
        self.by_cause = WasteGroupsModel("cause", self)
        self.folder_tree = self._group_view(self.by_folder)
        self.cause_tree = self._group_view(self.by_cause)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(split, "All paths")
        self.views.addTab(self.folder_tree, "By folder")
        self.views.addTab(self.cause_tree, "By layer that hid it")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.headline)
        lay.addWidget(self.views, 1)

    def _group_view(self, model: WasteGroupsModel) -> QTreeView:
        v = QTreeView()
        v.setModel(model)
        v.setUniformRowHeights(True)
        v.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        v.header().resizeSection(0, 340)
        v.header().setStretchLastSection(True)
        v.clicked.connect(lambda index, m=model: self._group_clicked(m, index))
        v.activated.connect(lambda index, m=model: self._group_clicked(m, index))
        return v

    def show_space(self, waste: WasteExplained | None, headline: WasteHeadline | None) -> None:
        """The waste explained (gui/space_flow.py made it off the GUI thread) and the headline with
        both figures; None: not known yet, or no image."""
        self.by_folder.set_waste(waste)
        self.by_cause.set_waste(waste)
        self.headline.setText(headline.text if headline is not None else "")
        self.headline.setToolTip(headline.explanation if headline is not None else "")

    def _group_clicked(self, model: WasteGroupsModel, index: QModelIndex) -> None:
        w = model.item(index)
        if w is not None:
            self.path_requested.emit(w.path, w.stored_in)

    def show_rows(self, rows: WasteRows | None) -> None:
        """The prepared rows of an image (None: no image)."""
        rows = rows if rows is not None else WasteRows()
        self.figures.setText(rows.figures_html)
        self.model.set_rows(rows)

    def _clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        w = self.model.item(index.row())
        self.path_requested.emit(w.path, w.copies[0][0] if w.copies else 0)


# ---- the waste explained: by folder and by the layer that hid it (issue 18) ------------------------
MAX_GROUP_ROWS = 1_000
"""Wasted paths listed under one folder or cause at most; a last row says how many more there are."""
GROUP_COLUMNS = ("Path", "Wasted", "Items", "Why")


class _Node:
    """One row of a grouped view: a folder or a cause (``value``), a wasted path, or "N more"."""

    __slots__ = ("kids", "parent", "row", "value")

    def __init__(self, value: object, parent: _Node | None, row: int) -> None:
        self.value = value
        self.parent = parent
        self.row = row
        self.kids: list[_Node] | None = None


@dataclass(frozen=True, slots=True)
class _More:
    items: int
    bytes: int


class WasteGroupsModel(CellData, QAbstractItemModel):
    """The explained waste as a tree: ``by`` "folder" (folders with their totals, opened one level at
    a time, the wasted paths in them) or "cause" (each layer that hid something, its paths). Rows
    are made when their parent is first opened, at most MAX_GROUP_ROWS paths per parent."""

    def __init__(self, by: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.by = by
        self.waste: WasteExplained | None = None
        self._root = _Node(None, None, 0)

    def set_waste(self, waste: WasteExplained | None) -> None:
        self.beginResetModel()
        self.waste = waste
        self._root = _Node(None, None, 0)
        self.endResetModel()

    def _kids(self, node: _Node) -> list[_Node]:
        if node.kids is not None:
            return node.kids
        values: list[object] = []
        w = self.waste
        v = node.value
        if w is None:
            pass
        elif self.by == "folder":
            if node is self._root:
                subs, items = w.by_folder.children("")
                values = [*subs, *items]
            elif isinstance(v, WasteFolder):
                subs, items = w.by_folder.children(v.path)
                values = [*subs, *items]
        elif node is self._root:
            values = list(w.by_cause)
        elif isinstance(v, WasteCause):
            values = list(v.items)
        folders = [x for x in values if not isinstance(x, ExplainedWaste)]
        paths = [x for x in values if isinstance(x, ExplainedWaste)]
        if len(paths) > MAX_GROUP_ROWS:
            rest = paths[MAX_GROUP_ROWS:]
            paths = [*paths[:MAX_GROUP_ROWS]]
            values = [*folders, *paths, _More(len(rest), sum(x.size for x in rest))]
        else:
            values = [*folders, *paths]
        node.kids = [_Node(x, node, i) for i, x in enumerate(values)]
        return node.kids

    def node(self, index: _Index) -> _Node:
        if not index.isValid():
            return self._root
        n = index.internalPointer()
        assert isinstance(n, _Node)
        return n

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(GROUP_COLUMNS) or row < 0:
            return QModelIndex()
        kids = self._kids(self.node(parent))
        if row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        n = self.node(index).parent
        if n is None or n is self._root:
            return QModelIndex()
        return self.createIndex(n.row, 0, n)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        n = self.node(parent)
        if n is not self._root and not isinstance(n.value, (WasteFolder, WasteCause)):
            return 0
        return len(self._kids(n))

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return self.waste is not None
        if parent.column() != 0:
            return False
        return isinstance(self.node(parent).value, (WasteFolder, WasteCause))

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(GROUP_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            name = GROUP_COLUMNS[section]
            return "Layer / path" if self.by == "cause" and section == 0 else name
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid():
            return None
        v = self.node(index).value
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            cells = self._cells(v)
            if role == Qt.ItemDataRole.ToolTipRole:
                return cells[3] or cells[0]
            return cells[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and isinstance(v, WasteCause):
            return layer_color(v.layer)
        return None

    def _cells(self, v: object) -> tuple[str, str, str, str]:
        if isinstance(v, WasteFolder):
            name = v.path.rsplit("/", 1)[-1] + "/" if v.path else "/"
            return name, human_size(v.bytes), f"{v.items:,}", ""
        if isinstance(v, WasteCause):
            step = self.waste.steps.name(v.layer) if self.waste is not None else f"#{v.layer}"
            stored = ", ".join(f"#{k}: {human_size(n)}" for k, n in v.stored_by.items())
            why = f"deleted {human_size(v.deleted)}, shadowed {human_size(v.shadowed)}; stored by {stored}"
            return f"hidden by {step}", human_size(v.bytes), f"{len(v.items):,}", why
        if isinstance(v, ExplainedWaste):
            name = "/" + v.path if self.by == "cause" else v.path.rsplit("/", 1)[-1]
            return name, human_size(v.size), "", v.why
        if isinstance(v, _More):
            return f"… {v.items:,} more", human_size(v.bytes), f"{v.items:,}", ""
        return "", "", "", ""

    def item(self, index: _Index) -> ExplainedWaste | None:
        v = self.node(index).value if index.isValid() else None
        return v if isinstance(v, ExplainedWaste) else None

    def total(self) -> int:
        """The bytes of the top-level rows, added up (the panel's headline's figure)."""
        return sum(
            getattr(n.value, "bytes", 0) or getattr(n.value, "size", 0) for n in self._kids(self._root)
        )
