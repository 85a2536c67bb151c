"""The File tab: attributes, the path's history through the layers, and a preview.

The panel renders; the preview itself is read by the controller (gui/controller.py) and handed to
``show_preview``."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication, QPixmap
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.display import exact_size, mode_string, plural, readable_command, redact_secrets
from layerscope.core.entry import Entry
from layerscope.core.errors import LayerScopeError
from layerscope.core.kinds import EntryType
from layerscope.core.preview import Preview
from layerscope.core.session import LoadedImage
from layerscope.core.views import Row

from ..content import content_source, write_copy
from ..scratch import scratch_folder
from ..theme import set_style_sheet


class FilePanel(QWidget):
    layer_requested = Signal(int)
    path_requested = Signal(str)  # jump to a link target
    failed = Signal(str)  # "Open with default application" could not open the file: why

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.session: LoadedImage | None = None
        self.row: Row | None = None
        self.info = QLabel("Select a file in the tree.")
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setWordWrap(True)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.info.linkActivated.connect(self._link)
        self.history = QListWidget()
        self.history.itemActivated.connect(self._history_item)
        self.history.itemClicked.connect(self._history_item)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.info)
        ll.addWidget(QLabel("<b>History</b> (click to select the layer)"))
        ll.addWidget(self.history, 1)

        self.preview_note = QLabel("")
        self.open_button = QPushButton("Open with default application")
        self.open_button.clicked.connect(self.open_externally)
        self.open_button.setEnabled(False)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.image)
        scroll.setWidgetResizable(True)
        self.svg = QSvgWidget()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.text)  # 0
        self.stack.addWidget(scroll)  # 1
        self.stack.addWidget(self.svg)  # 2
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.preview_note, 1)
        top.addWidget(self.open_button)
        rl.addLayout(top)
        rl.addWidget(self.stack, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([380, 700])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget()  # the row's details; or, while no row is, the overview
        self.pages.addWidget(split)
        self._overview: QWidget | None = None
        lay.addWidget(self.pages)
        self.current_preview: Preview | None = None
        self.open_url: Callable[[QUrl], bool] = _open_url

    def set_overview(self, overview: QWidget) -> None:
        """What the panel shows while no row is selected (gui/panels/overview.py)."""
        self._overview = overview
        self.pages.addWidget(overview)
        self.pages.setCurrentWidget(overview)

    # ---- showing a row ------------------------------------------------------------------------------
    def clear(self) -> None:
        if self._overview is not None:
            self.pages.setCurrentWidget(self._overview)
        self.current_preview = None
        self.session = None  # a replaced image must not stay alive here (issue 13, memory)
        self.row = None
        self.info.setText("Select a file in the tree.")
        self.info.setToolTip("")
        self.history.clear()
        self.text.setPlainText("")
        self._set_note("")
        self.open_button.setEnabled(False)

    def show_row(self, session: LoadedImage, row: Row) -> bool:
        """Show ``row``'s attributes and history; True when it awaits a preview of its content
        (which the controller reads, see ``show_preview``)."""
        self.session = session
        self.row = row
        self.pages.setCurrentIndex(0)
        lines = [f"<b>/{html.escape(row.path)}</b>"]
        lines += _removal_lines(session, row) if row.removed else _kind_lines(row)
        if row.entry is not None:
            lines += _entry_lines(row.path, row.entry)
        if not row.removed:
            below = " below this folder" if row.type is EntryType.DIR else ""
            lines.append(f"Size: {exact_size(row.size)}{below}")
        self.info.setText("<br>".join(lines))
        self.info.setToolTip(_info_tip(session, row))
        self._fill_history(session, row.path)
        return self._await_preview(session, row)

    def _fill_history(self, session: LoadedImage, path: str) -> None:
        self.history.clear()
        for layer, kind in session.tree.history(path):
            d = session.image.layers[layer]
            cmd = readable_command(d.history.text if d.history else "")
            it = QListWidgetItem(f"#{layer}  {kind}  —  {cmd[:120]}")
            it.setData(Qt.ItemDataRole.UserRole, layer)
            it.setToolTip(
                f"layer #{layer}: {kind}\n{redact_secrets(d.history.text) if d.history else '(no history)'}"
            )
            self.history.addItem(it)

    def _await_preview(self, session: LoadedImage, row: Row) -> bool:
        self.current_preview = None
        self.open_button.setEnabled(False)
        self._set_note("")
        if row.removed and (row.type is EntryType.DIR or content_source(session, row) is None):
            held = f", it held {plural(row.held, 'entry')}" if row.type is EntryType.DIR else ""
            self._no_preview(f"removed {_type_word(row.type)}{held}: nothing left to show")
            return False
        if row.type is EntryType.DIR or row.entry is None:
            self._no_preview(f"folder, {plural(row.children, 'entry')}")
            return False
        if content_source(session, row) is None:
            self._no_preview(f"{_type_word(row.type)}: no content to show")
            return False
        self._set_note("reading …")
        return True

    def _set_note(self, text: str, error: bool = False) -> None:
        """The line above the preview; errors in the palette's warning colour, with the text as tooltip."""
        self.preview_note.setText(text)
        self.preview_note.setToolTip(text)
        set_style_sheet(self.preview_note, "QLabel { color: #cf222e; font-weight: bold; }" if error else "")

    def _no_preview(self, note: str) -> None:
        self.text.setPlainText("")
        self.stack.setCurrentIndex(0)
        self._set_note(note)

    def show_preview_failed(self, message: str) -> None:
        self._set_note(f"cannot preview: {message}", error=True)

    def show_preview(self, p: Preview) -> None:
        self.current_preview = p
        note = p.note() + (" — the rest is not shown" if p.truncated else "")
        r = self.row
        if r is not None and r.removed:
            note = f"removed in layer #{r.layer}; the bytes layer #{r.stored_in} stored: {note}"
        self._set_note(note)
        self.open_button.setEnabled(True)
        if p.kind == "image" and p.image_format == "svg":
            self.svg.load(QByteArray(p.data))
            self.stack.setCurrentIndex(2)
            return
        if p.kind == "image":
            pix = QPixmap()
            if pix.loadFromData(p.data):
                if pix.width() > 800 or pix.height() > 600:
                    pix = pix.scaled(
                        800,
                        600,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                elif pix.width() < 96 and pix.height() < 96:  # icons: enlarge, keeping pixels crisp
                    factor = max(1, 128 // max(pix.width(), pix.height(), 1))
                    pix = pix.scaled(
                        pix.width() * factor,
                        pix.height() * factor,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.FastTransformation,
                    )
                self.image.setPixmap(pix)
                self.stack.setCurrentIndex(1)
                return
            self._set_note(f"{p.image_format} image that Qt cannot decode")
        self.text.setPlainText(p.text)
        self.stack.setCurrentIndex(0)

    # ---- actions ------------------------------------------------------------------------------------
    def open_externally(self) -> Path | None:
        """Write the file to a temporary folder and hand it to the desktop's default application.

        When the copy cannot be written or no application takes it, says so above the preview (and
        emits ``failed``); returns the copy's path, None on failure."""
        if self.session is None or self.row is None:
            return None
        name = f"/{self.row.path}"
        try:
            target = write_copy(self.session, self.row, scratch_folder("open"))
        except (OSError, LayerScopeError) as exc:
            self._open_failed(f"Could not copy {name} out of the image: {exc}")
            return None
        if target is None:
            self._open_failed(f"{name} has no content to open")
            return None
        os.chmod(target, 0o400)
        if not self.open_url(QUrl.fromLocalFile(str(target))):
            self._open_failed(
                f"No application opened {name}: the desktop has none for this kind of file "
                f"(the copy is at {target})"
            )
            return None
        return target

    def _open_failed(self, message: str) -> None:
        self._set_note(message, error=True)
        self.failed.emit(message)

    def _link(self, href: str) -> None:
        if href.startswith("jump:"):
            self.path_requested.emit(href[5:])
        elif href.startswith("layer:"):
            self.layer_requested.emit(int(href[6:]))

    def _history_item(self, item: QListWidgetItem) -> None:
        layer = item.data(Qt.ItemDataRole.UserRole)
        if layer is not None:
            self.layer_requested.emit(int(layer))


def _open_url(url: QUrl) -> bool:
    """The desktop's default application for ``url``; nothing is launched on the offscreen platform
    (tests), where opening counts as done."""
    if QGuiApplication.platformName() == "offscreen":
        return True
    return bool(QDesktopServices.openUrl(url))


_TYPE_WORDS: dict[str, str] = {
    EntryType.DIR: "folder",
    EntryType.SYMLINK: "symbolic link",
    EntryType.HARDLINK: "hard link",
    EntryType.CHAR: "character device",
    EntryType.BLOCK: "block device",
    EntryType.FIFO: "named pipe",
    EntryType.SOCKET: "socket",
}


def _type_word(kind: str) -> str:
    return _TYPE_WORDS.get(kind, "file")


def _layer_link(session: LoadedImage, layer: int) -> str:
    """``layer #3`` as a link that selects the layer, its command as the tooltip."""
    d = session.image.layers[layer] if layer < len(session.image.layers) else None
    cmd = readable_command(d.history.text) if d is not None and d.history else ""
    title = f' title="{html.escape(cmd[:200])}"' if cmd else ""
    return f'<a href="layer:{layer}"{title}>layer #{layer}</a>'


def _kind_lines(row: Row) -> list[str]:
    e = row.entry
    kind = row.type + (" (hardlink)" if e is not None and e.type is EntryType.HARDLINK else "")
    lines = [f"Type: {html.escape(kind)} — {html.escape(row.change)} in layer #{row.layer}"]
    if e is not None and row.stored_in != row.layer:  # a folder above the layer's changes, not listed
        lines.append(f"Not listed by layer #{row.layer}: its attributes are layer #{row.stored_in}'s")
    elif e is None and row.type is EntryType.DIR:
        lines.append("Listed by no layer up to this one: implied by the paths under it (no attributes)")
    return lines


def _removal_lines(session: LoadedImage, row: Row) -> list[str]:
    """Who removed the path, what it was and how much it held."""
    what = _type_word(row.type)
    stored = _layer_link(session, row.stored_in)
    by, cmd = _layer_link(session, row.layer), html.escape(_command(session, row.layer))
    lines = [f"<b>Removed in {by}</b> — {cmd}"]
    if row.type is EntryType.DIR:
        held = f"{exact_size(row.size)} in {plural(row.held, 'entry')} below it"
        lines.append(f"What was removed: a {what} from {stored}, holding {held}")
    elif row.type is EntryType.FILE:
        lines.append(f"What was removed: a {what} of {exact_size(row.size)}, stored by {stored}")
    else:
        lines.append(f"What was removed: a {what} from {stored}")
    return lines


def _info_tip(session: LoadedImage, row: Row) -> str:
    """The full path and the full commands of the layers the panel names (it cuts them)."""
    layers = [("removed by", row.layer), ("stored by", row.stored_in)] if row.removed else [("", row.layer)]
    tip = [f"/{row.path}"]
    for what, layer in layers:
        d = session.image.layers[layer] if layer < len(session.image.layers) else None
        cmd = redact_secrets(d.history.text) if d is not None and d.history else "(no history)"
        tip.append(f"{what} layer #{layer}: {cmd}".strip())
    return "\n".join(tip)


def _command(session: LoadedImage, layer: int) -> str:
    d = session.image.layers[layer] if layer < len(session.image.layers) else None
    cmd = readable_command(d.history.text) if d is not None and d.history else "(no history)"
    return cmd if len(cmd) <= 100 else cmd[:99] + "…"


def _entry_lines(path: str, e: Entry) -> list[str]:
    """Mode, owner, time, link target and extended attributes of an entry."""
    lines = [f"Mode: <tt>{mode_string(e.type, e.mode)}</tt> ({e.mode:04o})"]
    uname, gname = e.owner_names
    names = f" ({html.escape(uname)}:{html.escape(gname)})" if (uname or gname) else ""
    lines.append(f"Owner: {e.uid}:{e.gid}{names}")
    when = dt.datetime.fromtimestamp(e.mtime, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines.append(f"Modified: {when}")
    if e.link:
        target = e.link if e.type is EntryType.SYMLINK else "/" + e.link
        jump = _resolve_link(path, e.link) if e.type is EntryType.SYMLINK else e.link
        lines.append(f'Link target: <a href="jump:{html.escape(jump)}">{html.escape(target)}</a>')
    xattrs = e.xattrs
    if xattrs:
        shown = ", ".join(f"{html.escape(k)}={html.escape(_short(v))}" for k, v in xattrs.items())
        lines.append(f"Extended attributes: {shown}")
    return lines


def _resolve_link(path: str, target: str) -> str:
    """A symlink's target as a path in the image (relative targets resolve from the link's folder)."""
    import posixpath

    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    base = posixpath.dirname(path)
    return posixpath.normpath(posixpath.join("/", base, target)).lstrip("/")


def _short(v: object) -> str:
    if isinstance(v, bytes):
        try:
            s = v.decode("utf-8")
        except UnicodeDecodeError:
            return v[:32].hex() + ("…" if len(v) > 32 else "")
        return s[:60]
    return str(v)[:60]
