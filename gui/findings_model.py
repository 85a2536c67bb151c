"""The Findings table's model: an ``AuditReport``'s findings as rows, and the filter over them.

Severity is told by shape and word (▲ high, ● medium, ○ low), and by colour as well; a layer by its
number and its colour (gui/colors.py). Every string a role returns comes from the finding's
redacted fields (core/audit/finding.py ``Redacted``, ``Finding.detail``): a secret is never shown,
copied or put in a tooltip in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from layerscope.core.audit import AuditReport, Finding, Severity

from .cells import CellData
from .colors import is_dark, layer_color, text_color
from .models import SORT_ROLE
from .worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Severity", "Rule", "Path", "Layer", "Hidden by", "Detail")
SEVERITY, RULE, PATH, LAYER, HIDDEN, DETAIL = range(len(COLUMNS))

FINDING_ROLE = int(Qt.ItemDataRole.UserRole) + 40
"""The row's ``Finding`` (redacted by construction)."""

GLYPHS = {Severity.HIGH: "▲", Severity.MEDIUM: "●", Severity.LOW: "○"}
"""Each severity's shape: it tells the severity without its colour."""

_LIGHT = {Severity.HIGH: "#cf222e", Severity.MEDIUM: "#9a6700", Severity.LOW: "#57606a"}
_DARK = {Severity.HIGH: "#ff7b72", Severity.MEDIUM: "#e3b341", Severity.LOW: "#8b949e"}


def severity_text(s: Severity) -> str:
    """``▲ high``: the shape and the word."""
    return f"{GLYPHS[s]} {s.value}"


def severity_color(s: Severity) -> QColor:
    return QColor((_DARK if is_dark() else _LIGHT)[s])


def path_text(f: Finding) -> str:
    """The image path, or what a finding without one is about."""
    if f.path is not None:
        return f.path
    return "(image config)" if f.layer is None else f"(build step of layer #{f.layer})"


def hidden_text(f: Finding) -> str:
    """The "Hidden by" cell: who hid the stored bytes, in Finding.where()'s words."""
    return f.where() if f.hidden_by is not None else ""


def tooltip(f: Finding) -> str:
    """A finding in full (its secret only in the redacted form ``detail`` has)."""
    info = f.rule.info
    lines = [
        f"{severity_text(f.severity)}: {info.title} ({f.rule.value})",
        f"{path_text(f)} — {f.where()}",
        f.detail,
        f"rule facts from: {info.source}",
    ]
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One finding and its cells, made once."""

    finding: Finding
    cells: tuple[str, str, str, str, str, str]
    text: str  # what the filter searches, lower case

    @classmethod
    def of(cls, f: Finding) -> FindingRow:
        cells = (
            severity_text(f.severity),
            f.rule.info.title,
            path_text(f),
            f"#{f.layer}" if f.layer is not None else "—",
            hidden_text(f),
            f.detail,
        )
        return cls(f, cells, " ".join((f.rule.value, *cells)).lower())

    def line(self) -> str:
        """The row as one line of text (Copy)."""
        return "\t".join(c for c in self.cells if c)


def sort_key(f: Finding, column: int) -> Any:
    return (
        f.severity.rank,
        f.rule.info.title.lower(),
        path_text(f),
        -1 if f.layer is None else f.layer,
        -1 if f.hidden_by is None else f.hidden_by,
        f.detail.lower(),
    )[column]


class FindingsModel(CellData, QAbstractTableModel):
    """The findings of one report, in the report's order (most severe first)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[FindingRow] = []
        self.report: AuditReport | None = None

    def set_report(self, report: AuditReport | None) -> None:
        self.beginResetModel()
        self.report = report
        self.rows = [FindingRow.of(f) for f in report.findings] if report is not None else []
        self.endResetModel()

    def finding(self, row: int) -> Finding:
        return self.rows[row].finding

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r, col = self.rows[index.row()], index.column()
        f = r.finding
        if role == Qt.ItemDataRole.DisplayRole:
            return r.cells[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(f)
        if role == SORT_ROLE:
            return sort_key(f, col)
        if role == FINDING_ROLE:
            return f
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == SEVERITY:
                return severity_color(f.severity)
            if col == LAYER and f.layer is not None:
                return text_color(layer_color(f.layer))
            return None
        if role == Qt.ItemDataRole.BackgroundRole and col == LAYER and f.layer is not None:
            return layer_color(f.layer)
        if role == Qt.ItemDataRole.DecorationRole and col == HIDDEN and f.hidden_by is not None:
            return layer_color(f.hidden_by)  # a swatch of the layer that hid it
        if role == Qt.ItemDataRole.TextAlignmentRole and col == LAYER:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class FindingsFilter(QSortFilterProxyModel):
    """The findings the user asked for: at or above a severity, only the hidden ones, a text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._least = Severity.LOW
        self._hidden_only = False

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData, /) -> None:
        """A painted cell's roles in one call, as the model answers them (gui/cells.py): Qt's proxy
        would ask the model once per role."""
        source = self.sourceModel()
        if isinstance(source, CellData):
            source.multiData(self.mapToSource(index), roleDataSpan)
        else:
            super().multiData(index, roleDataSpan)

    def set_filter(self, text: str, least: Severity = Severity.LOW, hidden_only: bool = False) -> None:
        self.beginFilterChange()
        self._text, self._least, self._hidden_only = text.strip().lower(), least, hidden_only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        """By the column's key; rows equal there by the other columns, in column order and always
        ascending: one order, whatever the filter did before."""
        model = self.sourceModel()
        if not isinstance(model, FindingsModel):
            return super().lessThan(left, right)
        rows = model.rows
        if not (0 <= left.row() < len(rows) and 0 <= right.row() < len(rows)):
            return super().lessThan(left, right)
        col = left.column()
        a, b = rows[left.row()].finding, rows[right.row()].finding
        pa, pb = sort_key(a, col), sort_key(b, col)
        if pa != pb:
            return bool(pa < pb)
        ta = [sort_key(a, c) for c in range(len(COLUMNS)) if c != col]
        tb = [sort_key(b, c) for c in range(len(COLUMNS)) if c != col]
        descending = self.sortOrder() is Qt.SortOrder.DescendingOrder  # Qt reverses what this says
        return tb < ta if descending else ta < tb

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, FindingsModel) or not 0 <= source_row < len(model.rows):
            return True
        r = model.rows[source_row]
        if r.finding.severity.rank < self._least.rank:
            return False
        if self._hidden_only and r.finding.hidden_by is None:
            return False
        return not self._text or self._text in r.text
