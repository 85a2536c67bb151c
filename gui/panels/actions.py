"""The window's commands: the File, View and Help menus, the toolbar, and every shortcut.

Commands are signals: the window connects them to the controller. ``show_*`` methods set the
widgets to what the controller says, without echoing it back as a new command. Every command with
a key is a QAction (here or in a panel); the Keyboard shortcuts dialog and the tooltips are made
from those actions, so the list cannot drift from the keys that work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from importlib import metadata

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive.records import Archive, ImageRecord

from .. import settings, theme
from ..controller import Controller
from ..icons import action_icon

FILTER_DELAY_MS = 250
"""Typing pauses this long before the filter runs."""
_BASE_TIP = "layerscope_base_tooltip"
"""Action property: its tooltip without the keys (so labelling twice does not repeat them)."""


def _action(
    text: str,
    parent: QObject,
    slot: Callable[[], object] | None = None,
    shortcut: QKeySequence.StandardKey | str | None = None,
    icon: str | None = None,
    tip: str | None = None,
) -> QAction:
    """An action: ``text`` with an optional shortcut, icon (gui/icons.py) and tooltip, running ``slot``."""
    act = QAction(text, parent)
    if shortcut is not None:
        act.setShortcut(shortcut)
    if icon is not None:
        act.setIcon(action_icon(icon))
        act.setProperty("layerscope_icon", icon)
    if tip is not None:
        act.setToolTip(tip)
    if slot is not None:
        act.triggered.connect(slot)
    return act


def keys_text(seqs: list[QKeySequence]) -> str:
    """``Ctrl+O, Ctrl+Shift+O``: a command's keys as the desktop writes them."""
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs if not s.isEmpty())


def label_shortcut(act: QAction) -> None:
    """Show ``act``'s keys in its tooltip: ``Open an archive (Ctrl+O)`` (unless it names them)."""
    base = act.property(_BASE_TIP)
    if not isinstance(base, str):
        base = act.toolTip() or act.text().replace("&", "")
        act.setProperty(_BASE_TIP, base)
    seqs = [s for s in act.shortcuts() if not s.isEmpty()]
    named = any(f"({s.toString(QKeySequence.SequenceFormat.NativeText)}" in base for s in seqs)
    act.setToolTip(f"{base} ({keys_text(seqs)})" if seqs and not named else base)


def _words(class_name: str) -> str:
    """``FileTreePanel`` -> ``File tree``."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", class_name).removesuffix(" Panel")
    return words[:1] + words[1:].lower()


def _where(widgets: list[QObject], window: QWidget) -> str:
    """Where a shortcut works: the whole window, or the panel it belongs to (its accessible name,
    else the name of LayerScope's widget class that holds it)."""
    for w in widgets:
        if not isinstance(w, QWidget) or isinstance(w, (QMenu, QToolBar, QToolButton)):
            continue
        x: QWidget | None = w
        while x is not None and x is not window:
            if x.accessibleName():
                return x.accessibleName()
            if type(x).__module__.startswith("layerscope."):
                return _words(type(x).__name__)
            x = x.parentWidget()
    return "Window"


def shortcut_table(window: QWidget) -> list[tuple[str, str, str]]:
    """Every key the window answers to: (command, keys, where), from its QActions and QShortcuts."""
    rows: set[tuple[str, str, str]] = set()
    for act in window.findChildren(QAction):
        keys = keys_text(act.shortcuts())
        if keys:
            name = act.text().replace("&", "").rstrip("…") or act.toolTip()
            context = act.shortcutContext()
            where = "Window" if context == Qt.ShortcutContext.WindowShortcut else ""
            rows.add((name, keys, where or _where(act.associatedObjects(), window)))
    for sc in window.findChildren(QShortcut):
        keys = keys_text(sc.keys())
        if keys:
            parent = sc.parent()
            where = _where([parent], window) if parent is not None else "Window"
            rows.add((sc.whatsThis() or sc.objectName() or "(unnamed)", keys, where))
    return sorted(rows, key=lambda r: (r[2] != "Window", r[2], r[0].lower()))


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard shortcuts: the table ``shortcut_table`` makes for the window."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts — LayerScope")
        rows = shortcut_table(window)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Command", "Keys", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(560, 480)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row."""
        out = []
        for r in range(self.table.rowCount()):
            cells = [self.table.item(r, c) for c in range(3)]
            name, keys, where = (c.text() if c is not None else "" for c in cells)
            out.append((name, keys, where))
        return out


def _version() -> str:
    try:
        return metadata.version("layerscope")
    except metadata.PackageNotFoundError:
        return "(not installed)"


class Actions(QObject):
    open_file = Signal()
    open_folder = Signal()
    open_recent = Signal(str)
    open_registry = Signal()
    open_engine = Signal(str)  # a SourceKind word: docker-daemon or podman
    open_sample = Signal()
    compare_requested = Signal()  # File > Compare With… (gui/compare/)
    export_merged = Signal()
    image_chosen = Signal(int)  # the image's number in the archive
    filter_edited = Signal(str, bool)  # text, regex
    mode_chosen = Signal(bool)  # True: the layer's own changes; False: merged
    hide_unmodified_toggled = Signal(bool)
    legend_toggled = Signal(bool)
    focus_timeline = Signal()
    focus_tree = Signal()

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._showing = False  # show_mode sets the actions: not a command
        self._build_actions(window)
        self._build_menus(window)
        self._build_toolbar(window.addToolBar("Main"))
        for act in self.all_actions:
            window.addAction(act)  # the keys work wherever the focus is in the window
        self.set_enabled(False)
        window.installEventFilter(self)
        # after the window has added its panels, whose actions have keys of their own
        QTimer.singleShot(0, self.label_shortcuts)

    # ---- building ------------------------------------------------------------------------------
    def _build_actions(self, window: QMainWindow) -> None:
        a, SK = _action, QKeySequence.StandardKey
        self.open_action = a("&Open…", self, self.open_file.emit, SK.Open, "open", "Open an image archive")
        self.open_folder_action = a(
            "Open &Folder (OCI layout)…", self, self.open_folder.emit, None, "open-folder"
        )
        self.registry_action = a(
            "Open from a &Registry…",
            self,
            self.open_registry.emit,
            "Ctrl+Shift+O",
            "open",
            "Open an image in a registry (docker.io, ghcr.io, your own) without a Docker engine",
        )
        self.docker_action = a(
            "Open from &Docker…",
            self,
            lambda: self.open_engine.emit("docker-daemon"),
            None,
            None,
            "Open an image of the local Docker engine",
        )
        self.podman_action = a(
            "Open from &Podman…",
            self,
            lambda: self.open_engine.emit("podman"),
            None,
            None,
            "Open an image of the local Podman store",
        )
        self.sample_action = a("Open the &Sample Image", self, self.open_sample.emit, None, "sample")
        self.compare_action = a(
            "Compare &With…", self, self.compare_requested.emit, None, None, "Compare this image with another"
        )
        self.export_merged_action = a(
            "&Export Merged Filesystem…", self, self.export_merged.emit, None, "export"
        )
        self.close_action = a("&Close Window", self, window.close, None, "close")
        self.quit_action = a("&Quit", self, QApplication.closeAllWindows, None, "quit")
        for act, sk, key in ((self.close_action, SK.Close, "Ctrl+W"), (self.quit_action, SK.Quit, "Ctrl+Q")):
            # the desktop's keys, and the usual ones where it has none (plain X11 gives Ctrl+F4 only)
            keys = QKeySequence.keyBindings(sk)
            act.setShortcuts([*keys, *([] if QKeySequence(key) in keys else [QKeySequence(key)])])

        self.merged_action = a("&Merged", self, None, None, "merged")
        self.merged_action.setToolTip(
            "Show the filesystem as it is up to and including the selected layer (Ctrl+M switches)"
        )
        self.layer_action = a("&Layer changes", self, None, None, "layer-changes")
        self.layer_action.setToolTip(
            "Show only what the selected layer added, changed and removed (Ctrl+M switches)"
        )
        self._mode_group = QActionGroup(self)
        for act in (self.merged_action, self.layer_action):
            act.setCheckable(True)
            self._mode_group.addAction(act)
        self.merged_action.setChecked(True)
        self.layer_action.toggled.connect(self._mode_toggled)
        self.toggle_mode_action = a("&Switch Merged / Layer Changes", self, self._toggle_mode, "Ctrl+M")
        self.hide_action = a("&Hide Unmodified", self, None, "Ctrl+H", "hide-unmodified")
        self.hide_action.setToolTip("Show only what the selected layer changed, and the folders above it")
        self.hide_action.setCheckable(True)
        self.hide_action.toggled.connect(
            lambda on: None if self._showing else self.hide_unmodified_toggled.emit(on)
        )
        self.find_action = a("&Filter Paths…", self, self._focus_filter, SK.Find)
        self.focus_timeline_action = a("Go to the &Layers", self, self.focus_timeline.emit, "Ctrl+1")
        self.focus_tree_action = a("Go to the F&iles", self, self.focus_tree.emit, "Ctrl+2")
        self.legend_action = a("Show the Le&gend", self, None, None, "legend")
        self.legend_action.setToolTip("Layer colours and change marks, under the file tree")
        self.legend_action.setCheckable(True)
        self.legend_action.setChecked(settings.LEGEND_VISIBLE.get())
        self.legend_action.toggled.connect(self._legend_toggled)
        self._theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for choice, label in (("system", "Follow the &System"), ("light", "&Light"), ("dark", "&Dark")):
            act = a(label, self)
            act.setCheckable(True)
            act.triggered.connect(partial(self._choose_theme, choice))
            self._theme_group.addAction(act)
            self.theme_actions[choice] = act
        self.theme_actions[theme.current()].setChecked(True)
        self.shortcuts_action = a("&Keyboard Shortcuts", self, self.show_shortcuts, SK.HelpContents, "help")
        self.about_action = a("&About LayerScope", self, self.show_about, None, "about")
        self.all_actions = [
            self.open_action,
            self.registry_action,
            self.close_action,
            self.quit_action,
            self.toggle_mode_action,
            self.hide_action,
            self.find_action,
            self.focus_timeline_action,
            self.focus_tree_action,
            self.shortcuts_action,
        ]

    def _build_menus(self, window: QMainWindow) -> None:
        bar = window.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.open_action)
        m.addAction(self.open_folder_action)
        m.addAction(self.registry_action)
        m.addAction(self.docker_action)
        m.addAction(self.podman_action)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self.fill_recent)
        m.addMenu(self.recent_menu)
        m.addAction(self.sample_action)
        m.addAction(self.compare_action)
        m.addSeparator()
        m.addAction(self.export_merged_action)
        m.addSeparator()
        m.addAction(self.close_action)
        m.addAction(self.quit_action)
        self.view_menu = v = bar.addMenu("&View")
        v.addAction(self.merged_action)
        v.addAction(self.layer_action)
        v.addAction(self.toggle_mode_action)
        v.addAction(self.hide_action)
        v.addSeparator()
        v.addAction(self.find_action)
        v.addAction(self.focus_timeline_action)
        v.addAction(self.focus_tree_action)
        v.addSeparator()
        v.addAction(self.legend_action)
        self.theme_menu = v.addMenu("&Theme")
        self.theme_menu.setIcon(action_icon("theme"))
        for act in self.theme_actions.values():
            self.theme_menu.addAction(act)
        self.theme_menu.aboutToShow.connect(lambda: self.theme_actions[theme.current()].setChecked(True))
        self.help_menu = h = bar.addMenu("&Help")
        h.addAction(self.shortcuts_action)
        h.addAction(self.about_action)

    def _build_toolbar(self, tb: QToolBar) -> None:
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.open_action)
        tb.addSeparator()
        self.image_combo = QComboBox()
        self.image_combo.setMinimumContentsLength(24)
        self.image_combo.setToolTip("Image / platform in this archive")
        self.image_combo.activated.connect(self._image_activated)
        tb.addWidget(self.image_combo)
        tb.addSeparator()
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._filter_now)
        self.search = QLineEdit()
        keys = keys_text(self.find_action.shortcuts())
        self.search.setPlaceholderText(f"Filter paths ({keys})")
        self.search.setToolTip(f"Show only the paths that contain this text, or match it as a regex ({keys})")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter box")
        self.search.setMinimumWidth(240)
        self.search.textChanged.connect(lambda _t: self._filter_timer.start())
        escape = QAction("Clear the Filter", self.search)  # Escape in the filter box empties it
        escape.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        escape.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        escape.triggered.connect(self.clear_filter_now)
        self.search.addAction(escape)
        tb.addWidget(self.search)
        self.regex = QCheckBox("regex")
        self.regex.setToolTip("Read the filter as a Python regular expression, matched against /path")
        self.regex.toggled.connect(lambda _c: self._filter_timer.start())
        tb.addWidget(self.regex)
        tb.addSeparator()
        self.mode_layer, self.mode_merged, self.hide_unmodified = (
            self._tool_button(tb, act) for act in (self.layer_action, self.merged_action, self.hide_action)
        )

    @staticmethod
    def _tool_button(tb: QToolBar, act: QAction) -> QToolButton:
        """A toolbar button that is ``act`` (checking one checks the other)."""
        b = QToolButton()
        b.setDefaultAction(act)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        b.setAutoRaise(True)
        tb.addWidget(b)
        return b

    def connect_to(self, c: Controller) -> None:
        """The commands that change what is shown go to the controller; its state comes back here."""
        self.image_chosen.connect(c.load_image)
        self.filter_edited.connect(c.set_filter)
        self.mode_chosen.connect(c.set_own_changes)
        self.hide_unmodified_toggled.connect(c.set_hide_unmodified)
        c.mode_changed.connect(self.show_mode)
        c.hide_unmodified_changed.connect(self.show_hide_unmodified)
        c.filter_cleared.connect(self.clear_filter)
        c.filter_invalid.connect(lambda _why: self.show_filter_valid(False))

    # ---- keys, icons, help ----------------------------------------------------------------------
    def label_shortcuts(self) -> None:
        """Every action of the window, panels' included, shows its keys in its tooltip."""
        for act in self._window.findChildren(QAction):
            if act.shortcuts() or act.property(_BASE_TIP) is not None:
                label_shortcut(act)

    def _refresh_icons(self) -> None:
        """Drawn icons take the palette's ink: redraw them after a theme change."""
        for act in self._window.findChildren(QAction):
            name = act.property("layerscope_icon")
            if isinstance(name, str):
                act.setIcon(action_icon(name))
        self.theme_menu.setIcon(action_icon("theme"))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._window and event.type() == QEvent.Type.PaletteChange:
            self._refresh_icons()
            self.show_filter_valid(self.search.property("layerscope_valid") is not False)
        return False

    def show_shortcuts(self) -> ShortcutsDialog:
        dlg = ShortcutsDialog(self._window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return dlg

    def show_about(self) -> None:
        QMessageBox.about(
            self._window,
            "About LayerScope",
            f"<b>LayerScope</b> {_version()}<br>Explore container image archives layer by layer: "
            "what each layer added, changed and removed, and what it wasted.",
        )

    # ---- commands ----------------------------------------------------------------------------
    def fill_recent(self) -> None:
        self.recent_menu.clear()
        files = settings.recent_files()
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
            return
        for f in files:
            act = self.recent_menu.addAction(f)
            act.triggered.connect(lambda _c=False, p=f: self.open_recent.emit(p))

    def _toggle_mode(self) -> None:
        if self.layer_action.isEnabled():
            (self.layer_action if self.merged_action.isChecked() else self.merged_action).trigger()

    def _focus_filter(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _hide_toggled(self, on: bool) -> None:
        if not self._showing:
            self.hide_unmodified_toggled.emit(on)

    @staticmethod
    def _choose_theme(choice: str, _checked: bool = False) -> None:
        theme.choose(choice)

    def _legend_toggled(self, on: bool) -> None:
        settings.LEGEND_VISIBLE.set(on)
        self.legend_toggled.emit(on)

    def _image_activated(self, row: int) -> None:
        if row >= 0:
            self.image_chosen.emit(int(self.image_combo.itemData(row)))

    def clear_filter_now(self) -> None:
        """Escape: no filter any more, at once (not after the typing pause)."""
        self.search.clear()
        self._filter_timer.stop()
        self.filter_edited.emit("", self.regex.isChecked())

    def add_go_menu(self, actions: list[QAction]) -> QMenu:
        """The Go menu, before Help: the explorer's Back, Forward, next/previous match, expand."""
        self.go_menu = QMenu("&Go", self._window)
        self.go_menu.addActions(actions)
        self._window.menuBar().insertMenu(self.help_menu.menuAction(), self.go_menu)
        return self.go_menu

    def _filter_now(self) -> None:
        self.filter_edited.emit(self.search.text(), self.regex.isChecked())

    def _mode_toggled(self, own: bool) -> None:
        if not self._showing:  # the group toggles one action off and the other on: one command
            self.mode_chosen.emit(own)

    # ---- showing the controller's state --------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        for w in (self.search, self.regex):
            w.setEnabled(on)
        for act in (
            self.merged_action,
            self.layer_action,
            self.toggle_mode_action,
            self.hide_action,
            self.find_action,
            self.export_merged_action,
            self.compare_action,
        ):
            act.setEnabled(on)
        self.image_combo.setEnabled(on and self.image_combo.count() > 1)
        if on:  # panels may have made actions for the image just shown
            self.label_shortcuts()

    def show_images(self, archive: Archive, current: int) -> None:
        self.image_combo.clear()
        for i, im in enumerate(archive.images):
            self.image_combo.addItem(f"#{i} {im.describe()}", i)
        self.image_combo.setCurrentIndex(self.image_combo.findData(current))

    def show_reading(self, image: ImageRecord) -> None:
        """The image being read (the only one named until it is shown: ``show_images`` then)."""
        self.image_combo.clear()
        self.image_combo.addItem(image.describe(), None)

    def show_mode(self, own: bool) -> None:
        self._showing = True
        try:
            (self.layer_action if own else self.merged_action).setChecked(True)
        finally:
            self._showing = False

    def show_hide_unmodified(self, on: bool) -> None:
        self._showing = True
        try:
            self.hide_action.setChecked(on)
        finally:
            self._showing = False

    def clear_filter(self) -> None:
        """Empty the filter box (without running the filter again)."""
        self._filter_timer.stop()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.show_filter_valid(True)

    def show_filter_valid(self, valid: bool) -> None:
        self.search.setProperty("layerscope_valid", valid)
        if valid:
            theme.set_style_sheet(self.search, "")
            return
        dark = self.search.palette().color(self.search.backgroundRole()).lightness() < 128
        bg, fg = ("#5a1d1d", "#ffdcd7") if dark else ("#ffebe9", "#82071e")
        theme.set_style_sheet(self.search, f"QLineEdit {{ background: {bg}; color: {fg}; }}")
