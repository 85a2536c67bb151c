"""The file tree: the view of the selected layer, lazily expanded, tinted by the layer that owns a row.

The tree keeps the user's place: the path they selected (``wanted_path``) and the folders they
opened survive a new view (another layer, the other view mode), a filter and "Hide unmodified".
When the wanted path is not in the new view, its nearest shown ancestor is selected instead, and the
wanted path is kept, so it comes back in the next view that has it. Re-opening folders visits only
the children of the folders that were open: never the whole image.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QContextMenuEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QMenu, QTreeView

from layerscope.core.paths import ancestors, parent
from layerscope.core.views import FileView

from ..models import PATH_ROLE, ROW_ROLE, FileTreeModel
from .tree_columns import ColumnChooser

MAX_KEPT_EXPANDED = 500
"""Expanded folders carried over from one view to the next."""
MAX_EXPANDED_MATCH_FOLDERS = 2000
"""Folders opened to show a filter's matches."""
MAX_ORDERED_MATCH_ROWS = 3000
"""A filtered tree up to this many rows has its hits stepped through in the tree's order; a bigger
one in the search's order (by path), since finding the tree's order means visiting every row."""
MAX_EXPANDED_CHANGES = 2000
"""Folders "Expand all changes" opens at most."""
EXPAND_SLICE_S = 0.02
"""Opening many folders goes in slices this long; the window answers between them."""
MENU_SHORTCUT = "Shift+F10"
"""Opens the context menu of the current row, as the Menu key does."""


@dataclass(frozen=True, slots=True)
class Landing:
    """Where a selection landed: ``wanted`` was asked for, ``shown`` is selected ("" for none)."""

    wanted: str
    shown: str

    @property
    def exact(self) -> bool:
        return self.wanted == self.shown


def keyboard_menu_shortcut(widget: QAbstractItemView, slot: Callable[[], object]) -> QAction:
    """Shift+F10 on ``widget``: its context menu for the current row."""
    act = QAction("Context menu", widget)
    act.setShortcut(QKeySequence(MENU_SHORTCUT))
    act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    act.triggered.connect(slot)
    widget.addAction(act)
    return act


def menu_anchor(view: QAbstractItemView, index: QModelIndex) -> QPoint:
    """Where a context menu opened from the keyboard appears: at the row's left, below its text."""
    r = view.visualRect(index)
    return view.viewport().mapToGlobal(QPoint(r.left() + 24, r.center().y()))


Popup = Callable[[QModelIndex, QPoint], None]
"""Builds and shows a view's context menu for a row, at a global position."""


def menu_for_current(view: QAbstractItemView, popup: Popup) -> None:
    """The context menu of the view's current row, under that row (the Menu key, Shift+F10)."""
    idx = view.currentIndex()
    if idx.isValid():
        popup(idx, menu_anchor(view, idx))


def context_menu(view: QAbstractItemView, event: QContextMenuEvent, popup: Popup) -> None:
    """A view's context menu: for the current row from the keyboard, else for the row clicked.

    From the keyboard (the Menu key) the event's position is the current row's in the widget's
    coordinates, not the viewport's: taken as a viewport position it would hit the row below."""
    if event.reason() == QContextMenuEvent.Reason.Keyboard:
        menu_for_current(view, popup)
        return
    popup(view.indexAt(event.pos()), event.globalPos())


NAME_MIN = 200
"""The Name column's least width, in pixels."""


class FileTreePanel(QTreeView):
    """Shows a FileView; tells the window which row is current and what to export."""

    row_selected = Signal(object)  # the Row now current
    export_requested = Signal(str)  # a path
    changes_expanded = Signal(int, bool)  # "Expand all changes" opened so many, and left some closed

    def __init__(self, materialize: Callable[[list[str]], list[Path]], parent: Any = None) -> None:
        super().__init__(parent)
        self.tree_model = FileTreeModel(self)
        self.tree_model.materialize = materialize
        self.can_export = False  # set by the window: an image is loaded
        self.wanted_path = ""  # the path the user selected, kept across views ("" for none)
        self.menu_path: str | None = None  # the path the last context menu was built for
        self.context_menu: QMenu | None = None
        self._open: set[str] = set()  # the expanded folders
        self._open_before_filter: set[str] | None = None
        self._hits: set[str] | None = None  # the filter's hits while one is shown
        self._placing = False  # the selection is being set by the panel, not by the user
        self._work: Iterator[None] | None = None  # folders being opened a slice at a time
        self._work_done: Callable[[], None] | None = None
        self._slices = QTimer(self, singleShot=True, interval=0)
        self._slices.timeout.connect(self._next_slice)
        self.setModel(self.tree_model)
        self.setUniformRowHeights(True)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.selectionModel().currentChanged.connect(self._current_changed)
        self.expanded.connect(lambda idx: self._open.add(self._path(idx)))
        self.collapsed.connect(lambda idx: self._open.discard(self._path(idx)))
        self.tree_model.modelReset.connect(self._open.clear)
        self.tree_model.modelAboutToBeReset.connect(self._stop_work)
        keyboard_menu_shortcut(self, self.open_menu_for_current)
        th = self.header()
        th.setStretchLastSection(False)
        for c, w in ((1, 90), (2, 60), (3, 100), (4, 95), (5, 75)):
            th.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            th.resizeSection(c, w)
        # the names take the room the other columns leave, never less than NAME_MIN (a narrow tree,
        # beside the treemap, scrolls sideways instead of cutting names to "r…")
        th.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        th.sectionResized.connect(lambda c, _old, _new: self._fit_names() if c != 0 else None)
        self.columns = ColumnChooser(th)  # header menu: show/hide columns, remembered

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_names()

    def _fit_names(self) -> None:
        th = self.header()
        others = sum(th.sectionSize(c) for c in range(1, th.count()) if not th.isSectionHidden(c))
        th.resizeSection(0, max(NAME_MIN, self.viewport().width() - others))

    def _path(self, idx: QModelIndex) -> str:
        return str(self.tree_model.data(idx, PATH_ROLE) or "")

    # ---- the user's place -----------------------------------------------------------------------
    def current_path(self) -> str:
        idx = self.currentIndex()
        return self._path(idx) if idx.isValid() else ""

    def expanded_paths(self) -> list[str]:
        """The expanded folders, outermost first (at most MAX_KEPT_EXPANDED)."""
        return sorted(self._open, key=lambda p: (p.count("/"), p))[:MAX_KEPT_EXPANDED]

    def show_view(
        self,
        view: FileView | None,
        path: str | None = None,
        keep_expanded: bool = True,
        opened: Iterable[str] | None = None,
    ) -> Landing:
        """Show ``view``, re-expanding the folders open before (or ``opened``) that it has, and select
        ``path`` (default: the wanted path) or its nearest ancestor in the view."""
        if opened is None:
            opened = self.expanded_paths() if keep_expanded else ()
        keep = set(opened)
        self._hits = None  # the new view's matches follow, if a filter is on
        if not keep_expanded:
            self._open_before_filter = None
        self.tree_model.set_view(view)
        self._reopen(keep, MAX_KEPT_EXPANDED)
        return self.select(self.wanted_path if path is None else path)

    def select(self, path: str) -> Landing:
        """Select ``path`` (opening the folders above it), or its nearest shown ancestor; ``path``
        becomes the wanted path either way."""
        path = path.strip("/")
        idx, shown = QModelIndex(), ""
        for candidate in (path, *ancestors(path)) if path else ():
            idx = self.tree_model.index_for_path(candidate)
            if idx.isValid():
                shown = candidate
                break
        self._placing = True
        try:
            if idx.isValid():
                p = idx.parent()
                while p.isValid():
                    self.expand(p)
                    p = p.parent()
                self.setCurrentIndex(idx)
                self.scrollTo(idx)
            else:
                self.setCurrentIndex(QModelIndex())
                self.scrollToTop()
        finally:
            self._placing = False
        self.wanted_path = path
        return Landing(path, shown)

    def expand_path(self, path: str) -> bool:
        """Expand the tree down to ``path`` and select it; False when it is not in the current view
        (its nearest ancestor is selected then)."""
        landing = self.select(path)
        if landing.exact and landing.shown:
            self.expand(self.currentIndex())
        return landing.exact and bool(landing.shown)

    def _reopen(self, paths: set[str], limit: int) -> int:
        """Expand the folders of ``paths`` whose parents are expanded too, outermost first, at most
        ``limit``; each is found by its path (only the folders above it are loaded, never the
        rest of the image). The number expanded."""
        m = self.tree_model
        opened = {""}
        n = 0
        for p in sorted(paths, key=lambda q: (q.count("/"), q)):
            if n >= limit:
                break
            if parent(p) not in opened:
                continue  # inside a closed folder: stays closed
            idx = m.index_for_path(p)
            if idx.isValid():
                self.expand(idx)
                opened.add(p)
                n += 1
        return n

    def _keeping_place(self, change: Callable[[], None], opened: Iterable[str] | None = None) -> Landing:
        """Run ``change`` (which resets the model), then re-open ``opened`` (default: the folders
        open now) and re-select the wanted path."""
        keep = set(self.expanded_paths() if opened is None else opened)
        change()
        self._reopen(keep, MAX_KEPT_EXPANDED)
        return self.select(self.wanted_path)

    def set_hide_unmodified(self, on: bool) -> Landing | None:
        if on == self.tree_model.hide_unmodified:
            return None
        return self._keeping_place(lambda: self.tree_model.set_hide_unmodified(on))

    # ---- the filter -------------------------------------------------------------------------------
    def show_matches(self, hits: list[str], ancestors_: set[str]) -> list[str]:
        """Only the filter's hits and their folders, expanded; the wanted path stays selected when
        it is a hit, else the first hit is. The hits in the order to step through them."""
        if self._open_before_filter is None:
            self._open_before_filter = set(self.expanded_paths())
        keep = self.wanted_path
        self._hits = set(hits)
        self.tree_model.set_filter(self._hits | ancestors_)
        order = self.matches_in_order() or hits
        if keep and keep in self._hits:
            self.select(keep)
        elif order:
            self.select(order[0])
        else:
            self.select("")
            self.wanted_path = keep
        folders = sorted(ancestors_, key=lambda q: (q.count("/"), q))[:MAX_EXPANDED_MATCH_FOLDERS]
        self._in_slices(self._open_each(folders))  # the selected hit is in sight; the rest follows
        return order

    def _open_each(self, folders: list[str]) -> Iterator[None]:
        """Open ``folders`` (outermost first) one step at a time."""
        for p in folders:
            idx = self.tree_model.index_for_path(p)
            if idx.isValid():
                self.expand(idx)
            yield

    def matches_in_order(self, limit: int = MAX_ORDERED_MATCH_ROWS) -> list[str] | None:
        """The filter's hits top to bottom as the tree sorts them; None without a filter, or when the
        filtered tree has more than ``limit`` rows."""
        hits, m = self._hits, self.tree_model
        if hits is None:
            return None
        out: list[str] = []
        budget = [limit]

        def visit(parent: QModelIndex) -> bool:
            if m.canFetchMore(parent):
                m.fetchMore(parent)
            for r in range(m.rowCount(parent)):
                budget[0] -= 1
                if budget[0] < 0:
                    return False
                idx = m.index(r, 0, parent)
                if self._path(idx) in hits:
                    out.append(self._path(idx))
                if m.hasChildren(idx) and not visit(idx):
                    return False
            return True

        return out if visit(QModelIndex()) else None

    def clear_matches(self) -> None:
        """Back to the whole view: the folders open before the filter, and the wanted path."""
        if self._open_before_filter is None:
            return
        before = self._open_before_filter
        self._open_before_filter = self._hits = None
        self._keeping_place(lambda: self.tree_model.set_filter(None), before)

    # ---- expand all changes ------------------------------------------------------------------------
    def expand_all_changes(self, limit: int = MAX_EXPANDED_CHANGES) -> None:
        """Expand every folder of the view (in a layer's own changes, each holds changes), outermost
        first, at most ``limit``, in slices between which the window answers; ``changes_expanded``
        then says how many and whether more were left closed."""
        counted = [0, False]

        def work() -> Iterator[None]:
            m = self.tree_model
            queue: deque[QPersistentModelIndex] = deque([QPersistentModelIndex()])
            while queue:
                folder = queue.popleft()
                if m.canFetchMore(folder):
                    m.fetchMore(folder)
                for r in range(m.rowCount(folder)):
                    idx = m.index(r, 0, folder)
                    if not m.hasChildren(idx):
                        continue
                    if counted[0] >= limit:
                        counted[1] = True
                        return
                    self.expand(idx)
                    queue.append(QPersistentModelIndex(idx))
                    counted[0] += 1
                    yield

        self._in_slices(work(), lambda: self.changes_expanded.emit(counted[0], counted[1]))

    # ---- long work in slices ---------------------------------------------------------------------------
    @property
    def expanding(self) -> bool:
        """Folders are still being opened, a slice at a time."""
        return self._work is not None

    def _in_slices(self, work: Iterator[None], done: Callable[[], None] | None = None) -> None:
        """Run ``work`` (each step one folder opened) for EXPAND_SLICE_S at a time, letting the event
        loop run in between; a model reset stops it."""
        self._stop_work()
        self._work, self._work_done = work, done
        self._next_slice()

    def _next_slice(self) -> None:
        work = self._work
        if work is None:
            return
        end = time.perf_counter() + EXPAND_SLICE_S
        try:
            next(work)  # at least one step a slice
            while time.perf_counter() < end:
                next(work)
        except StopIteration:
            done = self._work_done
            self._stop_work()
            if done is not None:
                done()
            return
        self._slices.start()

    def _stop_work(self) -> None:
        self._work = self._work_done = None
        self._slices.stop()

    # ---- the selection and the context menu ---------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _prev: QModelIndex) -> None:
        row = self.tree_model.data(current, ROW_ROLE) if current.isValid() else None
        if row is None:
            return
        if not self._placing:
            self.wanted_path = row.path
        self.row_selected.emit(row)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        context_menu(self, event, self._popup_menu)

    def open_menu_for_current(self) -> None:
        menu_for_current(self, self._popup_menu)

    def _popup_menu(self, idx: QModelIndex, where: QPoint) -> None:
        if not idx.isValid() or not self.can_export:
            return
        path = self._path(idx.siblingAtColumn(0))
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Copy path", lambda: QApplication.clipboard().setText("/" + path))
        menu.addAction(f"Export /{path}…", lambda: self.export_requested.emit(path))
        self.menu_path, self.context_menu = path, menu
        menu.popup(where)
