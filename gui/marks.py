"""Change marks: what a layer did to a path, told by shape (and word), never by colour alone.

Each mark is a glyph for text (``+`` added, ``~`` modified, ``−`` removed, ``·`` unmodified,
``…`` a folder only implied by the paths below it) and a small icon drawn in the same shape: a
plus, a wave, a bar, a ring, three dots. The icons are coloured too (gui/colors.change_color), but
someone who cannot tell green from red still tells a plus from a bar. The tree's Change column and
the legend both take their marks from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from layerscope.core.kinds import ChangeKind
from layerscope.core.views import Row

from .colors import change_color, is_dark


class Mark(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    UNMODIFIED = "unmodified"
    IMPLIED = "implied"  # a folder the layer does not list, shown because of the paths below it


@dataclass(frozen=True, slots=True)
class MarkInfo:
    glyph: str
    label: str
    meaning: str


INFO = {
    Mark.ADDED: MarkInfo("+", "added", "new in this layer"),
    Mark.MODIFIED: MarkInfo("~", "modified", "replaces a path of a lower layer"),
    Mark.REMOVED: MarkInfo("−", "removed", "deleted by this layer (a whiteout)"),
    Mark.UNMODIFIED: MarkInfo("·", "unmodified", "listed again, unchanged"),
    Mark.IMPLIED: MarkInfo("…", "implied folder", "not in the layer, holds what it changed"),
}


def mark_of(row: Row) -> Mark:
    """The mark of a tree row: its change, or IMPLIED for a folder its layer does not list (shown for
    the paths below it: no entry at all, or a lower layer's entry whose attributes it keeps)."""
    if row.change is ChangeKind.UNMODIFIED and (row.entry is None or row.stored_in != row.layer):
        return Mark.IMPLIED
    return Mark(str(row.change))


def text(mark: Mark) -> str:
    """``+ added``: the glyph and the word (for text without the icon: copies, the CLI's words)."""
    i = INFO[mark]
    return f"{i.glyph} {i.label}"


def label(mark: Mark) -> str:
    """``added``: the word shown beside the mark's icon."""
    return INFO[mark].label


def _colour(mark: Mark) -> QColor:
    kind = ChangeKind.UNMODIFIED if mark is Mark.IMPLIED else ChangeKind(str(mark))
    c = change_color(kind)
    assert c is not None
    return c


def _plus(p: QPainter, s: float) -> None:
    p.drawLine(QPointF(s * 0.5, s * 0.15), QPointF(s * 0.5, s * 0.85))
    p.drawLine(QPointF(s * 0.15, s * 0.5), QPointF(s * 0.85, s * 0.5))


def _wave(p: QPainter, s: float) -> None:
    path = QPainterPath(QPointF(s * 0.1, s * 0.6))
    path.cubicTo(QPointF(s * 0.3, s * 0.1), QPointF(s * 0.45, s * 0.3), QPointF(s * 0.5, s * 0.5))
    path.cubicTo(QPointF(s * 0.55, s * 0.7), QPointF(s * 0.7, s * 0.9), QPointF(s * 0.9, s * 0.4))
    p.drawPath(path)


def _bar(p: QPainter, s: float) -> None:
    p.drawLine(QPointF(s * 0.15, s * 0.5), QPointF(s * 0.85, s * 0.5))


def _ring(p: QPainter, s: float) -> None:
    p.drawEllipse(QRectF(s * 0.3, s * 0.3, s * 0.4, s * 0.4))


def _dots(p: QPainter, s: float) -> None:
    p.setBrush(p.pen().color())
    for x in (0.2, 0.5, 0.8):
        p.drawEllipse(QPointF(s * x, s * 0.55), s * 0.07, s * 0.07)


_SHAPES: dict[Mark, Callable[[QPainter, float], None]] = {
    Mark.ADDED: _plus,
    Mark.MODIFIED: _wave,
    Mark.REMOVED: _bar,
    Mark.UNMODIFIED: _ring,
    Mark.IMPLIED: _dots,
}

_cache: dict[tuple[Mark, bool, int], QIcon] = {}


def pixmap(mark: Mark, size: int = 16) -> QPixmap:
    """The mark's shape, ``size`` pixels square, in its colour for the current palette."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(_colour(mark), max(1.5, size / 7))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    _SHAPES[mark](p, float(size))
    p.end()
    return pm


def icon(mark: Mark, size: int = 16) -> QIcon:
    """The mark as an icon (memoised per palette brightness)."""
    key = (mark, is_dark(), size)
    ic = _cache.get(key)
    if ic is None:
        ic = _cache[key] = QIcon(pixmap(mark, size))
    return ic
