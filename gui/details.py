"""The File tab: attributes, the path's history through the layers, and a preview."""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path
from typing import Any

import humanize
from PySide6.QtCore import QByteArray, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QPixmap
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

from layerscope.core.cli import mode_string, readable_command
from layerscope.core.layers import iter_contents
from layerscope.core.preview import Preview, preview
from layerscope.core.session import LoadedImage
from layerscope.core.views import Row

from .scratch import scratch_folder
from .worker import Job


class FilePanel(QWidget):
    layer_requested = Signal(int)
    path_requested = Signal(str)  # jump to a link target

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.session: LoadedImage | None = None
        self.row: Row | None = None
        self._job: Job | None = None
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
        lay.addWidget(split)
        self.current_preview: Preview | None = None

    # ---- showing a row ------------------------------------------------------------------------------
    def clear(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self.current_preview = None
        self.row = None
        self.info.setText("Select a file in the tree.")
        self.history.clear()
        self.text.setPlainText("")
        self.preview_note.setText("")
        self.open_button.setEnabled(False)

    def show_row(self, session: LoadedImage, row: Row, layer_view: bool) -> None:
        self.session = session
        self.row = row
        e = row.entry
        lines = [f"<b>/{html.escape(row.path)}</b>"]
        kind = row.type + (" (hardlink)" if e is not None and e.type == "hardlink" else "")
        lines.append(f"Type: {html.escape(kind)} — {html.escape(row.change)} in layer #{row.layer}")
        if e is not None:
            lines.append(f"Mode: <tt>{mode_string(e.type, e.mode)}</tt> ({e.mode:04o})")
            extra = e.extra or {}
            names = (
                f" ({html.escape(str(extra.get('uname', '')))}:{html.escape(str(extra.get('gname', '')))})"
                if (extra.get("uname") or extra.get("gname"))
                else ""
            )
            lines.append(f"Owner: {e.uid}:{e.gid}{names}")
            when = dt.datetime.fromtimestamp(e.mtime, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            lines.append(f"Modified: {when}")
            if e.link:
                target = e.link if e.type == "symlink" else "/" + e.link
                jump = _resolve_link(row.path, e.link) if e.type == "symlink" else e.link
                lines.append(f'Link target: <a href="jump:{html.escape(jump)}">{html.escape(target)}</a>')
            xattrs = extra.get("xattrs")
            if isinstance(xattrs, dict) and xattrs:
                shown = ", ".join(f"{html.escape(k)}={html.escape(_short(v))}" for k, v in xattrs.items())
                lines.append(f"Extended attributes: {shown}")
        lines.append(
            f"Size: {row.size:,} bytes ({humanize.naturalsize(row.size, binary=False)})"
            + (" below this folder" if row.type == "dir" else "")
        )
        self.info.setText("<br>".join(lines))
        self._fill_history(session, row.path)
        self._start_preview(session, row, layer_view)

    def _fill_history(self, session: LoadedImage, path: str) -> None:
        self.history.clear()
        for layer, kind in session.tree.history(path):
            d = session.image.layers[layer]
            cmd = readable_command(d.history.text if d.history else "")
            it = QListWidgetItem(f"#{layer}  {kind}  —  {cmd[:120]}")
            it.setData(Qt.ItemDataRole.UserRole, layer)
            it.setToolTip(d.history.text if d.history else "")
            self.history.addItem(it)

    def _start_preview(self, session: LoadedImage, row: Row, layer_view: bool) -> None:
        if self._job is not None and not self._job.done:
            self._job.cancel()
        self.current_preview = None
        self.open_button.setEnabled(False)
        e = row.entry
        if row.type == "dir" or e is None:
            self.text.setPlainText("")
            self.stack.setCurrentIndex(0)
            self.preview_note.setText(f"folder, {row.children} entries")
            return
        src = self._data_source(session, row)
        if src is None:
            self.text.setPlainText("")
            self.stack.setCurrentIndex(0)
            self.preview_note.setText(
                f"{row.type}: no content to show" if row.change != "removed" else "removed in this layer"
            )
            return
        layer, entry = src
        self.preview_note.setText("reading …")

        def work(_job: Job) -> Preview:
            return preview(session.archive, session.layers[layer], entry, row.name)

        job = Job(work, "preview")
        # a preview that finishes after the selection moved on is dropped
        job.finished.connect(lambda p, j=job: self._show_preview(p) if j is self._job else None)
        job.failed.connect(lambda m: self.preview_note.setText(f"cannot preview: {m}"))
        self._job = job
        job.start()

    @staticmethod
    def _data_source(session: LoadedImage, row: Row) -> tuple[int, Any] | None:
        """(layer, file entry) holding this row's bytes: the row's own layer, or a hardlink's target."""
        e = row.entry
        if e is None or row.change == "removed":
            return None
        if e.type == "file":
            return row.layer, e
        if e.type == "hardlink":
            n = session.tree.resolve(row.path)
            if n is not None and n.entry is not None and n.entry.type == "file":
                return n.layer, n.entry
        return None

    def _show_preview(self, p: Preview) -> None:
        self.current_preview = p
        self.preview_note.setText(p.note() + (" — the rest is not shown" if p.truncated else ""))
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
            self.preview_note.setText(f"{p.image_format} image that Qt cannot decode")
        self.text.setPlainText(p.text)
        self.stack.setCurrentIndex(0)

    # ---- actions ------------------------------------------------------------------------------------
    def open_externally(self) -> Path | None:
        """Write the file to a temporary folder and hand it to the desktop's default application."""
        if self.session is None or self.row is None:
            return None
        src = self._data_source(self.session, self.row)
        if src is None:
            return None
        layer, entry = src
        folder = scratch_folder("open")
        target = folder / (self.row.name or "file")
        with open(target, "wb") as f:
            for _e, chunks in iter_contents(self.session.archive, self.session.layers[layer].desc, [entry]):
                for c in chunks:
                    f.write(c)
        os.chmod(target, 0o400)
        if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
        return target

    def _link(self, href: str) -> None:
        if href.startswith("jump:"):
            self.path_requested.emit(href[5:])

    def _history_item(self, item: QListWidgetItem) -> None:
        layer = item.data(Qt.ItemDataRole.UserRole)
        if layer is not None:
            self.layer_requested.emit(int(layer))


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
