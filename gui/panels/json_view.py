"""JSON viewers for the manifest, the index and the config: a collapsible tree and the raw text.

The tree is a QAbstractItemModel over the parsed document (key, value, type). Values that are digests
of this archive's blobs are shown as links: activating one selects that layer or opens that blob.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable
from typing import Any, overload

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontDatabase,
    QKeySequence,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.digest import is_content_digest
from layerscope.core.display import exact_size, plural
from layerscope.core.errors import LayerScopeError
from layerscope.core.session import LoadedImage

from ..cells import CellData
from ..theme import set_style_sheet
from ..worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PATH_ROLE = Qt.ItemDataRole.UserRole + 10
VALUE_ROLE = Qt.ItemDataRole.UserRole + 11


def jq_path(parts: list[str | int]) -> str:
    """``['config', 'Env', 0]`` -> ``.config.Env[0]``; odd keys are quoted: ``.a["b.c"]``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _IDENT.match(p):
            out += f".{p}"
        else:
            out += "[" + json.dumps(p) + "]"
    return out or "."


class _Node:
    __slots__ = ("children", "key", "parent", "path", "row", "value")

    def __init__(self, key: str | int | None, value: Any, parent: _Node | None, row: int) -> None:
        self.key = key
        self.value = value
        self.parent = parent
        self.row = row
        self.path: list[str | int] = [*parent.path, key] if parent is not None and key is not None else []
        self.children: list[_Node] | None = None

    def kids(self) -> list[_Node]:
        if self.children is None:
            v = self.value
            if isinstance(v, dict):
                self.children = [_Node(k, x, self, i) for i, (k, x) in enumerate(v.items())]
            elif isinstance(v, list):
                self.children = [_Node(i, x, self, i) for i, x in enumerate(v)]
            else:
                self.children = []
        return self.children


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(v), type(v).__name__)


def _cell(n: _Node, col: int) -> str:
    """A cell's text: the key, the value (a count for an object or array) or the type."""
    v = n.value
    if col == 0:
        return str(n.key) if not isinstance(n.key, int) else f"[{n.key}]"
    if col == 1:
        if isinstance(v, dict):
            return "{" + plural(len(v), "key") + "}"
        if isinstance(v, list):
            return "[" + plural(len(v), "item") + "]"
        return json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    return _type_name(v)


class JsonTreeModel(CellData, QAbstractItemModel):
    COLUMNS = ("Key", "Value", "Type")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._root = _Node(None, None, None, 0)
        self.is_link: Callable[[str], bool] = lambda _v: False

    def set_document(self, doc: Any) -> None:
        self.beginResetModel()
        self._root = _Node(None, doc, None, 0)
        self.endResetModel()

    def _node(self, index: _Index) -> _Node:
        if not index.isValid():
            return self._root
        n = index.internalPointer()
        assert isinstance(n, _Node)
        return n

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if row < 0 or column < 0 or column >= 3:
            return QModelIndex()
        kids = self._node(parent).kids()
        if row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    # QObject.parent() and QAbstractItemModel.parent(child) share the name: keep both meanings
    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, index: _Index) -> QModelIndex: ...
    def parent(self, index: _Index | None = None) -> QObject | QModelIndex | None:
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        p = self._node(index).parent
        if p is None or p is self._root:
            return QModelIndex()
        return self.createIndex(p.row, 0, p)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).kids())

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 3

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid():
            return None
        n = self._node(index)
        v = n.value
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(n, col)
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole value, where the column cuts it
            return f"{jq_path(n.path)} ({_type_name(v)})\n{_cell(n, 1)[:2000]}"
        if role == PATH_ROLE:
            return jq_path(n.path)
        if role == VALUE_ROLE:
            return v
        if col == 1 and isinstance(v, str) and self.is_link(v):
            if role == Qt.ItemDataRole.ForegroundRole:
                return QApplication.palette().color(QPalette.ColorRole.Link)
            if role == Qt.ItemDataRole.FontRole:
                f = QFont()
                f.setUnderline(True)
                return f
        return None


class JsonHighlighter(QSyntaxHighlighter):
    """Keys, strings, numbers and literals in colours that suit the current palette."""

    def __init__(self, doc: QTextDocument) -> None:
        super().__init__(doc)
        dark = QApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128

        def fmt(light: str, darkc: str) -> QTextCharFormat:
            f = QTextCharFormat()
            from PySide6.QtGui import QColor

            f.setForeground(QColor(darkc if dark else light))
            return f

        # later rules win: numbers and literals first, then strings (so digits inside strings stay strings)
        self.rules = [
            (QRegularExpression(r"\b-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b"), fmt("#953800", "#ffa657")),
            (QRegularExpression(r"\b(?:true|false|null)\b"), fmt("#8250df", "#d2a8ff")),
            (QRegularExpression(r':\s*"(?:[^"\\]|\\.)*"'), fmt("#0a3069", "#a5d6ff")),
            (QRegularExpression(r'^\s*"(?:[^"\\]|\\.)*"(?=\s*[,\]]?\s*$)'), fmt("#0a3069", "#a5d6ff")),
            (QRegularExpression(r'"(?:[^"\\]|\\.)*"(?=\s*:)'), fmt("#0550ae", "#79c0ff")),
        ]

    def highlightBlock(self, text: str) -> None:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        for rx, f in self.rules:
            it = rx.globalMatch(text)
            while it.hasNext():
                m = it.next()
                start, length = m.capturedStart(), m.capturedLength()
                if text[start : start + 1] == ":":  # string values: colour only the string
                    q = text.find('"', start)
                    length -= q - start
                    start = q
                self.setFormat(start, length, f)


class JsonPanel(QWidget):
    """Tree and raw text side by side, with find, copy value and copy key path."""

    link_activated = Signal(str)  # a digest value was activated

    def __init__(self, title: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.title = title
        self.model = JsonTreeModel(self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.activated.connect(self._activated)
        header = self.tree.header()
        header.setStretchLastSection(False)  # the Value column takes the room, not Type
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(0, 220)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = JsonHighlighter(self.raw.document())
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText(f"Find in {title}")
        self.find_edit.returnPressed.connect(self.find_next)
        self.find_edit.setClearButtonEnabled(True)
        self.note = QLabel("")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(self.raw)
        split.setSizes([500, 500])
        top = QHBoxLayout()
        top.addWidget(self.find_edit, 1)
        top.addWidget(self.note)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        for text, key, slot in (("Copy value", QKeySequence.StandardKey.Copy, self.copy_value),):
            act = QAction(text, self.tree)
            act.setShortcut(key)
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(slot)
            self.tree.addAction(act)

    def clear(self, note: str = "") -> None:
        """No document (no image, or one being read): ``note`` says why."""
        self.model.is_link = lambda _v: False
        self.model.set_document(None)
        self.raw.setPlainText("")
        self.note.setText(note)

    def set_document(self, raw: bytes | None, is_link: Callable[[str], bool] | None = None) -> None:
        from layerscope.core.audit.history import redacted_command, redacted_document  # not at start-up

        if raw is None:
            self.clear(f"this image has no {self.title}")
            return
        # replaced first: the old one holds the previous image's archive
        self.model.is_link = is_link or (lambda _v: False)
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            self.model.set_document(None)
            self.raw.setPlainText(redacted_command(raw.decode("utf-8", "replace")))
            self.note.setText(f"not valid JSON: {exc}")
            return
        # secret values are never shown in full (the audit's redacted form), here neither
        doc, hidden = redacted_document(doc)
        self.model.set_document(doc)
        self.raw.setPlainText(json.dumps(doc, indent=2, ensure_ascii=False))
        said = f" · {plural(hidden, 'secret value')} shown redacted (see Findings)" if hidden else ""
        self.note.setText(exact_size(len(raw)) + said)
        self.tree.expandToDepth(0)
        self.tree.resizeColumnToContents(0)
        if self.tree.columnWidth(0) > 320:  # a long key: the values keep the room
            self.tree.setColumnWidth(0, 320)

    def current_path(self) -> str | None:
        idx = self.tree.currentIndex()
        return self.model.data(idx, PATH_ROLE) if idx.isValid() else None

    def copy_key_path(self) -> None:
        p = self.current_path()
        if p is not None:
            QApplication.clipboard().setText(p)

    def copy_value(self) -> None:
        idx = self.tree.currentIndex()
        if not idx.isValid():
            return
        v = self.model.data(idx, VALUE_ROLE)
        QApplication.clipboard().setText(
            v if isinstance(v, str) else json.dumps(v, indent=2, ensure_ascii=False)
        )

    def find_next(self) -> bool:
        """Find the search text in the raw view (wrapping) and select the matching tree row."""
        text = self.find_edit.text()
        if not text:
            return False
        found = self.raw.find(text)
        if not found:
            self.raw.moveCursor(QTextCursor.MoveOperation.Start)
            found = self.raw.find(text)
        set_style_sheet(self.find_edit, "" if found else "QLineEdit { color: #cf222e; }")
        if found:
            self._select_in_tree(text)
        return found

    def _select_in_tree(self, text: str) -> None:
        low = text.lower()

        def walk(parent: QModelIndex) -> QModelIndex | None:
            for r in range(self.model.rowCount(parent)):
                k = self.model.index(r, 0, parent)
                v = self.model.index(r, 1, parent)
                if low in str(k.data()).lower() or low in str(v.data()).lower():
                    return k
                hit = walk(k)
                if hit is not None:
                    return hit
            return None

        hit = walk(QModelIndex())
        if hit is not None:
            self.tree.setCurrentIndex(hit)
            self.tree.scrollTo(hit)

    def _activated(self, index: QModelIndex) -> None:
        v = self.model.data(index, VALUE_ROLE)
        if isinstance(v, str) and self.model.is_link(v):
            self.link_activated.emit(v)

    def _menu(self, pos: Any) -> None:
        idx = self.tree.indexAt(pos)
        if not idx.isValid():
            return
        self.tree.setCurrentIndex(idx)
        menu = QMenu(self)
        menu.addAction("Copy value", self.copy_value)
        menu.addAction(f"Copy key path ({self.current_path()})", self.copy_key_path)
        v = self.model.data(idx, VALUE_ROLE)
        if isinstance(v, str) and self.model.is_link(v):
            menu.addAction("Go to this blob", lambda: self.link_activated.emit(v))
        menu.exec(self.tree.viewport().mapToGlobal(pos))


DOCUMENT_LIMIT = 16 << 20
"""The largest JSON document (manifest.json, a blob) read to show it."""


class ImageDocuments(QObject):
    """The Manifest, Index and Config tabs of one image; digests of its layers and blobs are links."""

    link_activated = Signal(str)  # a digest that is neither a layer's nor shown here: see open_blob
    shown = Signal()  # the documents of the image ``show_image`` was given are in the tabs

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panels = {name: JsonPanel(name) for name in ("manifest", "index", "config")}
        for panel in self.panels.values():
            panel.link_activated.connect(self.link_activated)
        self.layer_digests: dict[str, int] = {}
        self._tabs: QTabWidget | None = None
        self._pending: Callable[[], LoadedImage | None] | None = None  # a weak reference

    def add_to(self, tabs: QTabWidget) -> None:
        for name, panel in self.panels.items():
            tabs.addTab(panel, name.capitalize())
        self._tabs = tabs

    def clear(self, note: str = "") -> None:
        """No image's documents (none shown, or one being read: ``note``)."""
        self._pending = None
        for panel in self.panels.values():
            panel.clear(note)

    def show_image(self, s: LoadedImage) -> None:
        """The documents of ``s``, in the tabs on the event loop's next turn (``shown``): the end of a
        load is one step of the GUI thread, the panels' filling among them, and the window's layout
        and paint follow it; each turn less long is a shorter freeze."""
        im = s.image
        digests = {d.digest: d.index for d in im.layers if d.digest}
        digests.update({d.diff_id: d.index for d in im.layers if d.diff_id})
        self.layer_digests = digests
        self._pending = weakref.ref(s)
        QTimer.singleShot(0, self._fill)

    def _fill(self) -> None:
        s = self._pending() if self._pending is not None else None
        self._pending = None
        if s is None:  # cleared, or another image's documents were filled already
            return
        im = s.image
        digests = self.layer_digests
        container = s.archive.container

        def is_link(v: str) -> bool:
            if v in digests:
                return True
            if not is_content_digest(v):
                return False
            alg, _, hexd = v.partition(":")
            return container.exists(f"blobs/{alg}/{hexd}")

        manifest = im.manifest_raw
        if manifest is None and container.exists("manifest.json"):  # a docker save: its own manifest.json
            try:
                manifest = container.blob("manifest.json").read_all(limit=DOCUMENT_LIMIT)
            except LayerScopeError:
                manifest = None
        self.panels["manifest"].set_document(manifest, is_link)
        self.panels["index"].set_document(im.index_raw, is_link)
        self.panels["config"].set_document(im.config_raw, is_link)
        tabs = self._tabs
        if tabs is not None:
            tabs.setTabEnabled(tabs.indexOf(self.panels["manifest"]), manifest is not None)
            tabs.setTabEnabled(tabs.indexOf(self.panels["index"]), im.index_raw is not None)
        self.shown.emit()

    def open_blob(self, parent: QWidget, s: LoadedImage, digest: str) -> str | None:
        """Show the blob ``digest`` of the archive in a window; the error message when it cannot be read."""
        alg, _, hexd = digest.partition(":")
        try:
            raw = s.archive.container.blob(f"blobs/{alg}/{hexd}").read_all(limit=DOCUMENT_LIMIT)
        except LayerScopeError as exc:
            return str(exc)
        dlg = QDialog(parent)
        dlg.setWindowTitle(digest[:19])
        dlg.resize(900, 600)
        panel = JsonPanel(digest[:19], dlg)
        panel.set_document(raw)
        panel.link_activated.connect(self.link_activated)
        QVBoxLayout(dlg).addWidget(panel)
        dlg.show()
        return None
