"""Layer and change colours: stable per layer index, distinguishable on light and dark palettes."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_GOLDEN = 137.508  # degrees: successive hues stay far apart for any number of layers


def is_dark() -> bool:
    pal = QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def layer_color(layer: int) -> QColor:
    """The colour of layer ``layer`` (the legend for the tree's row tints)."""
    hue = int((layer * _GOLDEN + 200) % 360)
    if is_dark():
        return QColor.fromHsv(hue, 150, 200)
    return QColor.fromHsv(hue, 170, 215)


_CHANGE_LIGHT = {"added": "#1a7f37", "modified": "#9a6700", "removed": "#cf222e"}
_CHANGE_DARK = {"added": "#57d364", "modified": "#e3b341", "removed": "#ff7b72"}


def change_color(change: str) -> QColor | None:
    c = (_CHANGE_DARK if is_dark() else _CHANGE_LIGHT).get(change)
    return QColor(c) if c else None
