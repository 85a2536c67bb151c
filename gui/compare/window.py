"""The compare window: two images side by side.

Left, the two layer stacks (shared layers joined) over the config differences; right, the tree of
differences over the selected file's diff. Above them the two sides, the verdict, "strict" and
Swap; while a job runs, its progress and Cancel. Everything proportional to the images runs in a
job (gui/compare/flow.py); closing the window cancels it and releases both images.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive.records import Archive
from layerscope.core.compare.side import Side
from layerscope.core.display import exact_size, mode_string, plural
from layerscope.core.kinds import EntryType

from ..jobs import JobSlot
from ..panels.open_dialogs import ask_image
from ..panels.status_bar import MessageBar
from ..release import free_later
from ..worker import Job
from .config_model import ConfigDiffModel
from .file_diff import FileDiffPanel, FileDiffShown, read_file_diff
from .flow import Compared, Opened, SideSpec, load_and_diff, open_both, rediff
from .index import PathInfo
from .layers_model import JoinDelegate, LayerPairsModel
from .tree_model import CHANGE, DELTA, LAYERS, NAME, SIZE_A, SIZE_B, WHAT, DiffTreeModel


class CompareWindow(QMainWindow):
    """See the module docstring. ``a`` and ``b`` name the two sides."""

    compared = Signal()  # a comparison is shown (the first, or after strict / swap)
    ended = Signal()  # the running job ended, one way or the other (tests wait on it)
    file_shown = Signal()  # the file panel shows the selected path
    closed = Signal()

    def __init__(self, a: SideSpec, b: SideSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.spec_a, self.spec_b = a, b
        self.setWindowTitle(f"{a.name} ↔ {b.name} — Compare — LayerScope")
        self.pick_image: Callable[[Archive], int | None] = lambda archive: ask_image(
            self, archive, compare=False
        )
        """Which image of an archive that holds several (None: the user cancelled)."""
        self.result: Compared | None = None
        self.error: str | None = None
        self._opened: Opened | None = None
        self._images: tuple[int, int] | None = None
        self._jobs = JobSlot(self)  # open / load / diff
        self._file_jobs = JobSlot(self)  # the selected file's diff
        self._build()
        self.resize(1400, 860)

    # ---- composition ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.side_a, self.side_b = QLabel(), QLabel()
        for lab in (self.side_a, self.side_b):
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict = QLabel("Comparing…")
        f = self.verdict.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.verdict.setFont(f)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.strict = QCheckBox("&Strict (count mtimes)")
        self.strict.setToolTip("Count modification times and history timestamps as differences too")
        self.strict.toggled.connect(lambda _on: self.recompare())
        self.swap = QPushButton("S&wap A ↔ B")
        self.swap.setToolTip("Compare the other way round: B becomes the old image")
        self.swap.clicked.connect(lambda: self.recompare(swap=True))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.stage = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.message = MessageBar()

        top = QHBoxLayout()
        sides = QVBoxLayout()
        sides.addWidget(self.side_a)
        sides.addWidget(self.side_b)
        top.addLayout(sides, 1)
        top.addWidget(self.stage)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        top.addWidget(self.strict)
        top.addWidget(self.swap)

        self.layers_model = LayerPairsModel(self)
        self.layers = QTableView()
        self.layers.setAccessibleName("Layers of A and B")
        self.layers.setModel(self.layers_model)
        self.layers.setItemDelegate(JoinDelegate(self.layers))
        self.layers.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.layers.setWordWrap(False)
        self.layers.setShowGrid(False)
        self.layers.verticalHeader().hide()
        self.layers.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        lh = self.layers.horizontalHeader()
        lh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        lh.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        lh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        lh.resizeSection(1, 36)
        self.layers_box = self._box("Layers", self.layers)

        self.config_model = ConfigDiffModel(self)
        self.config = QTableView()
        self.config.setAccessibleName("Config differences")
        self.config.setModel(self.config_model)
        self.config.setWordWrap(False)
        self.config.verticalHeader().hide()
        self.config.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        ch = self.config.horizontalHeader()
        ch.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        ch.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        ch.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.config_box = self._box("Config", self.config)

        self.tree_model = DiffTreeModel(self)
        self.tree = QTreeView()
        self.tree.setAccessibleName("Differences")
        self.tree.setModel(self.tree_model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.tree.setAlternatingRowColors(True)
        th = self.tree.header()
        th.setStretchLastSection(False)
        th.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for col, width in ((CHANGE, 100), (DELTA, 96), (SIZE_A, 80), (SIZE_B, 80), (WHAT, 120), (LAYERS, 92)):
            th.resizeSection(col, width)
        th.setMinimumSectionSize(40)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.only_changed = QCheckBox("&Only changed")
        self.only_changed.setChecked(True)
        self.only_changed.setToolTip(
            "Show only what differs and the folders above it; off: every path of both"
        )
        self.only_changed.toggled.connect(self._only_changed)
        self.count = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.only_changed)
        bar.addStretch(1)
        bar.addWidget(self.count)
        files = QWidget()
        fl = QVBoxLayout(files)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addLayout(bar)
        fl.addWidget(self.tree, 1)
        self.files_box = self._box("Files", files)

        self.file_panel = FileDiffPanel()
        self.file_box = self._box("File", self.file_panel)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.layers_box)
        left.addWidget(self.config_box)
        left.setSizes([430, 330])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.files_box)
        right.addWidget(self.file_box)
        right.setSizes([470, 290])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([560, 840])

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addLayout(top)
        lay.addWidget(self.verdict)
        lay.addWidget(self.message)
        lay.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        close = QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self)
        close.activated.connect(self.close)
        self._show_sides()
        self._set_busy(False)
        self._set_ready(False)

    @staticmethod
    def _box(title: str, w: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(w)
        return box

    # ---- the jobs ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Open both sources, then (once the images are chosen) load and compare them."""
        a, b = self.spec_a, self.spec_b
        self.message.hide()
        self.verdict.setText("Comparing…")
        self._set_busy(True, "opening")
        self._jobs.start(
            Job(lambda job: open_both(a, b, job), "compare: open"),
            self._archives_opened,
            self._failed,
            self._cancelled,
            progress=self._progressed,
            discard=lambda opened: opened.close(),
        )

    def _archives_opened(self, opened: Opened) -> None:
        self._opened = opened
        for archive, spec in ((opened.a, self.spec_a), (opened.b, self.spec_b)):
            n = len(archive.images)
            if spec.image is not None and not 0 <= spec.image < n:
                self._failed(f"{archive.label}: image index {spec.image} is out of range (0..{n - 1})")
                return
        ia = self._choose(opened.a, self.spec_a.image)
        ib = self._choose(opened.b, self.spec_b.image) if ia is not None else None
        if ia is None or ib is None:
            self._failed("No image chosen: nothing to compare")
            return
        self._images = (ia, ib)
        strict = self.strict.isChecked()
        self._set_busy(True, "loading")
        self._jobs.start(
            Job(lambda job: load_and_diff(opened, ia, ib, strict, job), "compare: load"),
            self._show_result,
            self._failed,
            self._cancelled,
            progress=self._progressed,
        )

    def _choose(self, archive: Archive, wanted: int | None) -> int | None:
        if wanted is not None:
            return wanted
        return 0 if len(archive.images) == 1 else self.pick_image(archive)

    def recompare(self, swap: bool = False) -> None:
        """Diff the loaded images again (strict changed, or A and B swapped); the result replaces
        the one shown, and a comparison still running for the old choice is dropped."""
        r = self.result
        if r is None:
            return
        a, b = (r.b, r.a) if swap else (r.a, r.b)
        if swap:
            self.spec_a, self.spec_b = self.spec_b, self.spec_a
            self.setWindowTitle(f"{self.spec_a.name} ↔ {self.spec_b.name} — Compare — LayerScope")
        strict = self.strict.isChecked()
        self._set_busy(True, "comparing")
        self._jobs.start(
            Job(lambda job: rediff(a, b, strict, job), "compare: diff"),
            self._show_result,
            self._failed,
            self._cancelled,
            progress=self._progressed,
            discard=lambda res: free_later([res.index], False),
        )

    def cancel(self) -> None:
        self._jobs.drop()
        self._set_busy(False)
        self.ended.emit()
        if self.result is None:
            self.verdict.setText("Cancelled")

    def _progressed(self, stage: str, done: int, total: int) -> None:
        self.stage.setText(stage)
        if total > 1:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        else:
            self.progress.setRange(0, 0)

    def _failed(self, message: str) -> None:
        self.error = message.splitlines()[0] if message else "failed"
        self.message.show_error(self.error)
        self._set_busy(False)
        if self.result is None:
            self.verdict.setText("Nothing to compare")
        self.ended.emit()

    def _cancelled(self) -> None:
        self._set_busy(False)
        if self.result is None:
            self.verdict.setText("Cancelled")
        self.ended.emit()

    def _set_busy(self, on: bool, stage: str = "") -> None:
        for w in (self.progress, self.cancel_button, self.stage):
            w.setVisible(on)
        self.stage.setText(stage)
        self.progress.setRange(0, 0)
        self.strict.setEnabled(not on and self.result is not None)
        self.swap.setEnabled(not on and self.result is not None)

    def _set_ready(self, on: bool) -> None:
        for w in (self.layers_box, self.config_box, self.files_box, self.file_box):
            w.setEnabled(on)

    # ---- rendering --------------------------------------------------------------------------------
    def _show_sides(self) -> None:
        r = self.result
        for lab, name, spec, side in (
            (self.side_a, "A", self.spec_a, r.diff.a if r is not None else None),
            (self.side_b, "B", self.spec_b, r.diff.b if r is not None else None),
        ):
            text = f"<b>{name}</b>  {spec.name}"
            if side is not None:
                text += f"  {side.image.describe()}  ({plural(len(side.image.layers), 'layer')})"
            lab.setText(text)
            lab.setToolTip(spec.reference)

    def _show_result(self, result: Compared) -> None:
        old = self.result
        self.result = result
        self.error = None
        self.message.hide()
        self._set_busy(False)
        self._set_ready(True)
        d = result.diff
        self.verdict.setText(d.verdict.text)
        self._show_sides()
        self.layers_model.set_pairs(result.pairs)
        ly = d.layers
        self.layers_box.setTitle(
            f"Layers: {len(ly.shared)} shared, {len(ly.only_a)} only in A, {len(ly.only_b)} only in B"
            + (f"; common base {plural(ly.base, 'layer')}" if ly.base else "")
        )
        self.config_model.set_config(d.config)
        self.config.resizeRowsToContents()
        n = len(d.config.settings) + len(d.config.history)
        self.config_box.setTitle(f"Config: {plural(n, 'difference')}" if n else "Config: the same")
        self.tree_model.set_index(result.index)
        self.count.setText(f"{plural(d.files.count, 'path')} differ ({result.content_count:,} in content)")
        self.files_box.setTitle(f"Files: {d.files.count:,} differ")
        self._expand_top()
        self.file_panel.show_note("Select a file to compare it")
        if old is not None:
            free_later([old.index], False)  # the images are the same objects: only the old diff goes
        del old
        self.compared.emit()
        self.ended.emit()

    def _expand_top(self) -> None:
        """Open the folders down to the first level that has more than one entry (small diffs)."""
        m = self.tree_model
        if not self.only_changed.isChecked():
            return
        parent = QModelIndex()
        for _ in range(6):
            if m.rowCount(parent) != 1:
                break
            parent = m.index(0, 0, parent)
            self.tree.expand(parent)
        if m.rowCount(QModelIndex()) <= 4:
            for r in range(m.rowCount(QModelIndex())):
                self.tree.expand(m.index(r, 0))

    def _only_changed(self, on: bool) -> None:
        self.tree_model.set_only_changed(on)
        self._expand_top()

    def select_path(self, path: str) -> bool:
        """Expand the tree down to ``path`` and select it (its diff follows); False when not shown."""
        ix = self.tree_model.index_of(path.strip("/"))
        if not ix.isValid():
            return False
        p = ix.parent()
        while p.isValid():
            self.tree.expand(p)
            p = p.parent()
        self.tree.scrollTo(ix)
        self.tree.setCurrentIndex(ix)
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        info = self.tree_model.info(current)
        r = self.result
        if info is None or r is None:
            return
        self.show_path(r.diff.a, r.diff.b, info)

    def show_path(self, a: Side, b: Side, info: PathInfo) -> None:
        """The selected path: a file's diff (read in a job), or what differs about anything else."""
        self._file_jobs.drop()
        ea, eb = _entry(a, info.path), _entry(b, info.path)
        meta = _metadata(ea, eb, self.strict.isChecked())
        regular = (EntryType.FILE, EntryType.HARDLINK)
        if (ea is None or ea.type in regular) and (eb is None or eb.type in regular) and (ea or eb):
            self.file_panel.show_loading(info.path)
            path = info.path

            def work(job: Job) -> FileDiffShown:
                return read_file_diff(a, b, path, job.cancelled)

            def shown(result: FileDiffShown) -> None:
                self.file_panel.show_diff(result, meta)
                self.file_shown.emit()

            def failed(message: str) -> None:
                self.file_panel.show_note(f"/{path}: {message}", meta)
                self.file_shown.emit()

            self._file_jobs.start(Job(work, "compare: file"), shown, failed, lambda: None)
            return
        kind = "folder" if info.is_dir else str(info.type)
        if info.change is None:
            title = f"/{info.path}: {kind}, the same itself; differences below it"
        else:
            title = f"/{info.path}: {kind}" + (f", {', '.join(info.what)} differ" if info.what else "")
        lines = [*meta]
        if info.is_dir:
            lines.append(
                f"size below: A {_bytes(info.size_a)}, B {_bytes(info.size_b)} ({info.delta:+,} bytes)"
            )
        self.file_panel.show_note(title + "".join("\n" + m for m in meta), lines[len(meta) :])
        self.file_shown.emit()

    # ---- the window itself --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._jobs.drop()
        self._file_jobs.drop()
        self.tree_model.set_index(None)
        self.layers_model.set_pairs([])
        self.config_model.set_config(None)
        held: list[object] = [self.result, self._opened]
        opened, self.result, self._opened = self._opened, None, None

        def release() -> None:
            if opened is not None:
                opened.close()
            free_later(held, False)

        # once the jobs that may still read them have stopped (at once when none runs)
        self._jobs.when_idle(lambda: self._file_jobs.when_idle(release))
        super().closeEvent(event)
        self.closed.emit()

    def sizeHint(self) -> QSize:
        return QSize(1400, 860)


def _entry(side: Side, path: str) -> Any:
    n = side.tree.nodes.get(path)
    return n.entry if n is not None else None


def _bytes(n: int | None) -> str:
    return "—" if n is None else exact_size(n)


def _metadata(ea: Any, eb: Any, strict: bool) -> list[str]:
    """What differs about the two entries besides content: type, link, mode, owner."""
    if ea is None or eb is None:
        e, side = (eb, "B") if ea is None else (ea, "A")
        if e is None:
            return []
        where = f"only in {side}: {e.type}, {mode_string(str(e.type), e.mode)}, uid:gid {e.uid}:{e.gid}"
        return [where + (f", → {e.link}" if e.link else "")]
    out = []
    if ea.type is not eb.type:
        out.append(f"type: {ea.type} → {eb.type}")
    if ea.link != eb.link:
        out.append(f"link target: {ea.link or '—'} → {eb.link or '—'}")
    if ea.mode != eb.mode:
        out.append(f"mode: {mode_string(str(ea.type), ea.mode)} → {mode_string(str(eb.type), eb.mode)}")
    if (ea.uid, ea.gid) != (eb.uid, eb.gid):
        out.append(f"owner: {ea.uid}:{ea.gid} → {eb.uid}:{eb.gid}")
    if strict and ea.mtime != eb.mtime:
        out.append(f"mtime: {ea.mtime} → {eb.mtime}")
    return out
