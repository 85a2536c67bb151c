"""What the Packages and History tabs show, made off the GUI thread, and the package table's model.

``PackageInfo.started`` (the build steps and the OS) and ``PackageInfo.completed`` (the packages,
every layer's package changes, their rows) run in the controller's package job; the rows hold every
cell's text, a search key and the row order for each sort column, so the model only indexes into
them: sorting swaps one prepared order for another, filtering is one pass over prepared keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from layerscope.core.buildsteps.steps import BuildHistory, build_history
from layerscope.core.display import human_size
from layerscope.core.packages import OsRelease, Package, PackageHistory, image_os, package_history
from layerscope.core.packages.model import LayerPackages
from layerscope.core.progress import CancelCheck, StageProgress, check_cancelled
from layerscope.core.session import LoadedImage

from .cells import CellData
from .colors import layer_color, text_color
from .models import LAYER_ROLE
from .worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex

PACKAGE_COLUMNS = ("Ecosystem", "Name", "Version", "Size", "Layer")
"""The table of the packages installed at the top layer."""
CHANGE_COLUMNS = ("Change", "Ecosystem", "Name", "Version", "Size", "Layer")
"""The table of one layer's package changes (a changed package's Version reads ``from → to``)."""

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
_CHANGE_ORDER = {ADDED: 0, CHANGED: 1, REMOVED: 2}


@dataclass(frozen=True, slots=True)
class PackageRow:
    """One row: the package (for a removed one, as it was), what the layer did, the version before."""

    package: Package
    change: str = ""  # "" in the table of installed packages
    before: Package | None = None  # a changed package's previous version


@dataclass(slots=True)
class PackageRows:
    """A table ready to show: per row its cells and search key, per column the row order (ascending)."""

    columns: tuple[str, ...] = PACKAGE_COLUMNS
    rows: list[PackageRow] = field(default_factory=list)
    cells: list[tuple[str, ...]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # lower-case text the filter searches
    orders: list[list[int]] = field(default_factory=list)

    @classmethod
    def of(cls, rows: list[PackageRow], changes: bool, cancelled: CancelCheck | None = None) -> PackageRows:
        """The cells, keys and orders of ``rows`` (off the GUI thread). Raises Cancelled."""
        cells: list[tuple[str, ...]] = []
        keys: list[str] = []
        for r in rows:
            p = r.package
            version = f"{r.before.version} → {p.version}" if r.before is not None else p.version
            size = human_size(p.size) if p.size is not None else ""
            main = (p.ecosystem.value, p.name, version, size, f"#{p.layer}")
            cells.append((r.change, *main) if changes else main)
            keys.append(f"{p.ecosystem.value} {p.name} {version}".lower())
        check_cancelled(cancelled)
        n = range(len(rows))
        name = sorted(n, key=lambda i: (rows[i].package.name.lower(), rows[i].package.ecosystem.value))
        rank = {i: k for k, i in enumerate(name)}  # ties of the other columns go by name
        sort_keys: list[Any] = [
            lambda i: (rows[i].package.ecosystem.value, rank[i]),
            None,
            lambda i: (rows[i].package.version, rank[i]),
            lambda i: (rows[i].package.size if rows[i].package.size is not None else -1, rank[i]),
            lambda i: (rows[i].package.layer, rank[i]),
        ]
        if changes:
            sort_keys.insert(0, lambda i: (_CHANGE_ORDER.get(rows[i].change, 3), rank[i]))
        orders: list[list[int]] = []
        for key in sort_keys:
            check_cancelled(cancelled)
            orders.append(name if key is None else sorted(n, key=key))
        return cls(CHANGE_COLUMNS if changes else PACKAGE_COLUMNS, rows, cells, keys, orders)


def layer_rows(lp: LayerPackages, cancelled: CancelCheck | None = None) -> PackageRows:
    """The rows of what layer ``lp`` did: added, changed (both versions), removed."""
    rows = [PackageRow(p, ADDED) for p in lp.added]
    rows += [PackageRow(u.after, CHANGED, u.before) for u in lp.changed]
    rows += [PackageRow(p, REMOVED) for p in lp.removed]
    return PackageRows.of(rows, changes=True, cancelled=cancelled)


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What the package job found about one image: its build steps and OS first, then its packages.

    ``history`` is None while the packages are still being read (or when reading them failed:
    ``failed`` says why); ``table`` is the installed packages' rows, ``per_layer`` each layer's
    changes' rows, ``summaries`` each layer's short line (``+3 deb, ~1 deb``; layers that changed no
    package are left out).
    """

    steps: BuildHistory | None
    os: OsRelease | None
    history: PackageHistory | None = None
    table: PackageRows = field(default_factory=PackageRows)
    per_layer: tuple[PackageRows, ...] = ()
    summaries: dict[int, str] = field(default_factory=dict)
    failed: str | None = None

    @property
    def done(self) -> bool:
        """The packages are read (or reading them failed): nothing more is coming."""
        return self.history is not None or self.failed is not None

    @classmethod
    def started(cls, s: LoadedImage) -> PackageInfo:
        """The build steps and the OS of ``s`` (quick: a few small reads; off the GUI thread)."""
        return cls(build_history(s.archive, s.image), image_os(s))

    def completed(
        self, s: LoadedImage, progress: StageProgress | None = None, cancelled: CancelCheck | None = None
    ) -> PackageInfo:
        """This, with ``s``'s packages and their rows (off the GUI thread). Raises Cancelled."""
        h = package_history(s, progress=progress, cancelled=cancelled)
        table = PackageRows.of([PackageRow(p) for p in h.packages], changes=False, cancelled=cancelled)
        per_layer = tuple(layer_rows(lp, cancelled) for lp in h.layers)
        summaries = {lp.layer: lp.summary() for lp in h.layers if not lp.empty}
        return dataclasses.replace(
            self,
            os=h.os if h.os is not None else self.os,
            history=h,
            table=table,
            per_layer=per_layer,
            summaries=summaries,
        )

    def failing(self, why: str) -> PackageInfo:
        return dataclasses.replace(self, failed=why)


class PackageTableModel(CellData, QAbstractTableModel):
    """The rows of prepared ``PackageRows``, filtered by a text and sorted by a prepared order."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows = PackageRows()
        self.filter_text = ""
        self._order: list[int] = []  # row -> index into ``rows``
        self._sort = (1, Qt.SortOrder.AscendingOrder)  # by name

    @property
    def columns(self) -> tuple[str, ...]:
        return self.rows.columns

    def set_rows(self, rows: PackageRows | None) -> None:
        """Show ``rows`` (None: none); the sort is kept by column name, the filter stays."""
        rows = rows if rows is not None else PackageRows()
        column, order = self._sort
        name = self.rows.columns[column] if 0 <= column < len(self.rows.columns) else "Name"
        self.beginResetModel()
        self.rows = rows
        self._sort = (rows.columns.index(name) if name in rows.columns else rows.columns.index("Name"), order)
        self._order = self._ordered()
        self.endResetModel()

    def set_filter(self, text: str) -> None:
        """Only the rows whose ecosystem, name or version holds ``text`` (any case)."""
        text = text.strip().lower()
        if text == self.filter_text:
            return
        self.beginResetModel()
        self.filter_text = text
        self._order = self._ordered()
        self.endResetModel()

    @property
    def sorting(self) -> tuple[int, Qt.SortOrder]:
        """The column and order the rows are sorted by."""
        return self._sort

    @property
    def total(self) -> int:
        """Rows before the filter."""
        return len(self.rows.rows)

    def row(self, row: int) -> PackageRow:
        return self.rows.rows[self._order[row]]

    def row_of(self, package: Package) -> int:
        """The table row showing ``package`` (-1: filtered out or not there)."""
        for r, i in enumerate(self._order):
            if self.rows.rows[i].package == package:
                return r
        return -1

    def _ordered(self, sort: tuple[int, Qt.SortOrder] | None = None) -> list[int]:
        column, order = sort or self._sort
        orders = self.rows.orders
        up: Sequence[int] = orders[column] if 0 <= column < len(orders) else range(len(self.rows.rows))
        seq = up if order == Qt.SortOrder.AscendingOrder else up[::-1]
        if not self.filter_text:
            return list(seq)
        keys, needle = self.rows.keys, self.filter_text
        return [i for i in seq if needle in keys[i]]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if (column, order) == self._sort:
            return
        self.layoutAboutToBeChanged.emit()
        old, self._sort = self._order, (column, order)
        new = self._ordered()
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
        return 0 if parent.isValid() else len(self.rows.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.rows.columns)
        ):
            return self.rows.columns[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self._order):
            return None
        n, col = self._order[index.row()], index.column()
        if not 0 <= col < len(self.rows.columns):
            return None
        heading = self.rows.columns[col]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows.cells[n][col]
        r = self.rows.rows[n]
        if role == LAYER_ROLE:
            return r.package.layer
        if heading == "Layer" and role == Qt.ItemDataRole.BackgroundRole:
            return layer_color(r.package.layer)
        if heading == "Layer" and role == Qt.ItemDataRole.ForegroundRole:
            return text_color(layer_color(r.package.layer))
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(r)
        if role == Qt.ItemDataRole.TextAlignmentRole and heading in ("Size", "Layer"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def tooltip(r: PackageRow) -> str:
    """One package in full: where it was read, its architecture, size and number of files."""
    p = r.package
    lines = [f"{p.ecosystem.value} {p.name} {p.version}" + (f" ({p.arch})" if p.arch else "")]
    if r.before is not None:
        lines.append(f"changed from {r.before.version} (installed by layer #{r.before.layer})")
    if r.change == REMOVED:
        lines.append(f"removed; it was installed by layer #{p.layer}")
    else:
        lines.append(f"this version installed by layer #{p.layer}")
    if p.size is not None:
        lines.append(f"size {human_size(p.size)} ({p.size:,} bytes)")
    lines.append(f"{len(p.files):,} file{'' if len(p.files) == 1 else 's'}")
    if p.source:
        lines.append(f"read from /{p.source.lstrip('/')}")
    return "\n".join(lines)
