"""The Findings tab: the audit of the image shown (gui/auditor.py), a sortable, filterable table.

Each finding has its severity mark (▲ high, ● medium, ○ low, coloured too), its rule, path, the layer
that stores it (in the layer's colour) and, when a later layer deleted or shadowed it, that layer
("layer 3, deleted by layer 4: still shipped"). Selecting a finding asks for its file in the layer
that stores it (``path_requested``; Back returns), or for the layer of a build step
(``layer_requested``). Progress and Cancel show while the audit runs; "Audit all files (slower)" runs
it again over package trees too. Secrets appear only in their redacted form (gui/findings_model.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.audit import AuditReport, Finding, Severity
from layerscope.core.display import human_size, plural

from ..auditor import Auditor, AuditState
from ..findings_model import DETAIL, GLYPHS, HIDDEN, PATH, RULE, FindingsFilter, FindingsModel

_LEAST = (
    ("All severities", Severity.LOW),
    ("Medium and high", Severity.MEDIUM),
    ("High only", Severity.HIGH),
)


def counts_text(report: AuditReport) -> str:
    """``2 high, 1 medium``: the counts by severity, most severe first (zeros left out)."""
    parts = [f"{n} {s.value}" for s in reversed(Severity) if (n := report.counts.get(s, 0))]
    return ", ".join(parts) if parts else "no findings"


def badge(a: Auditor) -> tuple[str, str] | None:
    """The status bar's findings button: its text and tooltip (None: no image audited)."""
    if a.withheld:  # another image is being read
        return None
    if a.state is AuditState.RUNNING:
        return "⚑ auditing…", "The audit of this image is running: open the Findings tab"
    if a.state is AuditState.CANCELLED:
        return "⚑ audit cancelled", "Open the Findings tab to run it again"
    if a.state is AuditState.FAILED:
        return "⚑ audit failed", a.error or ""
    r = a.shown_report
    if r is None:
        return None
    marks = "  ".join(f"{GLYPHS[s]} {s.value}: {r.counts.get(s, 0)}" for s in reversed(Severity))
    return f"⚑ {counts_text(r)}", f"Audit findings ({marks}): open the Findings tab"


class FindingsPanel(QWidget):
    """Renders an ``Auditor``; see the module docstring."""

    path_requested = Signal(str, int)  # an image path ("/etc/x"), the layer that stores it
    layer_requested = Signal(int)  # a build step's layer
    title_changed = Signal(str)  # the tab's title: "Findings (3)"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._auditor: Auditor | None = None
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter findings (rule, path, detail)")
        self.filter.setClearButtonEnabled(True)
        self.least = QComboBox()
        for label, _s in _LEAST:
            self.least.addItem(label)
        self.hidden_only = QCheckBox("Only hidden (still shipped)")
        self.hidden_only.setToolTip(
            "Only the files a later layer deleted or shadowed: the image still ships them"
        )
        self.deep = QCheckBox("Audit all files (slower)")
        self.deep.setToolTip("Read the files of package trees too (site-packages, node_modules, …)")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.rerun_button = QPushButton("Run Again")
        self.rerun_button.hide()
        self.model = FindingsModel(self)
        self.proxy = FindingsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)  # compact rows
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in ((0, 90), (RULE, 260), (PATH, 240), (3, 56), (HIDDEN, 300), (DETAIL, 300)):
            header.resizeSection(col, width)
        self.copy_action = QAction("&Copy Finding", self.table)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.table.addAction(self.copy_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.least)
        bar.addWidget(self.hidden_only)
        bar.addWidget(self.deep)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.rerun_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        lay.addWidget(self.table, 1)
        self.filter.textChanged.connect(self._refilter)
        self.least.currentIndexChanged.connect(self._refilter)
        self.hidden_only.toggled.connect(self._refilter)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.clicked.connect(self._chosen)
        self.table.activated.connect(self._chosen)

    def connect_to(self, a: Auditor) -> None:
        """Follow ``a``'s audits; Cancel, Run Again and the all-files toggle drive it."""
        self._auditor = a
        a.changed.connect(self._show)
        a.progressed.connect(self._progressed)
        self.cancel_button.clicked.connect(a.cancel)
        self.rerun_button.clicked.connect(lambda: a.rerun())
        self.deep.toggled.connect(lambda on: a.rerun(deep=on))
        self._show()

    # ---- rendering ------------------------------------------------------------------------------
    def _show(self) -> None:
        a = self._auditor
        if a is None:
            return
        running = a.state is AuditState.RUNNING
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.rerun_button.setVisible(a.state in (AuditState.CANCELLED, AuditState.FAILED))
        if running:
            self.progress.setRange(0, 0)
            self.progress.setFormat("auditing")
        self.deep.blockSignals(True)
        self.deep.setChecked(a.deep)
        self.deep.blockSignals(False)
        report = a.shown_report
        if report is not self.model.report:
            self.model.set_report(report)
        self.status.setText(self._status_text(a))
        n = len(report.findings) if report is not None else 0
        self.title_changed.emit(f"Findings ({n})" if report is not None else "Findings")

    def _status_text(self, a: Auditor) -> str:
        if a.withheld:
            return "Reading another image: its audit follows"
        if a.state is AuditState.RUNNING:
            return "Auditing every layer's stored files, the config and the history …"
        if a.state is AuditState.CANCELLED:
            return "The audit was cancelled: Run Again audits the image"
        if a.state is AuditState.FAILED:
            return f"The audit failed: {a.error}"
        r = a.report
        if r is None:
            return ""
        layers = {f.layer for f in r.findings if f.layer is not None}
        hidden = sum(1 for f in r.findings if f.hidden_by is not None)
        parts = [
            f"{plural(len(r.findings), 'finding')} ({counts_text(r)})"
            + (f" in {plural(len(layers), 'layer')}" if layers else ""),
            *([f"{hidden} hidden by a later layer but still shipped"] if hidden else []),
            *(
                [f"{self.proxy.rowCount():,} shown by the filter"]
                if self.proxy.rowCount() < len(r.findings)
                else []
            ),
            f"{plural(r.files_read, 'file')} read ({human_size(r.bytes_read)})"
            + ("" if a.report_deep else ", package trees by name only"),
            *([f"{r.allowed} allowed"] if r.allowed else []),
            *([f"{r.fixtures} test fixtures not reported"] if r.fixtures else []),
            *([a.allow_note] if a.allow_note else []),
            *r.warnings[:3],
        ]
        return "   ·   ".join(parts)

    def _progressed(self, stage: str, done: int, total: int) -> None:
        bar = self.progress
        if total > 0:
            if bar.maximum() != 1000:
                bar.setRange(0, 1000)
            bar.setValue(int(1000 * min(done, total) / total))
            text = f"{stage} — %p %"
        else:
            bar.setRange(0, 0)
            text = stage
        if bar.format() != text:
            bar.setFormat(text)

    def _refilter(self) -> None:
        self.proxy.set_filter(
            self.filter.text(), _LEAST[max(self.least.currentIndex(), 0)][1], self.hidden_only.isChecked()
        )
        if self._auditor is not None:
            self.status.setText(self._status_text(self._auditor))  # how many the filter shows

    # ---- choosing a finding ---------------------------------------------------------------------------
    def finding_at(self, index: QModelIndex) -> Finding | None:
        if not index.isValid():
            return None
        return self.model.finding(self.proxy.mapToSource(index).row())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:
            return  # a click: ``clicked`` follows, once
        self._chosen(current)

    def _chosen(self, index: QModelIndex) -> None:
        f = self.finding_at(index)
        if f is None:
            return
        if f.path is not None and f.layer is not None:
            self.path_requested.emit(f.path, f.layer)
        elif f.layer is not None:
            self.layer_requested.emit(f.layer)

    def select_row(self, row: int) -> None:
        """Make ``row`` of the table current (as the keyboard does)."""
        self.table.setCurrentIndex(self.proxy.index(row, 0))

    def copy_selected(self) -> None:
        """The selected findings as lines of text (secrets redacted, as shown)."""
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.proxy.mapToSource(self.table.currentIndex()).row()]
        if rows:
            QGuiApplication.clipboard().setText("\n".join(self.model.rows[r].line() for r in rows))
