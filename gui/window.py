"""The explorer window: one image per window, composed of a controller and panels.

The controller (gui/controller.py) runs every job and holds the state; each panel (gui/panels/)
renders a part of it. This module only wires them: commands from the panels go to the controller,
the controller's signals go to the panels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar, cast

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QToolBar, QVBoxLayout, QWidget

from layerscope.core.archive.records import Archive, ImageRecord
from layerscope.core.export.result import ExportResult
from layerscope.core.session import LoadedImage

from . import settings
from .compare.flow import compare_drop, compare_with
from .controller import Controller
from .panels.actions import Actions
from .panels.drop_zone import DropZone, local_paths
from .panels.explorer import Explorer
from .panels.export_flow import ExportFlow, show_result
from .panels.findings import badge
from .panels.open_dialogs import ask_archive_file, ask_image, ask_layout_folder
from .panels.source_flow import SourceFlow
from .panels.status_bar import MessageBar, StatusPanel, show_warnings
from .worker import Job, share_with_gui_thread

T = TypeVar("T")


class _Held(Generic[T]):
    """A read-only attribute of the window that is the controller's attribute of the same name."""

    def __set_name__(self, _owner: type, name: str) -> None:
        self.name = name

    def __get__(self, window: MainWindow, _owner: type | None = None) -> T:
        return cast(T, getattr(window.controller, self.name))


class MainWindow(QMainWindow):
    """One image per window."""

    loaded = Signal()  # the image is fully loaded (tree usable), or the open failed or was cancelled
    view_ready = Signal()  # the file tree shows the selected layer's view
    open_requested = Signal(list)  # paths to open in new windows
    exported = Signal(object)  # an ExportResult
    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        share_with_gui_thread()  # workers leave the interpreter lock to painting (gui/worker.py)
        self.setWindowTitle("LayerScope")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.controller = Controller(self)
        self.ask_image: Callable[[Archive], int | None] = lambda archive: ask_image(self, archive)
        self.controller.pick_image = lambda archive: self.ask_image(archive)
        self.quiet_export = False  # tests: no message box after an export
        self._build()
        self._connect()
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

    # ---- the state, as the controller holds it (read-only here) -----------------------------------
    session: _Held[LoadedImage | None] = _Held()
    archive: _Held[Archive | None] = _Held()
    image: _Held[ImageRecord | None] = _Held()
    path: _Held[Path | None] = _Held()
    error: _Held[str | None] = _Held()
    current_layer: _Held[int | None] = _Held()
    last_export: _Held[ExportResult | None] = _Held()

    # ---- composition ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.commands = a = Actions(self)
        self.search, self.regex, self.image_combo = a.search, a.regex, a.image_combo
        self.mode_layer, self.mode_merged = a.mode_layer, a.mode_merged
        self.hide_unmodified = a.hide_unmodified
        self.recent_menu, self.export_merged_action = a.recent_menu, a.export_merged_action
        self.message = MessageBar()
        self.drop_zone = DropZone()
        self.drop_label, self.sample_button = self.drop_zone.drop_label, self.drop_zone.sample_button
        self.explorer = ex = Explorer(self.controller)
        self.materialize, self.open_digest = ex.materialize, ex.open_digest
        self.go_to_path, self.show_wasted_path = ex.go_to_path, ex.show_wasted_path
        self.timeline, self.tree, self.tabs = ex.timeline, ex.tree, ex.tabs
        self.timeline_model, self.tree_model = ex.timeline.timeline_model, ex.tree.tree_model
        self.file_panel, self.layer_info, self.waste_panel = ex.file_panel, ex.layer_info, ex.waste_panel
        self.packages_panel, self.history_panel = ex.packages_panel, ex.history_panel
        self.documents, self.json_panels = ex.documents, ex.documents.panels
        self.splitter, self.vsplit = ex.top, ex
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_zone)
        self.stack.addWidget(ex)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(6, 6, 6, 0)
        cl.addWidget(self.message)
        cl.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status_panel = sp = StatusPanel(self.statusBar())
        self.status, self.warnings_button = sp.status, sp.warnings_button
        self.progress, self.cancel_button = sp.progress, sp.cancel_button
        self.export_flow = ExportFlow(self, self.controller)
        self.source_flow = SourceFlow(self, self.controller)
        self.export_flow.follow(self.export_merged_action)

    def _connect(self) -> None:
        a, c = self.commands, self.controller
        a.connect_to(c)
        a.add_go_menu(self.explorer.go_actions)
        treemap = self.explorer.space.treemap_action  # View > Treemap and its toolbar button
        a.view_menu.addAction(treemap)
        toolbar = self.findChild(QToolBar, "main-toolbar")
        if toolbar is not None:
            toolbar.addAction(treemap)
        self.explorer.view_shown.connect(self.view_ready)
        a.legend_toggled.connect(self.explorer.legend.setVisible)
        self.explorer.note.connect(self.status_panel.flash)
        self.explorer.note_withdrawn.connect(self.status_panel.withdraw)
        self.status_panel.connect_to(c)
        a.open_file.connect(lambda: self._open_chosen(ask_archive_file(self)))
        a.open_folder.connect(lambda: self._open_chosen(ask_layout_folder(self)))
        a.open_recent.connect(self.open_reference)
        a.open_registry.connect(self.source_flow.open_registry)
        a.open_engine.connect(self.source_flow.open_engine)
        a.open_sample.connect(self.open_sample)
        a.compare_requested.connect(lambda: compare_with(self))
        a.export_merged.connect(lambda: self.export_dialog("merged", c.current_layer))
        a.focus_timeline.connect(self.timeline.setFocus)
        a.focus_tree.connect(self.tree.setFocus)
        self.drop_zone.open_requested.connect(a.open_file)
        self.drop_zone.sample_requested.connect(self.open_sample)
        self.timeline.export_requested.connect(self.export_dialog)
        self.tree.export_requested.connect(lambda p: self.export_dialog("path", c.current_layer, p))
        self.status_panel.warnings_requested.connect(self.show_warnings)
        self.status_panel.findings_requested.connect(self.explorer.show_findings)
        c.auditor.changed.connect(lambda: self.status_panel.show_findings(badge(c.auditor)))
        c.loading.connect(lambda image, _sizes: self._show_loading(image))
        c.image_loaded.connect(self._show_new_image)
        c.restored.connect(self._show_restored)
        c.loaded.connect(self.loaded)
        c.failed.connect(self.message.show_error)
        c.exported.connect(self._exported)
        c.packages_ready.connect(self._show_summary)

    # ---- rendering the controller's state ---------------------------------------------------------
    def _show_loading(self, image: ImageRecord) -> None:
        self.commands.set_enabled(False)
        self.commands.show_reading(image)
        self.status_panel.show_summary(None)  # the old image's summary and warnings go with it
        self.stack.setCurrentIndex(1)
        self._show_title()

    def _show_new_image(self) -> None:
        self.status_panel.clear_message()  # a note (e.g. the filter's matches) was about the old image
        self.message.hide()
        self._show_image(new=True)

    def _show_restored(self) -> None:
        """An open ended without a new image: show what the controller still holds."""
        if self.controller.session is None:
            self.stack.setCurrentIndex(0)
            self.commands.image_combo.clear()  # it named the image that failed to load
            self._show_title()
            return
        self._show_image(new=False)
        if self.controller.filter_text:
            self.controller.set_filter(self.controller.filter_text, self.controller.regex)

    def _show_image(self, new: bool) -> None:
        """The controller's image; ``new``: also the panels about the whole image (else they show it)."""
        c = self.controller
        s, archive = c.session, c.archive
        assert s is not None and archive is not None
        self.commands.show_images(archive, next(i for i, im in enumerate(archive.images) if im is s.image))
        self.commands.show_mode(c.own_changes)
        self.commands.set_enabled(True)
        if new:
            self.explorer.show_image()
        else:
            self.explorer.show_restored()
        self._show_summary()
        self.stack.setCurrentIndex(1)
        self._show_title()
        self.view_ready.emit()

    def _show_summary(self) -> None:
        """The status bar's summary of the image shown, with its OS once the package job named it."""
        c = self.controller
        if c.session is not None:
            self.status_panel.show_summary(c.session, c.packages.os if c.packages is not None else None)

    def _show_title(self) -> None:
        reading, shown = self.controller.reading_name, self.controller.shown_name
        if reading is not None:  # the new image's timeline is shown, the rest of it follows
            self.setWindowTitle(f"Reading {reading}… — LayerScope")
        else:
            self.setWindowTitle(f"{shown} — LayerScope" if shown is not None else "LayerScope")

    def _exported(self, res: ExportResult) -> None:
        self.exported.emit(res)
        if not self.quiet_export:
            show_result(self, res)

    # ---- opening --------------------------------------------------------------------------------
    def open_path(self, path: Path, remember: bool = True) -> None:
        """Open ``path`` in this window (off the GUI thread)."""
        self.message.hide()
        self.controller.open_path(Path(path), remember)

    def open_reference(self, text: str) -> None:
        """Open what ``text`` names: a file, ``docker://...``, ``docker-daemon:...``, ``podman:...``."""
        self.message.hide()
        self.controller.open_reference(text)

    def _open_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.open_path(path)

    def open_sample(self) -> None:
        self.message.hide()
        self.controller.open_sample()

    def _fill_recent(self) -> None:
        self.commands.fill_recent()

    def cancel(self) -> None:
        self.controller.cancel()

    def show_warnings(self) -> None:
        if self.session is not None:
            show_warnings(self, self.session, self.controller.shown_name or "the image")

    # ---- navigation ------------------------------------------------------------------------------
    def select_layer(self, layer: int) -> None:
        self.controller.select_layer(layer)

    def expand_path(self, path: str) -> bool:
        """Expand the tree down to ``path`` and select it; False when it is not in the current view."""
        return self.tree.expand_path(path)

    # ---- export ---------------------------------------------------------------------------------
    def export_dialog(self, what: str, layer: int | None, path: str = "") -> None:
        """Ask where and how, then export off the GUI thread."""
        self.export_flow.ask(what, layer, path)

    def run_export(self, what: str, layer: int | None, path: str, dest: Path, **options: bool) -> Job:
        """Export with progress and cancel; a message then says what was written and what was skipped."""
        return self.export_flow.run(what, layer, path, dest, **options)

    # ---- the window itself --------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        if compare_drop(self, event.modifiers(), paths[0]):  # Ctrl held: compare with the image shown
            return
        self.open_path(paths[0])
        if len(paths) > 1:
            self.open_requested.emit(paths[1:])

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.close()
        self.explorer.clear()  # the panels let go of the image too (a closed window frees it)
        settings.WINDOW_GEOMETRY.set(self.saveGeometry())
        settings.SPLITTER_STATE.set(self.splitter.saveState())
        settings.PANELS_STATE.set(self.vsplit.saveState())
        super().closeEvent(event)
        self.closed.emit()

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)
