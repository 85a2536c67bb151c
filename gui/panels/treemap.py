"""The treemap: where the bytes of the view shown went, as nested tiles (area = bytes), each in the
colour of the layer that owns it (gui/colors.py); folders hold their children under a name strip.

Hovering tells a tile's path, size and layer; a click selects the path in the tree (and the details);
a double-click zooms into a folder, the path bar above goes up, Back returns to the folder shown
before. The layout and the picture are made off the GUI thread (gui/space_flow.py): this widget asks
for them (``wanted``) and draws the picture it is given, the last one scaled while a new size or
folder is being made. Exported as PNG (the picture) or SVG (the tiles drawn again, QtSvg).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QImageWriter,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.display import human_size, plural
from layerscope.core.paths import basename
from layerscope.core.space.squarify import Tile

from ..colors import DARK_TINTS, LIGHT_TINTS, is_dark
from ..navigation import History, Place
from ..space_flow import HEADER, Look, Treemap
from ..worker import gui_busy
from .path_bar import PathBar

RESIZE_DELAY_MS = 120
"""A new size is laid out once the user has stopped resizing for this long (meanwhile: scaled)."""
LABEL_MIN_W = 34.0
LABEL_MIN_H = 13.0
"""A tile gets its name written in it from this size on."""


SMALL_TILE = 5.0
"""Tiles narrower than this (px) are filled without an outline."""
FAINT_TILE = 14.0
"""Tiles narrower than this (px) get a faint outline."""
FAINT_LINE_ALPHA = 90


def current_look() -> Look:
    """The palette and tints a picture is painted with now (GUI thread)."""
    pal = QApplication.palette()
    dark = is_dark()
    base = pal.color(QPalette.ColorRole.Base)
    return Look(
        tints=DARK_TINTS if dark else LIGHT_TINTS,
        base=base.name(),
        text_dark=not dark,
        other=(base.lighter(160) if dark else base.darker(125)).name(),
        line=(base.darker(160) if not dark else base.darker(140)).name(),
        font=QApplication.font(),
    )


def render(p: QPainter, tiles: list[Tile], look: Look, w: int, h: int, folder: str) -> None:
    """Paint ``tiles`` (a layout of ``folder`` in 0, 0, w, h) on ``p``: safe off the GUI thread on a
    QImage; the same on an SVG generator."""
    p.fillRect(QRectF(0, 0, w, h), QColor(look.base))
    font = QFont(look.font) if look.font is not None else QFont()
    font.setPixelSize(11)
    p.setFont(font)
    fm = QFontMetricsF(font)
    tints = [QColor(t) for t in look.tints]
    folders = [c.darker(118) if look.text_dark else c.lighter(135) for c in tints]
    text = QColor(0, 0, 0) if look.text_dark else QColor(255, 255, 255)
    other = QColor(look.other)
    p.setPen(QPen(QColor(look.line), 0))
    n = len(tints)
    elide = Qt.TextElideMode.ElideRight
    left_v = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    left_top = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    line_pen = p.pen()
    faint = QColor(look.line)
    faint.setAlpha(FAINT_LINE_ALPHA)
    faint_pen = QPen(faint, 0)
    text_pen = QPen(text)
    if not tiles:
        p.setPen(QPen(QColor(look.line)))
        p.drawText(QRectF(0, 0, w, h), int(Qt.AlignmentFlag.AlignCenter), f"/{folder} holds no file bytes")
        return
    for t in tiles:
        x, y, tw, th = t.rect
        if tw < 0.5 or th < 0.5:
            continue
        r = QRectF(x, y, tw, th)
        colour = other if t.path is None or t.layer is None else (folders if t.folder else tints)[t.layer % n]
        p.fillRect(r, colour)
        side = min(tw, th)
        if side >= SMALL_TILE:  # the tiniest get no outline: a grid of outlines reads as mud
            if side < FAINT_TILE:
                p.setPen(faint_pen)
                p.drawRect(r)
                p.setPen(line_pen)
            else:
                p.drawRect(r)
        if tw < LABEL_MIN_W or th < LABEL_MIN_H:
            continue
        name = basename(t.path) if t.path is not None else f"{t.items:,} smaller"
        if t.folder and t.expanded:
            label = f"{name}  {human_size(t.bytes)}"
            box = QRectF(x + 3, y, tw - 6, min(HEADER, th))
            align = left_v
        else:
            label = f"{name}\n{human_size(t.bytes)}" if th >= 2 * LABEL_MIN_H + 2 else name
            box = QRectF(x + 3, y + 1, tw - 6, th - 2)
            align = left_top
        lines = [fm.elidedText(part, elide, box.width()) for part in label.split("\n")]
        p.setPen(text_pen)
        p.drawText(box, align, "\n".join(lines))
        p.setPen(line_pen)


class TreemapView(QWidget):
    """Draws a Treemap's picture; hit-tests its tiles (scaled when the widget's size differs)."""

    tile_clicked = Signal(object)  # a Tile
    tile_activated = Signal(object)  # a Tile (double-click)
    resized = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.treemap: Treemap | None = None
        self.selected: str | None = None
        self.hovered: Tile | None = None
        self.placeholder = "No image"
        self.setMouseTracking(True)
        self.setMinimumSize(120, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RESIZE_DELAY_MS)
        self._timer.timeout.connect(self.resized)

    def sizeHint(self) -> QSize:
        return QSize(520, 360)

    def show_treemap(self, tm: Treemap | None) -> None:
        self.treemap = tm
        self.hovered = None
        self.update()

    def _scale(self) -> tuple[float, float]:
        tm = self.treemap
        if tm is None or not tm.size[0] or not tm.size[1]:
            return 1.0, 1.0
        return self.width() / tm.size[0], self.height() / tm.size[1]

    def tile_at(self, pos: QPointF) -> Tile | None:
        """The innermost tile under ``pos`` (widget coordinates). Work: the tiles (at most MAX_TILES)."""
        tm = self.treemap
        if tm is None:
            return None
        sx, sy = self._scale()
        x, y = pos.x() / sx, pos.y() / sy
        for t in reversed(tm.tiles):  # parents come first: the innermost is the last hit
            r = t.rect
            if r.x <= x < r.x + r.w and r.y <= y < r.y + r.h:
                return t
        return None

    def tile_rect(self, t: Tile) -> QRectF:
        sx, sy = self._scale()
        r = t.rect
        return QRectF(r.x * sx, r.y * sy, r.w * sx, r.h * sy)

    def paintEvent(self, _event: QPaintEvent) -> None:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        p = QPainter(self)
        tm = self.treemap
        if tm is None:
            p.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self.placeholder)
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(QRectF(self.rect()), tm.image)  # scaled while a new size is being laid out
        hl = self.palette().color(QPalette.ColorRole.Highlight)
        if self.selected is not None:
            for t in tm.tiles:
                if t.path == self.selected:
                    p.setPen(QPen(hl, 3))
                    p.drawRect(self.tile_rect(t).adjusted(1, 1, -1, -1))
                    break
        if self.hovered is not None:
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1, Qt.PenStyle.DashLine))
            p.drawRect(self.tile_rect(self.hovered).adjusted(0, 0, -1, -1))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._timer.start()  # laid out again once the size settles; the old picture scaled meanwhile

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        t = self.tile_at(event.position())
        if t is not self.hovered:
            self.hovered = t
            self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self.hovered = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            t = self.tile_at(event.position())
            if t is not None:
                self.tile_clicked.emit(t)
                return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            t = self.tile_at(event.position())
            if t is not None:
                self.tile_activated.emit(t)
                return
        super().mouseDoubleClickEvent(event)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            he = e if isinstance(e, QHelpEvent) else None
            t = self.tile_at(QPointF(he.pos())) if he is not None else None
            if he is not None and t is not None:
                QToolTip.showText(he.globalPos(), self.describe(t), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)

    def describe(self, t: Tile) -> str:
        """A tile's tooltip: path, size, layer."""
        if t.path is None:
            where = f"/{t.parent}" if t.parent else "/"
            return f"{plural(t.items, 'smaller item')} in {where}\n{human_size(t.bytes)}"
        lines = [f"/{t.path}", human_size(t.bytes) + (f" ({t.bytes:,} bytes)" if t.bytes >= 1024 else "")]
        tm = self.treemap
        if t.folder and tm is not None:
            try:
                lines.append(plural(tm.usage.files(t.path), "file"))
                layers = tm.usage.layers(t.path)
            except KeyError:
                layers = {}
            if len(layers) > 1:
                parts = sorted(layers.items(), key=lambda kv: -kv[1])[:4]
                lines.append(
                    f"mostly layer #{t.layer or 0}; " + ", ".join(f"#{k}: {human_size(v)}" for k, v in parts)
                )
            elif t.layer is not None:
                lines.append(f"layer #{t.layer}")
            lines.append("Double-click to zoom in")
        elif t.layer is not None:
            lines.append(f"layer #{t.layer}")
        return "\n".join(lines)


class TreemapPanel(QWidget):
    """The treemap with its path bar, Back and Up, and Export; renders what the flow made."""

    wanted = Signal(int, bool, str, int, int)  # top, own changes, folder, width, height: lay it out
    path_selected = Signal(str)  # a tile was clicked: select its path in the tree

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.view = TreemapView()
        self.path_bar = PathBar()
        self.history = History()
        self.place: Place | None = None  # the view and the folder shown (zoomed into)
        self.back_action = QAction("Back", self)
        self.back_action.setToolTip("Back to the folder shown before (Backspace)")
        self.back_action.triggered.connect(self.go_back)
        self.back_action.setShortcut("Backspace")
        self.back_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.back_action)
        self.up_action = QAction("Up", self)
        self.up_action.setToolTip("The folder above")
        self.up_action.triggered.connect(self.go_up)
        self.export_png_action = QAction("Export as PNG…", self)
        self.export_png_action.triggered.connect(lambda: self._ask_export("png"))
        self.export_svg_action = QAction("Export as SVG…", self)
        self.export_svg_action.triggered.connect(lambda: self._ask_export("svg"))
        menu = QMenu(self)
        menu.addActions([self.export_png_action, self.export_svg_action])
        export = QToolButton()
        export.setText("Export")
        export.setMenu(menu)
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export.setAutoRaise(True)
        self.status = QLabel("")
        self.status.setEnabled(False)
        nav = QHBoxLayout()
        nav.setSpacing(0)
        for act in (self.back_action, self.up_action):
            b = QToolButton()
            b.setDefaultAction(act)
            b.setAutoRaise(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            nav.addWidget(b)
        nav.addWidget(self.path_bar, 1)
        nav.addWidget(self.status)
        nav.addWidget(export)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(nav)
        lay.addWidget(self.view, 1)
        self.view.tile_clicked.connect(self._clicked)
        self.view.tile_activated.connect(self._activated)
        self.view.resized.connect(self.refresh)
        self.path_bar.path_clicked.connect(self.zoom)
        self._enable()

    # ---- what is shown -------------------------------------------------------------------------
    def show_view(self, top: int | None, own: bool, holds: Callable[[str], bool] | None = None) -> None:
        """The view shown by the tree (None: no image): its treemap, zoomed on the folder shown
        before when the new view ``holds`` it as a folder (else from its top)."""
        if top is None:
            self.place = None
            self.history.clear()
            self.view.show_treemap(None)
            self.path_bar.show_path("")
            self._enable()
            return
        if self.place is not None and (self.place.layer, self.place.own_changes) == (top, own):
            return
        was = self.place.path if self.place is not None else ""
        keep = (
            was if was and holds is not None and holds(was) else ""
        )  # step through layers watching a folder
        self.history.clear()  # zooms belong to one view
        self.place = Place(top, own, keep)
        self.view.placeholder = "Laying out…"
        self.path_bar.show_path(keep)
        self._enable()
        self.refresh()

    def refresh(self, again: bool = False) -> None:
        """Ask for the treemap of the place at the widget's size (when shown); ``again``: even when
        the picture shown is of it (the palette changed)."""
        if self.place is None or not self.isVisible():
            return
        size = self.view.size()
        tm = self.view.treemap
        p = self.place
        if (
            not again
            and tm is not None
            and (tm.top, tm.own, tm.folder, tm.size)
            == (p.layer, p.own_changes, p.path, (size.width(), size.height()))
        ):
            return
        self.status.setText("Laying out…")
        self.wanted.emit(p.layer, p.own_changes, p.path, size.width(), size.height())

    def show_treemap(self, tm: Treemap) -> None:
        """A picture the flow made (dropped when it is not of the place shown any more)."""
        p = self.place
        if p is None or (tm.top, tm.own, tm.folder) != (p.layer, p.own_changes, p.path):
            return
        self.view.show_treemap(tm)
        self.status.setText(f"{human_size(tm.usage.bytes(tm.folder))} · {len(tm.tiles):,} tiles ")
        self._enable()

    def select_path(self, path: str) -> None:
        """The tree's selection, outlined when it is a tile."""
        self.view.selected = path
        self.view.update()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            QTimer.singleShot(0, lambda: self.refresh(again=True))  # painted in the new tints

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.refresh)

    # ---- zoom ----------------------------------------------------------------------------------
    def zoom(self, folder: str, record: bool = True) -> None:
        """Show ``folder`` of the view (its tiles fill the treemap); ``record``: Back returns."""
        p = self.place
        if p is None or folder == p.path:
            return
        if record:
            self.history.record(p)
        self.place = Place(p.layer, p.own_changes, folder)
        self.path_bar.show_path(folder)
        self._enable()
        self.refresh()

    def go_back(self) -> None:
        if self.place is None:
            return
        back = self.history.back(self.place)
        if back is not None:
            self.zoom(back.path, record=False)
        self._enable()

    def go_up(self) -> None:
        if self.place is not None and self.place.path:
            path = self.place.path
            self.zoom(path.rsplit("/", 1)[0] if "/" in path else "")

    def _enable(self) -> None:
        self.back_action.setEnabled(self.history.can_go_back())
        self.up_action.setEnabled(self.place is not None and bool(self.place.path))
        has = self.view.treemap is not None
        self.export_png_action.setEnabled(has)
        self.export_svg_action.setEnabled(has)

    def _clicked(self, t: Tile) -> None:
        if t.path is not None:
            self.select_path(t.path)
            self.path_selected.emit(t.path)

    def _activated(self, t: Tile) -> None:
        if t.path is not None and t.folder:
            self.zoom(t.path)
        elif self.place is not None and t.parent != self.place.path:
            self.zoom(t.parent)  # a file's or the "other" tile's folder

    # ---- export --------------------------------------------------------------------------------
    def _ask_export(self, kind: str) -> None:
        name = (
            self.place.path.rsplit("/", 1)[-1] if self.place and self.place.path else "treemap"
        ) + f".{kind}"
        what = "PNG image (*.png)" if kind == "png" else "SVG drawing (*.svg)"
        path, _ = QFileDialog.getSaveFileName(self, "Export the treemap", name, what)
        if path:
            (self.export_png if kind == "png" else self.export_svg)(Path(path))

    def export_png(self, path: Path) -> bool:
        """The picture shown, at the size it was laid out for."""
        tm = self.view.treemap
        if tm is None:
            return False
        writer = QImageWriter(str(path), QByteArray(b"png"))
        return writer.write(tm.image)

    def export_svg(self, path: Path) -> bool:
        """The tiles shown, drawn again as vectors (bounded by the layout's MAX_TILES)."""
        from PySide6.QtSvg import QSvgGenerator

        tm = self.view.treemap
        if tm is None:
            return False
        gen = QSvgGenerator()
        gen.setFileName(str(path))
        w, h = tm.size
        gen.setSize(QSize(w, h))
        gen.setViewBox(QRectF(0, 0, w, h))
        gen.setTitle(f"/{tm.folder}" if tm.folder else "/")
        gen.setDescription("LayerScope treemap: area = bytes, colour = owning layer")
        p = QPainter()
        if not p.begin(gen):
            return False
        try:
            render(p, tm.tiles, current_look(), w, h, tm.folder)
        finally:
            p.end()
        return path.exists()
