"""The loaded image: the timeline and the file tree side by side, the look-inside tabs below them.

Navigation lives here too: the user's place (layer, view mode, selected path, open folders) is kept
when the view changes, and every jump (another layer or mode, a followed link, a wasted copy, a
history entry, a breadcrumb) can be undone with Back (Alt+Left, the mouse's back button) and redone
with Forward; see gui/navigation.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent, QShowEvent, QWindow
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget

from layerscope.core.archive.records import ImageRecord
from layerscope.core.display import human_size
from layerscope.core.errors import LayerScopeError
from layerscope.core.kinds import EntryType
from layerscope.core.paths import split
from layerscope.core.views import FileView, Row

from ..content import MAX_FOLDER_COPY_BYTES, write_copy, write_folder_copy
from ..controller import Controller
from ..icons import action_icon
from ..navigation import History, Place
from ..scratch import scratch_folder
from .details import FilePanel
from .file_tree import MAX_EXPANDED_CHANGES, FileTreePanel, Landing
from .findings import FindingsPanel
from .history import HistoryPanel
from .json_view import ImageDocuments
from .layer_info import LayerInfoPanel
from .legend import Legend
from .matches import MatchBar
from .packages import PackagesPanel
from .path_bar import PathBar
from .space_views import SpaceViews
from .switch_notice import SwitchNotice
from .timeline import TimelinePanel
from .waste import WastePanel


class Explorer(QSplitter):
    """Renders the controller's image, layer, view, filter and preview; selections become its commands."""

    view_shown = Signal()  # the tree shows the controller's view
    note = Signal(str)  # a transient message
    note_withdrawn = Signal(str)  # that message is no longer true (take it down if still shown)

    def __init__(self, controller: Controller) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self._controller = controller
        self.timeline = TimelinePanel()
        self.tree = FileTreePanel(self.materialize)
        self.history = History()
        self._pending: Place | None = None  # where the view being computed is to land
        self._recording = True  # False while going Back or Forward: not a new jump
        self._landing_note: str | None = None  # the last "/x is not in layer #n" said
        self._kept: tuple[str, list[str]] | None = None  # the place while another image is read
        self._watched: QWindow | None = None  # the window whose mouse buttons go Back/Forward
        self._shown_file: Path | None = None  # the file of the image shown
        self.path_bar = PathBar()
        self.matches = MatchBar()
        self._build_actions()
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.addWidget(self.timeline)
        self.legend = Legend()  # under the tree it explains
        tree_box = QWidget()
        box = QVBoxLayout(tree_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        nav = QHBoxLayout()
        nav.setSpacing(0)
        for act in (self.back_action, self.forward_action):
            nav.addWidget(_button(act))
        nav.addWidget(self.path_bar, 1)
        nav.addWidget(_button(self.expand_changes_action, text=True))
        box.addLayout(nav)
        box.addWidget(self.matches)
        box.addWidget(self.tree, 1)
        box.addWidget(self.legend)
        self.top.addWidget(tree_box)
        self.top.setStretchFactor(0, 2)
        self.top.setStretchFactor(1, 3)
        self.top.setSizes([520, 760])
        self.file_panel = FilePanel()
        self.layer_info = LayerInfoPanel()
        self.documents = ImageDocuments(self)
        self.waste_panel = WastePanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.file_panel, "File")
        self.tabs.addTab(self.layer_info, "Layer")
        self.documents.add_to(self.tabs)
        self.tabs.addTab(self.waste_panel, "Waste")
        self.packages_panel = PackagesPanel()
        self.history_panel = HistoryPanel()
        self.tabs.addTab(self.packages_panel, "Packages")
        self.tabs.addTab(self.history_panel, "History")
        self.findings_panel = FindingsPanel()  # the audit (gui/auditor.py)
        self.tabs.addTab(self.findings_panel, "Findings")
        self.addWidget(self.top)
        self.addWidget(self.tabs)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.setSizes([430, 300])
        self._connect(controller)
        self.switch_notice = SwitchNotice(self.tree, controller)  # a slow layer switch says so
        self.space = SpaceViews(self, controller)  # the treemap, the overview, the waste's groups

    def _connect(self, c: Controller) -> None:
        self.legend.connect_to(c)
        self.documents.link_activated.connect(self.open_digest)
        self.file_panel.path_requested.connect(self.go_to_path)
        self.file_panel.failed.connect(self.note)
        self.waste_panel.path_requested.connect(self.show_wasted_path)
        self.findings_panel.connect_to(c.auditor)
        self.findings_panel.path_requested.connect(self.show_stored_path)
        self.findings_panel.layer_requested.connect(c.select_layer)
        self.findings_panel.title_changed.connect(
            lambda t: self.tabs.setTabText(self.tabs.indexOf(self.findings_panel), t)
        )
        c.loading.connect(self._show_loading)
        c.sizes_read.connect(self._show_sizes)
        c.view_changed.connect(self._show_view)
        c.waste_ready.connect(lambda: self.waste_panel.show_rows(c.waste_rows))
        c.packages_ready.connect(self._show_packages)
        self.packages_panel.file_requested.connect(self.show_package_file)
        self.history_panel.layer_selected.connect(c.select_layer)
        c.layer_changed.connect(self.packages_panel.show_layer)
        c.layer_changed.connect(self.history_panel.show_layer)
        self.timeline.layer_selected.connect(self._layer_selected)
        self.file_panel.layer_requested.connect(c.select_layer)
        self.tree.row_selected.connect(self._row_selected)
        c.layer_changed.connect(self.timeline.show_layer)
        c.hide_unmodified_changed.connect(self._set_hide_unmodified)
        c.filter_cleared.connect(self._filter_cleared)
        c.filter_invalid.connect(self._filter_invalid)
        c.matches.connect(self._show_matches)
        self.path_bar.path_clicked.connect(self.go_to_folder)
        self.matches.go_to.connect(self.tree.select)
        self.tree.tree_model.layoutChanged.connect(self._resorted)
        self.tree.changes_expanded.connect(self._changes_expanded)
        self.matches.clear_requested.connect(lambda: c.set_filter("", c.regex))
        c.preview_ready.connect(self.file_panel.show_preview)
        c.preview_failed.connect(self.file_panel.show_preview_failed)

    def _build_actions(self) -> None:
        """Back, Forward, Expand all changes; next/previous match are the match bar's. Their
        shortcuts work anywhere in the window; the window's menus list them (``go_actions``)."""
        self.back_action = _icon_action("&Back", "back", self)
        self.back_action.setShortcuts(_keys(QKeySequence.StandardKey.Back, "Alt+Left"))
        self.back_action.triggered.connect(self.go_back)
        self.forward_action = _icon_action("&Forward", "forward", self)
        self.forward_action.setShortcuts(_keys(QKeySequence.StandardKey.Forward, "Alt+Right"))
        self.forward_action.triggered.connect(self.go_forward)
        self.expand_changes_action = _icon_action("&Expand All Changes", "expand", self)
        self.expand_changes_action.setToolTip("Open every folder that holds a change of this layer")
        self.expand_changes_action.setShortcut(QKeySequence("Ctrl+E"))
        self.expand_changes_action.triggered.connect(self.expand_all_changes)
        self.expand_changes_action.setEnabled(False)
        self.clear_filter_action = QAction("Clear the Filter", self.tree)  # Escape in the tree
        self.clear_filter_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.clear_filter_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.clear_filter_action.triggered.connect(self.matches.clear_requested)
        self.tree.addAction(self.clear_filter_action)
        self.go_actions = [
            self.back_action,
            self.forward_action,
            self.matches.next_action,
            self.matches.previous_action,
            self.expand_changes_action,
        ]
        self._show_history()

    def _layer_selected(self, layer: int) -> None:
        """A row of the timeline became current: show its layer. While an image is read, only the
        user's own choice counts (the timeline also gets a current row when it takes the focus)."""
        c = self._controller
        if c.reading:
            if self.timeline.choosing:
                c.select_layer(layer)
        elif layer != c.current_layer:
            c.select_layer(layer)

    def _row_selected(self, row: Row) -> None:
        self.path_bar.show_path(row.path)
        self.matches.show_current(row.path)
        s = self._controller.session
        if s is not None:
            self.file_panel.show_row(s, row)
            self._controller.preview(row)

    def _show_loading(self, image: ImageRecord, sizes: dict[int, int]) -> None:
        """An image is being read: its timeline first, the rest waits for it (a layer the user
        selects in it meanwhile stays selected, and is shown once the image is loaded)."""
        self.timeline.show_steps(image.history, sizes, self._controller.asked_layer)
        self.timeline.timeline_model.set_package_summaries({})
        if self.tree.tree_model.view is not None:
            self._kept = (self.tree.wanted_path, self.tree.expanded_paths())
            self.tree.show_view(None, keep_expanded=False)
            self.file_panel.clear()
        # nothing of the image shown before stays beside the new one's timeline (Cancel shows it again)
        self.documents.clear("Reading the image…")
        self.layer_info.show_layer(None, None)
        self.history_panel.show_history(None, reading=True)
        self.packages_panel.show_info(None)
        self.waste_panel.show_rows(None)
        self.set_exportable(False)
        self.expand_changes_action.setEnabled(False)

    def _show_sizes(self, sizes: dict[int, int]) -> None:
        """The layers of the image being read are indexed: their uncompressed sizes in its timeline
        (the rest of the window stays as ``loading`` left it)."""
        if self._controller.reading_image is not None:
            self.timeline.timeline_model.set_sizes(sizes)

    def clear(self) -> None:
        """No image any more (the window closes): every panel lets go of the one it showed."""
        self.tree.show_view(None, keep_expanded=False)
        self.file_panel.clear()
        self.waste_panel.show_rows(None)
        self.space.clear()
        self.packages_panel.show_info(None)
        self.history_panel.show_history(None)
        self.documents.clear()
        self.layer_info.show_layer(None, None)

    def show_image(self) -> None:
        """Everything about the controller's (new) image, at its current layer and view."""
        s = self._controller.session
        assert s is not None
        self.documents.show_image(s)
        self.waste_panel.show_rows(self._controller.waste_rows)
        self.history.clear()  # places name layers of the image they were in
        self._pending = None
        if self._shown_file != self._controller.path:
            self._kept = None  # another file: its place starts at the top
        self._shown_file = self._controller.path
        self.show_layer()

    def show_restored(self) -> None:
        """The controller's image again, after a read of another ended without replacing it: what
        ``loading`` took away."""
        c = self._controller
        assert c.session is not None
        self.documents.show_image(c.session)
        self.waste_panel.show_rows(c.waste_rows)
        self.show_layer()

    def show_layer(self) -> None:
        """The controller's image's timeline, current layer and view."""
        c = self._controller
        s, layer = c.session, c.current_layer
        assert s is not None and layer is not None
        self.timeline.show_steps(s.image.history, {li.index: li.uncompressed_size for li in s.layers})
        self.timeline.show_layer(layer)
        self.set_exportable(True)
        self.file_panel.clear()
        path, opened = self._kept if self._kept is not None else ("", [])
        self._kept = None
        self._land(self.tree.show_view(c.view, path, keep_expanded=False, opened=opened))
        self.layer_info.show_layer(s, layer)
        self._show_history()
        self._show_packages()

    def _show_packages(self) -> None:
        """What the package job found about the image shown (the build steps and OS, then the
        packages): the Packages and History tabs, the timeline's package column."""
        c = self._controller
        s, info = c.session, c.packages
        if s is None:
            return
        nodes, changes = s.tree.nodes, s.tree.changes

        def exists(path: str, layer: int | None) -> bool:
            return path in nodes if layer is None else 0 <= layer < len(changes) and path in changes[layer]

        self.packages_panel.exists = exists
        self.packages_panel.show_info(info, len(s.layers) - 1)
        self.packages_panel.show_layer(c.current_layer)
        steps = info.steps if info is not None else None
        self.history_panel.show_history(steps, s.image.name, reading=info is None or not info.done)
        self.history_panel.show_layer(c.current_layer)
        summaries = info.summaries if info is not None and info.history is not None else {}
        self.timeline.timeline_model.set_package_summaries(summaries)

    def show_package_file(self, path: str, layer: int, own: bool) -> None:
        """A package's file: in the view shown when it has it, else in ``layer``'s view (``own``: its
        own changes, else merged; the nearest folder when the path is not there); the filter is
        cleared when it hides the path."""
        c, shown, view = self._controller, self.shown_place(), self.tree.tree_model.view
        if c.session is None or shown is None or view is None:
            return
        if not self.tree.tree_model.index_for_path(path).isValid() and c.filter_text:
            c.set_filter("", c.regex)
        if _holds(view, path):
            self.navigate(Place(shown.layer, shown.own_changes, path))
        else:
            self.navigate(Place(layer, own, path))

    def _show_view(self) -> None:
        """The controller's new view of a layer: the place is kept (or is the pending jump's)."""
        c, view = self._controller, self._controller.view
        if view is None:
            return
        pending, self._pending = self._pending, None
        recording, self._recording = self._recording, True
        if pending is not None and (pending.layer, pending.own_changes) != (view.top, view.layer_view):
            pending = None  # another view superseded the jump's
        left = self.shown_place()
        path = pending.path if pending is not None else self.tree.wanted_path
        if recording and left is not None and left != Place(view.top, view.layer_view, path):
            self.history.record(left)
        self.file_panel.clear()
        self._land(self.tree.show_view(view, path))
        self.layer_info.show_layer(c.session, c.current_layer)
        self._show_history()
        self.view_shown.emit()

    # ---- the user's place ---------------------------------------------------------------------------
    def shown_place(self) -> Place | None:
        """The layer, mode and wanted path the tree shows; None without a view."""
        view = self.tree.tree_model.view
        return None if view is None else Place(view.top, view.layer_view, self.tree.wanted_path)

    def _land(self, landing: Landing) -> None:
        """Show where a selection landed: the path bar, and a quiet note when the wanted path is not
        there (its nearest folder is selected instead)."""
        view = self.tree.tree_model.view
        self.expand_changes_action.setEnabled(view is not None and view.layer_view)
        if not landing.shown and self.file_panel.row is not None:
            self.file_panel.clear()  # at the top nothing is selected: the overview, not the last row
        if not landing.wanted or landing.exact or view is None:
            self.path_bar.show_path(landing.shown)
            if self._landing_note is not None:  # the wanted path is back: that note is untrue now
                self.note_withdrawn.emit(self._landing_note)
                self._landing_note = None
            return
        instead = f"/{landing.shown}" if landing.shown else "the top"
        if _holds(view, landing.wanted):
            why = "is hidden by the filter or Hide unmodified"
        else:
            mode = "own changes of" if view.layer_view else "merged filesystem of"
            why = f"is not in the {mode} layer #{view.top}"
        self.path_bar.show_path(landing.shown, f"/{landing.wanted} {why}")
        self._landing_note = f"/{landing.wanted} {why}: showing {instead}"
        self.note.emit(self._landing_note)

    def navigate(self, place: Place, record: bool = True) -> None:
        """Show ``place``: its layer and mode (computed off the GUI thread when they change), then its
        path or the nearest folder of it; ``record``: the place left goes into the Back history."""
        c, shown = self._controller, self.shown_place()
        if shown is None or c.session is None:
            return
        here = (shown.layer, shown.own_changes)
        if (place.layer, place.own_changes) == here == (c.current_layer, c.own_changes):
            if record and place != shown:
                self.history.record(shown)
            self._land(self.tree.select(place.path))
            self._show_history()
            self.view_shown.emit()  # the same view, at the new place
            return
        self._pending, self._recording = place, record
        if not c.show(place.layer, place.own_changes):
            self._pending, self._recording = None, True

    def current_place(self) -> Place | None:
        """The place shown, or the one a jump on its way will show."""
        return self._pending or self.shown_place()

    def go_back(self) -> None:
        tm = self.space.treemap
        if tm.isVisible() and tm.view.hasFocus() and tm.back_action.isEnabled():
            tm.back_action.trigger()  # Alt+Left in the treemap: its own zooms first
            return
        here = self.current_place()
        place = self.history.back(here) if here is not None else None
        if place is not None:
            self.navigate(place, record=False)
        self._show_history()

    def go_forward(self) -> None:
        here = self.current_place()
        place = self.history.forward(here) if here is not None else None
        if place is not None:
            self.navigate(place, record=False)
        self._show_history()

    def _show_history(self) -> None:
        for act, place, name in (
            (self.back_action, self.history.peek_back(), "Back"),
            (self.forward_action, self.history.peek_forward(), "Forward"),
        ):
            act.setEnabled(place is not None)
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            to = f" to {place.describe()}" if place is not None else ""
            act.setToolTip(f"{name}{to} ({keys}, or the mouse's {name.lower()} button)")

    def go_to_folder(self, path: str) -> None:
        """A breadcrumb: select that folder (the root: nothing) in the view shown."""
        shown = self.shown_place()
        if shown is not None:
            self.navigate(Place(shown.layer, shown.own_changes, path))

    def expand_all_changes(self) -> None:
        """Open every folder of the layer's own changes (each holds changes), up to a limit."""
        view = self.tree.tree_model.view
        if view is None or not view.layer_view:
            self.note.emit("Expand all changes works in the Layer changes view")
            return
        self.tree.expand_all_changes(MAX_EXPANDED_CHANGES)

    def _changes_expanded(self, n: int, more: bool) -> None:
        if more:
            self.note.emit(f"Expanded the first {n:,} folders holding changes; more are left closed")
        else:
            self.note.emit(f"Expanded {n:,} folder{'' if n == 1 else 's'} holding changes")

    # ---- the filter -------------------------------------------------------------------------------
    def _show_matches(self, hits: list[str], ancestors: set[str]) -> None:
        order = self.tree.show_matches(hits, ancestors)
        self.matches.show_matches(order, self._controller.filter_text)
        self.matches.show_current(self.tree.current_path())

    def _resorted(self) -> None:
        """The tree's sort changed: Next and Previous follow its new order."""
        order = self.tree.matches_in_order()
        if order is not None and self.matches.hits:
            self.matches.reorder(order)
            self.matches.show_current(self.tree.current_path())

    def _filter_cleared(self) -> None:
        self.tree.clear_matches()
        self.matches.clear()

    def _filter_invalid(self, why: str) -> None:
        self.tree.clear_matches()  # the old results are gone, not left standing
        self.matches.show_invalid(why)

    def _set_hide_unmodified(self, on: bool) -> None:
        landing = self.tree.set_hide_unmodified(on)
        if landing is not None:
            self._land(landing)

    # ---- the mouse's back and forward buttons ---------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        handle = self.window().windowHandle()
        if handle is not None and handle is not self._watched:
            handle.installEventFilter(self)  # the window gets every mouse press before its widgets
            self._watched = handle

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and self.isVisible():
            button = cast(QMouseEvent, event).button()
            if button == Qt.MouseButton.BackButton:
                self.go_back()
                return True
            if button == Qt.MouseButton.ForwardButton:
                self.go_forward()
                return True
        return super().eventFilter(watched, event)

    def set_exportable(self, on: bool) -> None:
        self.timeline.can_export = self.tree.can_export = on

    def open_digest(self, digest: str) -> None:
        """A digest link: select the layer it names, or show the blob in a window."""
        layer = self.documents.layer_digests.get(digest)
        s = self._controller.session
        if layer is not None:
            self._controller.select_layer(layer)
        elif s is not None:
            error = self.documents.open_blob(self, s, digest)
            if error is not None:
                self.note.emit(error)

    def go_to_path(self, path: str) -> None:
        """Select ``path`` (a link's target): in the view shown when it has it, else in the merged
        filesystem of the top layer; the filter is cleared when it hides the path."""
        c, shown, view = self._controller, self.shown_place(), self.tree.tree_model.view
        path = path.strip("/")
        if c.session is None or shown is None or view is None:
            return
        if not self.tree.tree_model.index_for_path(path).isValid() and c.filter_text:
            c.set_filter("", c.regex)
        if _holds(view, path):
            self.navigate(Place(shown.layer, shown.own_changes, path))
        else:
            self.navigate(Place(len(c.session.layers) - 1, False, path))

    def show_wasted_path(self, path: str, layer: int) -> None:
        """Select the layer that stored a wasted copy, in its own-changes view, and the path there."""
        c = self._controller
        if c.filter_text:
            c.set_filter("", c.regex)
        self.navigate(Place(layer, True, path.strip("/")))
        self.tabs.setCurrentWidget(self.file_panel)

    def show_stored_path(self, path: str, layer: int) -> None:
        """A finding: its path in the own changes of the layer that stores it (the tab stays)."""
        c = self._controller
        if c.filter_text:
            c.set_filter("", c.regex)
        self.navigate(Place(layer, True, path.strip("/")))

    def show_findings(self) -> None:
        """The Findings tab (the status bar's findings button)."""
        self.tabs.setCurrentWidget(self.findings_panel)

    def materialize(self, paths: list[str]) -> list[Path]:
        """Temporary copies of files and folders from the tree, for dragging them out of the window.

        The drop target asks for them on the GUI thread, in the middle of the drop: only what copies
        in a blink is copied (DRAG_MAX_BYTES, DRAG_MAX_ENTRIES); anything larger is refused with a
        note that points to Export, which copies it in the background with progress."""
        s, view = self._controller.session, self.tree.tree_model.view
        if s is None or view is None:
            return []
        out = []
        for p in paths:
            row = self.tree.tree_model.row_info(p)
            too_much = _too_much_to_drag(view, row)
            if too_much is not None:
                self.note.emit(f"/{p} {too_much}: too much to copy while dragging; use Export… instead")
                continue
            folder = scratch_folder("drag")
            try:
                if row.type is EntryType.DIR:
                    copy = write_folder_copy(s, row, view.top, view.layer_view, folder)
                else:
                    copy = write_copy(s, row, folder)
            except LayerScopeError as e:
                self.note.emit(f"Could not copy /{p}: {e}")
                continue
            if copy is not None:
                out.append(copy)
        return out


DRAG_MAX_BYTES = 8_000_000
"""A file or folder dragged out of the tree is copied during the drop, on the GUI thread: up to this
many bytes (a few milliseconds to read and write); beyond, Export does it."""
DRAG_MAX_ENTRIES = 500
"""... and a folder with up to this many entries below it."""


def _too_much_to_drag(view: FileView, row: Row) -> str | None:
    """Why ``row`` is too large to copy during a drop (None: it is not). Counts at most
    DRAG_MAX_ENTRIES + 1 entries below a folder."""
    if row.size > min(DRAG_MAX_BYTES, MAX_FOLDER_COPY_BYTES):
        return f"holds {human_size(row.size)}"
    if row.type is not EntryType.DIR:
        return None
    count, stack = 0, [row.path]
    while stack:
        folder = stack.pop()
        for name in view.children(folder):
            count += 1
            if count > DRAG_MAX_ENTRIES:
                return f"holds more than {DRAG_MAX_ENTRIES:,} entries"
            stack.append(f"{folder}/{name}" if folder else name)
    return None


def _keys(standard: QKeySequence.StandardKey, *more: str) -> list[QKeySequence]:
    """The platform's keys for ``standard``, then ``more`` (each once)."""
    keys = list(QKeySequence.keyBindings(standard))
    for k in more:
        seq = QKeySequence(k)
        if seq not in keys:
            keys.append(seq)
    return keys


def _icon_action(text: str, icon: str, parent: QWidget) -> QAction:
    act = QAction(action_icon(icon), text, parent)
    act.setProperty("layerscope_icon", icon)  # redrawn with the palette (gui/panels/actions.py)
    return act


def _button(action: QAction, text: bool = False) -> QToolButton:
    b = QToolButton()
    b.setDefaultAction(action)
    b.setAutoRaise(True)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays where it was
    if text:
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return b


def _holds(view: FileView, path: str) -> bool:
    """Whether ``view`` has ``path`` (filter and Hide unmodified aside)."""
    if not path:
        return True
    folder, name = split(path)
    return name in view.children(folder)
