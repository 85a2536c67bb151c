"""The Packages tab: the installed packages (or what the selected layer changed), filterable and
sortable, each with the layer that installed it in that layer's colour; a package's files beside it.

Selecting a package selects its first file in the tree (the first one the image still has), and
lists its files: a click, Next file or Previous file selects another. "Changes of layer #N" shows
what the layer selected in the timeline installed, changed (both versions) and removed. What the
databases could not tell (warnings, databases not supported) is one line above the table.
Everything shown was prepared by the controller's package job (gui/packages_model.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QStringListModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.display import plural
from layerscope.core.packages import Package

from ..packages_model import PackageInfo, PackageRow, PackageRows, PackageTableModel

_WIDTHS_EM = {"Change": 6, "Ecosystem": 7, "Version": 14, "Size": 7, "Layer": 4}
"""Column widths in the width of an "m" (the user can resize them)."""
MAX_FIRST_FILE_TRIES = 5000
"""Files of a package looked up in the tree to find the first one the image still has."""


class PackagesPanel(QWidget):
    """Renders a ``PackageInfo``; a chosen file becomes ``file_requested(path, layer, own)``: where
    to show it when the view shown does not have it, the merged filesystem of the top layer (an
    installed package) or the own changes of the layer selected (what that layer changed)."""

    file_requested = Signal(str, int, bool)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.info: PackageInfo | None = None
        self.layer: int | None = None  # the layer selected in the timeline
        self.top = 0  # the image's top layer
        self.exists: Callable[[str, int | None], bool] = lambda _path, _layer: True
        """Whether the image has a path at the top (layer None), or among a layer's own changes."""
        self.current: PackageRow | None = None  # the package whose files are listed
        self._shown: PackageRows | None = None  # the rows the table shows
        self._fitted: tuple[str, ...] = ()  # the columns whose widths were set
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter packages (name, version, ecosystem)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.layer_mode = QToolButton()
        self.layer_mode.setCheckable(True)
        self.layer_mode.setToolTip("Show what the layer selected in the timeline installed, changed, removed")
        self.layer_mode.toggled.connect(lambda _on: self._show_table())
        self.notes = QLabel("")
        self.notes.setWordWrap(False)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes.hide()
        self.model = PackageTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.selectionModel().currentRowChanged.connect(self._package_chosen)
        self.files_label = QLabel("")
        self.files = QStringListModel(self)
        self.file_list = QListView()
        self.file_list.setModel(self.files)
        self.file_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.file_list.setUniformItemSizes(True)
        self.file_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the names differ at the end
        self.file_list.clicked.connect(self._file_clicked)
        self.file_list.activated.connect(self._file_clicked)
        self.next_action = QAction("Next file", self)
        self.next_action.setShortcut(QKeySequence("Ctrl+J"))
        self.next_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.next_action.triggered.connect(lambda: self.step_file(1))
        self.previous_action = QAction("Previous file", self)
        self.previous_action.setShortcut(QKeySequence("Ctrl+Shift+J"))
        self.previous_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.previous_action.triggered.connect(lambda: self.step_file(-1))
        self.addActions([self.next_action, self.previous_action])
        for label in (self.status, self.notes, self.files_label):  # long lines never widen the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._build()
        self.show_info(None)

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.layer_mode)
        files_box = QWidget()
        fl = QVBoxLayout(files_box)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.setSpacing(2)
        head = QHBoxLayout()
        head.addWidget(self.files_label, 1)
        for act in (self.previous_action, self.next_action):
            b = QToolButton()
            b.setDefaultAction(act)
            b.setAutoRaise(True)
            head.addWidget(b)
        fl.addLayout(head)
        fl.addWidget(self.file_list, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(files_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([760, 400])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.notes)
        lay.addWidget(split, 1)

    # ---- what is shown ---------------------------------------------------------------------------
    def show_info(self, info: PackageInfo | None, top: int | None = None) -> None:
        """The packages of the image shown (None: none yet, or no image); ``top``: its top layer."""
        self.info = info
        if top is not None:
            self.top = top
        h = info.history if info is not None else None
        notes: list[str] = []
        if h is not None:
            if h.unsupported:
                notes.append("not supported: " + ", ".join(f"/{u.lstrip('/')}" for u in h.unsupported))
            if h.warnings:
                notes.append(f"{plural(len(h.warnings), 'warning')}: " + "; ".join(h.warnings))
        elif info is not None and info.failed is not None:
            notes.append(f"the packages could not be read: {info.failed}")
        text = "  ·  ".join(notes)
        self.notes.setText(f"⚠ {text}" if text else "")
        self.notes.setToolTip("\n".join(notes))
        self.notes.setVisible(bool(text))
        self._show_table()

    def show_layer(self, layer: int | None) -> None:
        """The layer selected in the timeline: the one "Changes of layer" shows."""
        self.layer = layer
        self._show_table()

    def _show_table(self) -> None:
        info, layer = self.info, self.layer
        h = info.history if info is not None else None
        self.layer_mode.setText(f"Changes of layer #{layer}" if layer is not None else "Changes of layer")
        self.layer_mode.setEnabled(h is not None and layer is not None)
        by_layer = self.layer_mode.isChecked() and h is not None and layer is not None
        rows = None
        if info is not None and h is not None:
            rows = info.table
            if by_layer and layer is not None and 0 <= layer < len(info.per_layer):
                rows = info.per_layer[layer]
        if rows is not self._shown or rows is None:
            self._shown = rows
            self.model.set_rows(rows)
            self.table.horizontalHeader().setSortIndicator(*self.model.sorting)  # Name keeps its place
            self._fit_columns()
            self._list_files(None)
        self._show_status()

    def _fit_columns(self) -> None:
        """Widths from the font, not from the rows (measuring rows reads hundreds of cells)."""
        if self.model.columns == self._fitted:
            return  # the user's widths stay
        self._fitted = self.model.columns
        hh = self.table.horizontalHeader()
        em = self.table.fontMetrics().horizontalAdvance("m")
        for c, name in enumerate(self.model.columns):
            if name == "Name":
                hh.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
                continue
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            hh.resizeSection(c, _WIDTHS_EM.get(name, 8) * em)

    def _show_status(self) -> None:
        info = self.info
        h = info.history if info is not None else None
        if info is None or (h is None and info.failed is None):
            self.status.setText("Reading the package databases…" if info is not None else "")
            return
        if h is None:
            self.status.setText("No packages")
            return
        shown, total = self.model.rowCount(), self.model.total
        of = f"{shown:,} of {total:,}" if self.model.filter_text else f"{total:,}"
        if self.layer_mode.isChecked() and self.layer is not None and 0 <= self.layer < len(h.layers):
            lp = h.layers[self.layer]
            what = lp.summary() or "no package changes"
            shown_of = f" ({of} shown)" if self.model.filter_text else ""
            self.status.setText(f"Layer #{self.layer}: {what}{shown_of}")
            return
        if not total:
            self.status.setText("No package database found")
            return
        per = Counter(p.ecosystem.value for p in h.packages)
        kinds = ", ".join(f"{n:,} {eco}" for eco, n in sorted(per.items(), key=lambda kv: -kv[1]))
        self.status.setText(f"{of} package{'s' if total != 1 else ''} ({kinds})")

    def _filter_changed(self, text: str) -> None:
        self.model.set_filter(text)
        self._show_status()
        self._list_files(None)

    # ---- a package and its files ------------------------------------------------------------------
    def select_package(self, package: Package) -> bool:
        """Select ``package``'s row (False: it is not in the table shown)."""
        row = self.model.row_of(package)
        if row < 0:
            return False
        self.table.setCurrentIndex(self.model.index(row, 0))
        return True

    def _package_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self._list_files(None)
            return
        r = self.model.row(current.row())
        self._list_files(r)
        files = r.package.files
        if not files:
            return
        _layer, own = self._where(r)
        at = self.layer if own else None
        first = next((i for i, f in enumerate(files[:MAX_FIRST_FILE_TRIES]) if self.exists(f, at)), 0)
        self._select_file(first)

    def _list_files(self, r: PackageRow | None) -> None:
        self.current = r
        files = list(r.package.files) if r is not None else []
        self.files.setStringList(["/" + f for f in files])
        if r is None:
            self.files_label.setText("Select a package to see its files")
        else:
            self.files_label.setText(f"{plural(len(files), 'file')} of {r.package.name}")
        self.next_action.setEnabled(len(files) > 1)
        self.previous_action.setEnabled(len(files) > 1)

    def _where(self, r: PackageRow) -> tuple[int, bool]:
        """Where a package's files are shown: an installed package's in the merged filesystem of
        the top layer, what a layer changed (removed files too) among that layer's own changes (a
        file it did not change lands on its nearest folder there): the layer stays the same."""
        if not r.change or self.layer is None:
            return self.top, False
        return self.layer, True

    def _select_file(self, n: int) -> None:
        r = self.current
        if r is None or not 0 <= n < len(r.package.files):
            return
        idx = self.files.index(n, 0)
        self.file_list.selectionModel().setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.file_list.scrollTo(idx)
        self.file_requested.emit(r.package.files[n], *self._where(r))

    def _file_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self._select_file(index.row())

    def step_file(self, step: int) -> None:
        """Select the package's next (``step`` 1) or previous (-1) file, round the list."""
        r = self.current
        if r is None or not r.package.files:
            return
        n = len(r.package.files)
        cur = self.file_list.currentIndex()
        at = cur.row() if cur.isValid() else -1 if step > 0 else 0
        self._select_file((at + step) % n)
