"""The History tab: the image's build steps read as its Dockerfile, one instruction per row (steps
that made no layer dimmed), each layer step with its identities: diff_id, ChainID and, in legacy
``docker save`` archives, the v1 image id. Selecting a layer step selects its layer; "Copy as
Dockerfile" copies core/buildsteps/dockerfile.py's text. The steps were read by the controller's
package job (gui/packages_model.py's ``PackageInfo.started``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QFontDatabase, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.buildsteps.dockerfile import as_dockerfile
from layerscope.core.buildsteps.steps import BuildHistory, BuildStep
from layerscope.core.display import plural

from ..cells import CellData
from ..colors import layer_color
from ..models import LAYER_ROLE
from ..worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex

SHORT_ID = 12
"""Hex digits of an id shown in its column (the tooltip has all of them)."""


def short_id(digest: str | None) -> str:
    """``sha256:3405044b46cf…`` → ``3405044b46cf``; "" for none."""
    if not digest:
        return ""
    return digest.partition(":")[2][:SHORT_ID] if ":" in digest else digest[:SHORT_ID]


class HistoryModel(CellData, QAbstractTableModel):
    """One row per history step, bottom to top: its layer, its Dockerfile line, its identities."""

    COLUMNS = ("Layer", "Step", "ChainID", "diff_id", "v1 id")
    STEP = 1

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.history: BuildHistory | None = None
        self._steps: tuple[BuildStep, ...] = ()
        self._bold = QFont()
        self._bold.setBold(True)
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_history(self, history: BuildHistory | None) -> None:
        self.beginResetModel()
        self.history = history
        self._steps = history.steps if history is not None else ()
        self.endResetModel()

    def step(self, row: int) -> BuildStep:
        return self._steps[row]

    def row_of_layer(self, layer: int) -> int:
        return next((r for r, s in enumerate(self._steps) if s.layer == layer and not s.empty), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._steps)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        s, col = self._steps[index.row()], index.column()
        made_layer = s.layer is not None and not s.empty
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"#{s.layer}" if made_layer else "·"
            if col == self.STEP:
                return step_line(s)
            return short_id((s.chain_id, s.diff_id, s.v1_id)[col - 2] if made_layer and col >= 2 else None)
        if role == Qt.ItemDataRole.ToolTipRole:
            return step_tooltip(s)
        if role == Qt.ItemDataRole.ForegroundRole and not made_layer:
            dim = QColor(QApplication.palette().color(QPalette.ColorRole.Text))
            dim.setAlpha(110)  # as the timeline dims them, in light and dark palettes alike
            return QBrush(dim)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and made_layer and s.layer is not None:
            return layer_color(s.layer)
        if role == Qt.ItemDataRole.FontRole and col == self.STEP and s.instruction is not None and made_layer:
            return self._bold if s.instruction.value in ("RUN", "COPY", "ADD") else None
        if role == Qt.ItemDataRole.FontRole and col >= 2:
            return self._mono
        if role == LAYER_ROLE:
            return s.layer if made_layer else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def step_line(s: BuildStep) -> str:
    """The step as one Dockerfile line (a step naming no instruction reads as a comment)."""
    text = (s.command or "(no command recorded)").replace("\n", " ")
    return text if s.instruction is not None else f"# {text}"


def step_tooltip(s: BuildStep) -> str:
    """The step in full: its command, when it was made, its identities."""
    lines = [s.command or "(no command recorded)"]
    if s.created:
        lines.append(f"created {s.created}")
    if s.layer is not None and not s.empty:
        lines.append(f"layer #{s.layer}")
        for name, value in (
            ("diff_id", s.diff_id),
            ("ChainID", s.chain_id),
            ("v1 id", s.v1_id),
            ("v1 parent", s.v1_parent),
        ):
            if value:
                lines.append(f"{name}: {value}")
    else:
        lines.append("no layer (a metadata step)")
    if s.comment:
        lines.append(f"comment: {s.comment}")
    return "\n".join(lines)


class HistoryPanel(QWidget):
    """The build steps; selecting a layer step asks for its layer (``layer_selected``)."""

    layer_selected = Signal(int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.name = ""  # the image's name, for the Dockerfile's heading
        self._quiet = False  # the selection follows the window's layer: not the user's choice
        self.model = HistoryModel(self)
        self.heading = QLabel("")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens
        self.copy_button = QPushButton("Copy as Dockerfile")
        self.copy_button.setToolTip("Copy the history as a Dockerfile, each layer step with its identities")
        self.copy_button.clicked.connect(self.copy_dockerfile)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(HistoryModel.STEP, QHeaderView.ResizeMode.Stretch)
        for c in range(2, len(HistoryModel.COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        copy = QAction("Copy step", self.table)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_step)
        self.table.addAction(copy)
        bar = QHBoxLayout()
        bar.addWidget(self.heading, 1)
        bar.addWidget(self.copy_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.table, 1)
        self.show_history(None)

    def show_history(self, history: BuildHistory | None, name: str = "", reading: bool = False) -> None:
        """The steps of the image shown (None: not read yet when ``reading``, else no image)."""
        self.name = name
        self.model.set_history(history)
        self.copy_button.setEnabled(history is not None)
        if history is None:
            self.heading.setText("Reading the build history…" if reading else "")
            self.heading.setToolTip("")
            return
        layers = sum(1 for s in history.steps if s.layer is not None and not s.empty)
        text = f"{plural(len(history.steps), 'step')}, {plural(layers, 'layer')}"
        if history.image_id:
            text += f"  ·  image id {history.image_id}"
        if history.warnings:
            text += "  ·  ⚠ " + "; ".join(history.warnings)
        self.heading.setText(text)
        self.heading.setToolTip(text)

    def show_layer(self, layer: int | None) -> None:
        """Select ``layer``'s step (quietly: the window already shows that layer)."""
        row = self.model.row_of_layer(layer) if layer is not None else -1
        if row < 0 or self.table.currentIndex().row() == row:
            return
        self._quiet = True
        try:
            self.table.selectRow(row)
        finally:
            self._quiet = False

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._quiet or not current.isValid():
            return
        layer = current.siblingAtColumn(0).data(LAYER_ROLE)
        if layer is not None:
            self.layer_selected.emit(int(layer))

    def dockerfile(self) -> str:
        h = self.model.history
        return as_dockerfile(h, self.name) if h is not None else ""

    def copy_dockerfile(self) -> None:
        text = self.dockerfile()
        if text:
            QApplication.clipboard().setText(text)

    def copy_step(self) -> None:
        idx = self.table.currentIndex()
        if idx.isValid():
            QApplication.clipboard().setText(self.model.step(idx.row()).command)
