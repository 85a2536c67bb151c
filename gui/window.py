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
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive import Archive, ImageRecord, open_archive
from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.core.session import LoadedImage, load
from layerscope.core.views import FileView

from . import settings
from .colors import layer_color
from .models import LAYER_ROLE, FileTreeModel, LayerTimelineModel, human
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
        self._build()
        geo = settings.WINDOW_GEOMETRY.get()
        if geo:
            self.restoreGeometry(geo)

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
        self.message.setStyleSheet(
            "QLabel { background: #ffebe9; color: #82071e; padding: 6px; "
            "border: 1px solid #ff8182; border-radius: 4px; }"
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

        self.stack = QStackedWidget()
        self.stack.addWidget(drop)
        self.stack.addWidget(self.splitter)
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
        job.finished.connect(self._view_computed)
        job.failed.connect(self._failed)
        job.start()

    def _view_computed(self, view: FileView) -> None:
        expanded = self._expanded_paths()
        self.tree_model.set_view(view)
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
        if self._sample_ctx is not None:
            self._sample_ctx.__exit__(None, None, None)
            self._sample_ctx = None
        super().closeEvent(event)

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
