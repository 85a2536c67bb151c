"""The explorer window: drop or open an image, the layer timeline, the tree coloured by owning layer."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import humanize
from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QDragEnterEvent, QDropEvent, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive import Archive, ImageRecord, open_archive
from layerscope.core.cli import readable_command
from layerscope.core.errors import LayerScopeError
from layerscope.core.export import ExportResult, export, export_as_stored, layer_items, merged_items
from layerscope.core.layers import iter_contents
from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.core.session import LoadedImage, load
from layerscope.core.views import FileView

from . import settings
from .colors import is_dark, layer_color
from .details import FilePanel
from .export_dialog import ExportDialog
from .json_view import DIGEST_RE, JsonPanel
from .models import LAYER_ROLE, PATH_ROLE, ROW_ROLE, FileTreeModel, LayerTimelineModel, human
from .scratch import scratch_folder
from .waste import WastePanel
from .worker import Job

ACCEPTS = (
    "docker save / podman save archives (.tar), skopeo oci-archive, OCI layout folders, "
    "and any of these gzip- or zstd-compressed"
)


class SizeBarDelegate(QStyledItemDelegate):
    """The timeline's size column: a bar proportional to the largest layer, in the layer's colour."""

    def __init__(self, model: LayerTimelineModel, parent: Any = None) -> None:
        super().__init__(parent)
        self._model = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        layer = index.data(LAYER_ROLE)
        if layer is not None:
            size = self._model._sizes.get(layer, 0)
            frac = size / self._model.max_size if self._model.max_size else 0
            r: QRect = option.rect.adjusted(2, 4, -2, -4)  # type: ignore[attr-defined]
            w = max(2, int(r.width() * frac)) if size else 0
            c = QColor(layer_color(layer))
            c.setAlpha(110)
            painter.fillRect(QRect(r.left(), r.top(), w, r.height()), c)
        super().paint(painter, option, index)


class MainWindow(QMainWindow):
    """One image per window."""

    loaded = Signal()  # the image is fully loaded (tree usable), or the load failed
    view_ready = Signal()  # the file tree shows the selected layer's view
    open_requested = Signal(list)  # paths to open in new windows
    exported = Signal(object)  # an ExportResult
    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("LayerScope")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.archive: Archive | None = None
        self.image: ImageRecord | None = None
        self.session: LoadedImage | None = None
        self.path: Path | None = None
        self.error: str | None = None
        self._job: Job | None = None
        self._view_job: Job | None = None
        self._search_job: Job | None = None
        self._sample_ctx: Any = None
        self.current_layer: int | None = None
        self.ask_image: Callable[[Archive], int | None] = self._ask_image
        self.quiet_export = False  # tests: no message box after an export
        self._layer_digests: dict[str, int] = {}
        self._build()
        geo = settings.WINDOW_GEOMETRY.get()
        if geo:
            self.restoreGeometry(geo)
        for setting, splitter in (
            (settings.SPLITTER_STATE, self.splitter),
            (settings.PANELS_STATE, self.vsplit),
        ):
            state = setting.get()
            if state:
                splitter.restoreState(state)

    # ---- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        # menus
        file_menu = self.menuBar().addMenu("&File")
        act = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open, triggered=self.open_dialog)
        file_menu.addAction(act)
        act = QAction("Open &Folder (OCI layout)…", self, triggered=self.open_folder_dialog)
        file_menu.addAction(act)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(QAction("Open the &Sample Image", self, triggered=self.open_sample))
        file_menu.addSeparator()
        self.export_merged_action = QAction(
            "&Export Merged Filesystem…", self, triggered=self.export_merged_dialog
        )
        self.export_merged_action.setEnabled(False)
        file_menu.addAction(self.export_merged_action)
        file_menu.addSeparator()
        file_menu.addAction(
            QAction("&Close Window", self, shortcut=QKeySequence.StandardKey.Close, triggered=self.close)
        )
        file_menu.addAction(
            QAction(
                "&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=QApplication.closeAllWindows
            )
        )

        # toolbar
        tb = self.addToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        open_btn = QToolButton()
        open_btn.setText("Open…")
        open_btn.clicked.connect(self.open_dialog)
        tb.addWidget(open_btn)
        tb.addSeparator()
        self.image_combo = QComboBox()
        self.image_combo.setMinimumContentsLength(24)
        self.image_combo.setToolTip("Image / platform in this archive")
        self.image_combo.activated.connect(self._image_chosen)
        tb.addWidget(self.image_combo)
        tb.addSeparator()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter paths (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(240)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        tb.addWidget(self.search)
        QAction(self, shortcut=QKeySequence.StandardKey.Find, triggered=self.search.setFocus)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: self.search.setFocus())
        self.addAction(find)
        # keyboard: Ctrl+1 the layers, Ctrl+2 the files, Ctrl+M merged/layer view, Ctrl+H hide unmodified
        for key, slot in (
            ("Ctrl+1", lambda: self.timeline.setFocus()),
            ("Ctrl+2", lambda: self.tree.setFocus()),
            (
                "Ctrl+M",
                lambda: (self.mode_layer if self.mode_merged.isChecked() else self.mode_merged).click(),
            ),
            ("Ctrl+H", lambda: self.hide_unmodified.toggle()),
        ):
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(slot)
            self.addAction(act)
        self.regex = QCheckBox("regex")
        self.regex.toggled.connect(lambda _c: self._search_timer.start())
        tb.addWidget(self.regex)
        tb.addSeparator()
        self.mode_layer = QToolButton()
        self.mode_layer.setText("Layer changes")
        self.mode_layer.setToolTip("Show only what the selected layer added, changed and removed")
        self.mode_merged = QToolButton()
        self.mode_merged.setText("Merged")
        self.mode_merged.setToolTip("Show the filesystem as it is up to and including the selected layer")
        group = QButtonGroup(self)
        for b in (self.mode_layer, self.mode_merged):
            b.setCheckable(True)
            group.addButton(b)
            tb.addWidget(b)
        self.mode_merged.setChecked(True)
        group.buttonToggled.connect(lambda _b, on: on and self._refresh_view())
        self.hide_unmodified = QCheckBox("Hide unmodified")
        self.hide_unmodified.toggled.connect(self._hide_unmodified_toggled)
        tb.addWidget(self.hide_unmodified)

        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self._apply_search)

        # message bar (errors inline)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bg, fg, border = ("#5a1d1d", "#ffdcd7", "#b62324") if is_dark() else ("#ffebe9", "#82071e", "#ff8182")
        self.message.setStyleSheet(
            f"QLabel {{ background: {bg}; color: {fg}; padding: 6px; "
            f"border: 1px solid {border}; border-radius: 4px; }}"
        )
        self.message.hide()

        # drop zone
        drop = QWidget()
        dl = QVBoxLayout(drop)
        dl.addStretch(1)
        self.drop_label = QLabel(f"<h2>Drop an image archive here</h2><p>LayerScope opens {ACCEPTS}.</p>")
        self.drop_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_label.setWordWrap(True)
        dl.addWidget(self.drop_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.sample_button = QPushButton("Open the sample image")
        self.sample_button.clicked.connect(self.open_sample)
        row.addWidget(self.sample_button)
        b = QPushButton("Open…")
        b.clicked.connect(self.open_dialog)
        row.addWidget(b)
        row.addStretch(1)
        dl.addLayout(row)
        dl.addStretch(2)

        # explorer
        self.timeline_model = LayerTimelineModel(self)
        self.timeline = QTableView()
        self.timeline.setModel(self.timeline_model)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.verticalHeader().hide()
        self.timeline.setShowGrid(False)
        self.timeline.setWordWrap(False)
        self.timeline.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.timeline.setItemDelegateForColumn(1, SizeBarDelegate(self.timeline_model, self.timeline))
        hh = self.timeline.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(1, 110)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.timeline.selectionModel().currentRowChanged.connect(self._timeline_row_changed)
        self.timeline.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.timeline.customContextMenuRequested.connect(self._timeline_menu)
        copy = QAction("Copy command", self.timeline)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_command)
        self.timeline.addAction(copy)

        self.tree_model = FileTreeModel(self)
        self.tree = QTreeView()
        self.tree.setModel(self.tree_model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tree.setDragEnabled(True)
        self.tree.selectionModel().currentChanged.connect(self._tree_current_changed)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._tree_menu)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree_model.materialize = self.materialize
        th = self.tree.header()
        th.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        th.setStretchLastSection(False)
        for c, w in ((1, 90), (2, 60), (3, 100)):
            th.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            th.resizeSection(c, w)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.timeline)
        self.splitter.addWidget(self.tree)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([520, 760])

        self.file_panel = FilePanel()
        self.file_panel.layer_requested.connect(self.select_layer)
        self.file_panel.path_requested.connect(self.go_to_path)
        self.layer_info = QPlainTextEdit()
        self.layer_info.setReadOnly(True)
        self.json_panels = {name: JsonPanel(name) for name in ("manifest", "index", "config")}
        for panel in self.json_panels.values():
            panel.link_activated.connect(self.open_digest)
        self.waste_panel = WastePanel()
        self.waste_panel.path_requested.connect(self.show_wasted_path)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.file_panel, "File")
        self.tabs.addTab(self.layer_info, "Layer")
        self.tabs.addTab(self.json_panels["manifest"], "Manifest")
        self.tabs.addTab(self.json_panels["index"], "Index")
        self.tabs.addTab(self.json_panels["config"], "Config")
        self.tabs.addTab(self.waste_panel, "Waste")
        self.vsplit = QSplitter(Qt.Orientation.Vertical)
        self.vsplit.addWidget(self.splitter)
        self.vsplit.addWidget(self.tabs)
        self.vsplit.setStretchFactor(0, 3)
        self.vsplit.setStretchFactor(1, 2)
        self.vsplit.setSizes([430, 300])

        self.stack = QStackedWidget()
        self.stack.addWidget(drop)
        self.stack.addWidget(self.vsplit)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(6, 6, 6, 0)
        cl.addWidget(self.message)
        cl.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        # status bar
        sb = self.statusBar()
        self.status = QLabel("")
        sb.addWidget(self.status, 1)
        self.warnings_button = QPushButton("")
        self.warnings_button.setFlat(True)
        self.warnings_button.clicked.connect(self.show_warnings)
        self.warnings_button.hide()
        sb.addPermanentWidget(self.warnings_button)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress.hide()
        sb.addPermanentWidget(self.progress)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        sb.addPermanentWidget(self.cancel_button)
        self._set_controls_enabled(False)

    def _set_controls_enabled(self, on: bool) -> None:
        for w in (self.search, self.regex, self.mode_layer, self.mode_merged, self.hide_unmodified):
            w.setEnabled(on)
        self.image_combo.setEnabled(on and self.image_combo.count() > 1)

    # ---- opening ----------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(settings.recent_files()[0]).parent) if settings.recent_files() else ""
        path, _f = QFileDialog.getOpenFileName(
            self,
            "Open an image archive",
            start,
            "Image archives (*.tar *.tar.gz *.tgz *.tar.zst *.oci);;All files (*)",
        )
        if path:
            self.open_path(Path(path))

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an OCI layout folder")
        if path:
            self.open_path(Path(path))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = settings.recent_files()
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
            return
        for f in files:
            a = self.recent_menu.addAction(f)
            a.triggered.connect(lambda _c=False, p=f: self.open_path(Path(p)))

    def open_sample(self) -> None:
        if self._sample_ctx is None:
            self._sample_ctx = resource_path(SAMPLE_IMAGE)
            sample = self._sample_ctx.__enter__()
        else:
            sample = self._sample_path
        self._sample_path = sample
        self.open_path(sample, remember=False)

    def open_path(self, path: Path, remember: bool = True) -> None:
        """Open ``path`` in this window (off the GUI thread)."""
        self.cancel()
        self.path = Path(path)
        self.error = None
        self.message.hide()
        self.setWindowTitle(f"{self.path.name} — LayerScope")
        self._remember = remember

        def work(job: Job) -> Archive:
            return open_archive(self.path, progress=job.progress, cancelled=job.cancelled)  # type: ignore[arg-type]

        job = Job(work, "open")
        job.finished.connect(self._archive_opened)
        self._run(job, f"Opening {self.path.name}")

    def _run(self, job: Job, text: str) -> None:
        self._job = job
        job.progressed.connect(self._progress)
        job.failed.connect(self._failed)
        job.cancelled_.connect(self._cancelled)
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.show()
        self.cancel_button.show()
        self.status.setText(text + " …")
        job.start()

    def cancel(self) -> None:
        for j in (self._job, self._view_job, self._search_job):
            if j is not None and not j.done:
                j.cancel()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(stage)
        self.status.setText(stage + " …")

    def _done_running(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def _failed(self, message: str) -> None:
        self._done_running()
        self.error = message
        self.message.setText(message)
        self.message.show()
        if self.session is None:
            self.stack.setCurrentIndex(0)
            self.setWindowTitle("LayerScope")
        self.status.setText("Could not open the file" if self.session is None else "")
        self.loaded.emit()

    def _cancelled(self) -> None:
        self._done_running()
        self.status.setText("Cancelled")
        if self.session is None:
            self.stack.setCurrentIndex(0)
        self.loaded.emit()

    def _archive_opened(self, archive: Archive) -> None:
        self.archive = archive
        if self._remember and self.path is not None:
            settings.add_recent(str(self.path))
        self.image_combo.clear()
        for i, im in enumerate(archive.images):
            self.image_combo.addItem(f"#{i} {im.describe()}", i)
        choice = 0
        if len(archive.images) > 1:
            picked = self.ask_image(archive)
            if picked is None:
                self._cancelled()
                return
            choice = picked
        self.image_combo.setCurrentIndex(choice)
        self.load_image(choice)

    def _ask_image(self, archive: Archive) -> int | None:
        items = [f"#{i} {im.describe()}" for i, im in enumerate(archive.images)]
        item, ok = QInputDialog.getItem(
            self,
            "Choose an image",
            f"{archive.path.name} holds {len(items)} images. Open which one?",
            items,
            0,
            False,
        )
        return items.index(item) if ok else None

    def _image_chosen(self, row: int) -> None:
        if self.archive is not None and row >= 0:
            self.load_image(int(self.image_combo.itemData(row)))

    def load_image(self, n: int) -> None:
        """Load image ``n`` of the open archive: timeline first, then the merged tree."""
        assert self.archive is not None
        archive = self.archive
        image = archive.images[n]
        self.image = image
        self.session = None
        self.tree_model.set_view(None)
        self._show_timeline(image, {d.index: d.size for d in image.layers})
        self.stack.setCurrentIndex(1)

        def work(job: Job) -> tuple[LoadedImage, FileView]:
            s = load(
                archive,
                image,
                job.progress,
                job.cancelled,
                on_layers=lambda layers: job.emit("layers", layers),
            )
            top = len(s.layers) - 1
            return s, s.view(top, own_changes=False, cancelled=job.cancelled)

        job = Job(work, "load")
        job.partial.connect(self._partial)
        job.finished.connect(self._image_loaded)
        self._run(job, f"Reading {len(image.layers)} layers")

    def _show_timeline(self, image: ImageRecord, sizes: dict[int, int]) -> None:
        self.timeline_model.set_steps(image.history, sizes)

    def _partial(self, kind: str, value: object) -> None:
        if kind == "layers" and self.image is not None:
            layers = value
            self._show_timeline(self.image, {li.index: li.uncompressed_size for li in layers})  # type: ignore[attr-defined]

    def _image_loaded(self, result: tuple[LoadedImage, FileView]) -> None:
        session, view = result
        self.session = session
        self._done_running()
        self._set_controls_enabled(True)
        self.tree_model.set_view(view)
        self.current_layer = len(session.layers) - 1
        row = self.timeline_model.row_of_layer(self.current_layer)
        self.timeline.blockSignals(True)
        self.timeline.selectRow(row)
        self.timeline.blockSignals(False)
        self._update_status()
        self._fill_panels()
        self.export_merged_action.setEnabled(True)
        if self.search.text():
            self._apply_search()
        self.loaded.emit()
        self.view_ready.emit()

    def _update_status(self) -> None:
        s = self.session
        if s is None:
            return
        im = s.image
        total = sum(li.uncompressed_size for li in s.layers)
        parts = [
            im.name,
            f"{human(total)}",
            f"{len(s.layers)} layers",
            f"{s.files:,} files",
            f"efficiency {s.dive.efficiency * 100:.1f} % (dive)",
            f"{human(s.figures.wasted_bytes)} hidden by later layers",
        ]
        self.status.setText("   ·   ".join(parts))
        n = len(s.warnings)
        self.warnings_button.setText(f"⚠ {n} warning{'s' if n != 1 else ''}")
        self.warnings_button.setVisible(n > 0)

    def show_warnings(self) -> None:
        if self.session is None:
            return
        box = QMessageBox(self)
        box.setWindowTitle("Warnings")
        box.setIcon(QMessageBox.Icon.Warning)
        ws = self.session.warnings
        box.setText(f"{len(ws)} warning(s) while reading {self.path.name if self.path else 'the image'}:")
        box.setDetailedText("\n".join(ws))
        box.setInformativeText("\n".join(ws[:8]) + ("\n…" if len(ws) > 8 else ""))
        box.exec()

    # ---- layer selection and views ---------------------------------------------------------------------
    def _timeline_row_changed(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if not current.isValid():
            return
        layer = self.timeline_model.step(current.row()).layer
        if layer is None or layer == self.current_layer:
            return
        self.select_layer(layer)

    def select_layer(self, layer: int) -> None:
        self.current_layer = layer
        row = self.timeline_model.row_of_layer(layer)
        if row >= 0 and self.timeline.currentIndex().row() != row:
            self.timeline.selectRow(row)
        self._refresh_view()

    def _refresh_view(self) -> None:
        s = self.session
        if s is None or self.current_layer is None:
            return
        layer = self.current_layer
        own = self.mode_layer.isChecked()
        if self._view_job is not None and not self._view_job.done:
            self._view_job.cancel()

        def work(job: Job) -> FileView:
            return s.view(layer, own_changes=own, cancelled=job.cancelled)

        job = Job(work, "view")
        self._view_job = job
        # only the latest request may change the tree: an older job can finish after a newer one started
        job.finished.connect(lambda view, j=job: self._view_computed(view) if j is self._view_job else None)
        job.failed.connect(self._failed)
        job.start()

    def _view_computed(self, view: FileView) -> None:
        expanded = self._expanded_paths()
        self.tree_model.set_view(view)
        self.file_panel.clear()
        self._fill_layer_info()
        if self.search.text():
            self._apply_search()
        else:
            for p in expanded:
                idx = self.tree_model.index_for_path(p)
                if idx.isValid():
                    self.tree.expand(idx)
        self.view_ready.emit()

    def _expanded_paths(self) -> list[str]:
        out: list[str] = []
        m = self.tree_model

        def walk(parent: QModelIndex) -> None:
            for r in range(m.rowCount(parent)):
                idx = m.index(r, 0, parent)
                if self.tree.isExpanded(idx):
                    out.append(m.data(idx, Qt.ItemDataRole.UserRole + 2))
                    walk(idx)

        walk(QModelIndex())
        return out[:500]

    def _hide_unmodified_toggled(self, on: bool) -> None:
        self.tree_model.set_hide_unmodified(on)
        if self.search.text():
            self._apply_search()

    # ---- search -----------------------------------------------------------------------------------
    def _apply_search(self) -> None:
        view = self.tree_model.view
        text = self.search.text()
        if view is None:
            return
        if not text:
            self.search.setStyleSheet("")
            self.tree_model.set_filter(None)
            return
        regex = self.regex.isChecked()
        if regex:
            try:
                re.compile(text)
            except re.error as exc:
                self.search.setStyleSheet("QLineEdit { background: #ffebe9; }")
                self.status.setText(f"Invalid regular expression: {exc}")
                return
        self.search.setStyleSheet("")
        if self._search_job is not None and not self._search_job.done:
            self._search_job.cancel()

        def work(job: Job) -> tuple[FileView, list[str], set[str]]:
            hits, anc = view.search(text, regex)
            return view, hits, anc

        job = Job(work, "search")
        self._search_job = job
        job.finished.connect(self._search_done)
        job.failed.connect(self._failed)
        job.start()

    def _search_done(self, result: tuple[FileView, list[str], set[str]]) -> None:
        view, hits, anc = result
        if view is not self.tree_model.view:
            return
        self.tree_model.set_filter(set(hits) | anc)
        for p in sorted(anc, key=lambda q: q.count("/"))[:2000]:
            idx = self.tree_model.index_for_path(p)
            if idx.isValid():
                self.tree.expand(idx)
        if hits:
            first = self.tree_model.index_for_path(hits[0])
            self.tree.setCurrentIndex(first)
            self.tree.scrollTo(first)
        self.status.setText(f"{len(hits):,} match{'es' if len(hits) != 1 else ''} for “{self.search.text()}”")

    # ---- timeline actions ------------------------------------------------------------------------------
    def _timeline_menu(self, pos: Any) -> None:
        idx = self.timeline.indexAt(pos)
        if not idx.isValid():
            return
        menu = QMenu(self)
        menu.addAction("Copy command", self.copy_command)
        layer = self.timeline_model.step(idx.row()).layer
        if layer is not None and self.session is not None:
            menu.addSeparator()
            menu.addAction(f"Export layer #{layer}'s files…", lambda: self.export_dialog("layer", layer))
            menu.addAction(f"Save layer #{layer} as stored…", lambda: self.export_dialog("stored", layer))
        menu.exec(self.timeline.viewport().mapToGlobal(pos))

    def copy_command(self) -> None:
        idx = self.timeline.currentIndex()
        if idx.isValid():
            QApplication.clipboard().setText(self.timeline_model.step(idx.row()).text)

    # ---- drag and drop -------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(paths[0])
        if len(paths) > 1:
            self.open_requested.emit(paths[1:])

    def closeEvent(self, event: Any) -> None:
        self.cancel()
        settings.WINDOW_GEOMETRY.set(self.saveGeometry())
        settings.SPLITTER_STATE.set(self.splitter.saveState())
        settings.PANELS_STATE.set(self.vsplit.saveState())
        if self._sample_ctx is not None:
            self._sample_ctx.__exit__(None, None, None)
            self._sample_ctx = None
        super().closeEvent(event)
        self.closed.emit()

    # ---- the look-inside panels: File, Layer, Manifest/Index/Config, Waste --------------------------------
    def _fill_panels(self) -> None:
        s = self.session
        assert s is not None
        im = s.image
        digests = {d.digest: d.index for d in im.layers if d.digest}
        digests.update({d.diff_id: d.index for d in im.layers if d.diff_id})
        self._layer_digests = digests
        container = s.archive.container

        def is_link(v: str) -> bool:
            if v in digests:
                return True
            if not DIGEST_RE.match(v):
                return False
            alg, _, hexd = v.partition(":")
            return container.exists(f"blobs/{alg}/{hexd}")

        manifest = im.manifest_raw
        if manifest is None and container.exists("manifest.json"):  # a docker save: its own manifest.json
            try:
                manifest = container.blob("manifest.json").read_all(limit=16 << 20)
            except LayerScopeError:
                manifest = None
        self.json_panels["manifest"].set_document(manifest, is_link)
        self.json_panels["index"].set_document(im.index_raw, is_link)
        self.json_panels["config"].set_document(im.config_raw, is_link)
        self.tabs.setTabEnabled(self.tabs.indexOf(self.json_panels["manifest"]), manifest is not None)
        self.tabs.setTabEnabled(self.tabs.indexOf(self.json_panels["index"]), im.index_raw is not None)
        self.waste_panel.set_session(s)
        self.file_panel.clear()
        self._fill_layer_info()

    def _fill_layer_info(self) -> None:
        s = self.session
        if s is None or self.current_layer is None:
            self.layer_info.setPlainText("")
            return
        li = s.layers[self.current_layer]
        d = li.desc
        h = d.history
        lines = [
            f"Layer #{d.index} of {len(s.layers)}",
            f"digest:        {d.digest or '(unknown)'}",
            f"diff_id:       {d.diff_id or '(unknown)'}",
            f"media type:    {d.media_type or '(none)'}",
            f"compression:   {d.compression}{' (eStargz)' if d.estargz else ''}",
            f"stored size:   {d.size:,} bytes",
            f"tar size:      {li.uncompressed_size:,} bytes",
            f"entries:       {li.members:,}",
            f"created:       {h.created if h and h.created else '(not recorded)'}",
            f"author:        {h.author if h and h.author else ''}",
            "",
            "command:",
            h.text if h else "(no history)",
        ]
        if h is not None and h.text:
            lines += ["", "readable:", readable_command(h.text)]
        if li.metadata:
            lines += ["", "metadata entries (not files):"] + [
                f"  {e.path} ({e.size} bytes)" for e in li.metadata
            ]
        if d.annotations:
            lines += ["", "annotations:"] + [f"  {k}: {v}" for k, v in d.annotations.items()]
        if li.warnings:
            lines += ["", "warnings:"] + [f"  {w}" for w in li.warnings]
        self.layer_info.setPlainText("\n".join(lines))

    def _tree_current_changed(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if self.session is None or not current.isValid():
            return
        row = self.tree_model.data(current, ROW_ROLE)
        if row is not None:
            view = self.tree_model.view
            self.file_panel.show_row(self.session, row, bool(view is not None and view.layer_view))

    def go_to_path(self, path: str) -> None:
        """Select ``path`` in the tree (switching to the merged top view when the current view lacks it)."""
        if self.expand_path(path) or self.session is None:
            return
        top = len(self.session.layers) - 1

        def then() -> None:
            self.view_ready.disconnect(then)
            if not self.expand_path(path):
                self.status.setText(f"/{path} is not in the merged filesystem")

        self.view_ready.connect(then)
        self.search.clear()
        self.mode_merged.setChecked(True)
        if self.current_layer != top:
            self.select_layer(top)
        else:
            self._refresh_view()

    def show_wasted_path(self, path: str, layer: int) -> None:
        """Select the layer that stored a wasted copy, in its own-changes view, and the path there."""

        def then() -> None:
            self.view_ready.disconnect(then)
            self.expand_path(path)
            self.tabs.setCurrentWidget(self.file_panel)

        self.view_ready.connect(then)
        self.search.clear()
        self.mode_layer.setChecked(True)
        if self.current_layer != layer:
            self.select_layer(layer)
        else:
            self._refresh_view()

    def open_digest(self, digest: str) -> None:
        """A digest link: select the layer it names, or show the blob in a window."""
        layer = getattr(self, "_layer_digests", {}).get(digest)
        if layer is not None:
            self.select_layer(layer)
            return
        if self.session is None:
            return
        alg, _, hexd = digest.partition(":")
        try:
            raw = self.session.archive.container.blob(f"blobs/{alg}/{hexd}").read_all(limit=16 << 20)
        except LayerScopeError as exc:
            self.status.setText(str(exc))
            return
        dlg = QDialog(self)
        dlg.setWindowTitle(digest[:19])
        dlg.resize(900, 600)
        panel = JsonPanel(digest[:19], dlg)
        panel.set_document(raw)
        panel.link_activated.connect(self.open_digest)
        QVBoxLayout(dlg).addWidget(panel)
        dlg.show()

    # ---- export from the window -----------------------------------------------------------------------
    def _tree_menu(self, pos: Any) -> None:
        idx = self.tree.indexAt(pos)
        if not idx.isValid() or self.session is None:
            return
        path = self.tree_model.data(idx, PATH_ROLE)
        menu = QMenu(self)
        menu.addAction("Copy path", lambda: QApplication.clipboard().setText("/" + path))
        menu.addAction(f"Export /{path}…", lambda: self.export_dialog("path", self.current_layer, path))
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def export_merged_dialog(self) -> None:
        self.export_dialog("merged", self.current_layer)

    def export_dialog(self, what: str, layer: int | None, path: str = "") -> None:
        """Ask where and how, then export off the GUI thread."""
        if self.session is None:
            return
        name = self.session.image.name.replace("/", "_").replace(":", "_")
        if what == "layer":
            text, suggested = (
                f"layer #{layer}'s own files (whiteouts listed in WHITEOUTS.txt)",
                f"{name}-layer{layer}",
            )
        elif what == "stored":
            text, suggested = f"layer #{layer} as stored", f"{name}-layer{layer}.tar"
        elif what == "path":
            view = self.tree_model.view
            scope = (
                f"layer #{layer}'s own files"
                if view is not None and view.layer_view
                else f"merged up to #{layer}"
            )
            text, suggested = f"/{path} ({scope})", f"{name}-{path.rsplit('/', 1)[-1] or 'root'}"
        else:
            text, suggested = f"the merged filesystem up to layer #{layer}", f"{name}-rootfs"
        recent = settings.recent_files()
        dest_dir = Path(recent[0]).parent if recent else Path.home()
        dlg = ExportDialog(text, str(dest_dir / suggested), what in ("layer", "stored"), self)
        if what == "stored":
            dlg.as_stored.setChecked(True)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        if dlg.as_stored.isChecked():
            what = "stored"
        self.run_export(
            what,
            layer,
            path,
            dlg.destination(),
            force=dlg.force.isChecked(),
            keep_setuid=dlg.keep_setuid.isChecked(),
            compressed=dlg.compressed.isChecked(),
        )

    def run_export(
        self,
        what: str,
        layer: int | None,
        path: str,
        dest: Path,
        *,
        force: bool = False,
        keep_setuid: bool = False,
        compressed: bool = False,
    ) -> Job:
        """Export with progress and cancel; a message then says what was written and what was skipped."""
        s = self.session
        assert s is not None
        n = len(s.layers) - 1 if layer is None else layer
        own_view = bool(self.tree_model.view is not None and self.tree_model.view.layer_view)

        def work(job: Job) -> ExportResult:
            def prog(done: int, total: int) -> None:
                job.progress(f"exporting to {dest.name}", done, total)

            if what == "stored":
                return export_as_stored(
                    s.archive,
                    s.layers[n],
                    dest,
                    decompress=not compressed,
                    force=force,
                    progress=prog,
                    cancelled=job.cancelled,
                )
            if what == "layer" or (what == "path" and own_view):
                items, deletes = layer_items(s.tree, n, path)
                return export(
                    s.archive,
                    s.tree,
                    items,
                    dest,
                    deletes=deletes if what == "layer" else None,
                    force=force,
                    keep_special_bits=keep_setuid,
                    progress=prog,
                    cancelled=job.cancelled,
                )
            tree = s.merged_upto(n, job.cancelled)
            return export(
                s.archive,
                tree,
                merged_items(tree, path),
                dest,
                force=force,
                keep_special_bits=keep_setuid,
                progress=prog,
                cancelled=job.cancelled,
            )

        job = Job(work, "export")
        job.finished.connect(self._export_done)
        self._run(job, f"Exporting to {dest.name}")
        return job

    def _export_done(self, res: ExportResult) -> None:
        self._done_running()
        self.status.setText(res.summary())
        self.last_export = res
        self.exported.emit(res)
        if self.quiet_export:
            return
        box = QMessageBox(self)
        box.setWindowTitle("Export finished")
        box.setText(res.summary())
        details = [f"skipped {x}" for x in res.skipped] + [f"warning: {w}" for w in res.warnings]
        if details:
            box.setInformativeText(f"{len(res.skipped)} item(s) skipped, {len(res.warnings)} warning(s).")
            box.setDetailedText("\n".join(details))
        box.show()

    def materialize(self, paths: list[str]) -> list[Path]:
        """Temporary copies of files from the tree, for dragging them out of the window."""
        s = self.session
        out: list[Path] = []
        if s is None:
            return out
        folder = scratch_folder("drag")
        for p in paths:
            row = self.tree_model.row_info(p)
            src = FilePanel._data_source(s, row)
            if src is None:
                continue
            layer, entry = src
            target = folder / (row.name or "file")
            with open(target, "wb") as f:
                for _e, chunks in iter_contents(s.archive, s.layers[layer].desc, [entry]):
                    for c in chunks:
                        f.write(c)
            out.append(target)
        return out

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

    def expand_path(self, path: str) -> bool:
        """Expand the tree down to ``path`` and select it; False when it is not in the current view."""
        idx = self.tree_model.index_for_path(path.strip("/"))
        if not idx.isValid():
            return False
        p = idx.parent()
        while p.isValid():
            self.tree.expand(p)
            p = p.parent()
        self.tree.expand(idx)
        self.tree.setCurrentIndex(idx)
        self.tree.scrollTo(idx)
        return True


def humanized_date(text: str | None) -> str:
    return str(humanize.naturaldate(text)) if text else ""
