"""Every icon: the application's own, the actions', and Qt's standard ones (the only file naming icons).

The icons live in resources/icons/hicolor laid out as the freedesktop icon theme wants them
(``<size>x<size>/apps/layerscope.png`` and ``scalable/apps/layerscope.svg``), so that
``layerscope install-desktop`` copies that tree as it is, without naming a file, and
resources/icons/render.py renders the PNGs from the SVG using the names below.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from layerscope.core.resources import resource

ICON_NAME = "layerscope"
"""The icon's theme name: ``Icon=`` in the .desktop entry, ``<icon name=>`` in the MIME package."""

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)
"""The bitmap sizes desktops ask for, in pixels."""

THEME_DIR = "icons/hicolor"
"""Resource folder mirroring $XDG_DATA_HOME/icons/hicolor."""

SVG = f"{THEME_DIR}/scalable/apps/{ICON_NAME}.svg"


def png(size: int) -> str:
    """Resource name of the ``size`` x ``size`` PNG."""
    return f"{THEME_DIR}/{size}x{size}/apps/{ICON_NAME}.png"


@cache
def app_icon() -> QIcon:
    """The window icon, from the bundled PNGs (needs a QGuiApplication).

    The pixmaps are read from bytes, not from file paths: QIcon loads files lazily, and a resource
    inside a zip would be a temporary file by then.
    """
    icon = QIcon()
    for size in PNG_SIZES:
        pm = QPixmap()
        if pm.loadFromData(resource(png(size)).read_bytes(), "PNG"):
            icon.addPixmap(pm)
    return icon


# ---- action icons ----------------------------------------------------------------------------------
_SP = QStyle.StandardPixmap
_STANDARD = {
    "open": ("document-open", _SP.SP_DialogOpenButton),
    "open-folder": ("folder-open", _SP.SP_DirOpenIcon),
    "export": ("document-save-as", _SP.SP_DialogSaveButton),
    "back": ("go-previous", _SP.SP_ArrowBack),
    "forward": ("go-next", _SP.SP_ArrowForward),
    "expand": ("view-list-tree", _SP.SP_ToolBarVerticalExtensionButton),
    "next-match": ("go-down", _SP.SP_ArrowDown),
    "previous-match": ("go-up", _SP.SP_ArrowUp),
    "clear-filter": ("edit-clear", _SP.SP_LineEditClearButton),
    "help": ("help-contents", _SP.SP_DialogHelpButton),
    "about": ("help-about", _SP.SP_MessageBoxInformation),
    "close": ("window-close", _SP.SP_DialogCloseButton),
    "quit": ("application-exit", _SP.SP_DialogCancelButton),
    "sample": ("applications-system", _SP.SP_ComputerIcon),
}
"""Action name -> (freedesktop theme name, Qt standard pixmap used when the theme has none)."""


def _draw(paint: str, size: int = 32) -> QIcon:
    """One of LayerScope's own action icons, drawn in the palette's text colour."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    ink = QApplication.palette().color(QPalette.ColorRole.WindowText)
    s = float(size)
    pen = QPen(ink, s / 12)
    p.setPen(pen)
    if paint == "merged":  # three stacked sheets: the layers seen together
        for k, y in enumerate((0.62, 0.44, 0.26)):
            fill = QColor(ink)
            fill.setAlpha(60 + 60 * k)
            p.setBrush(fill)
            p.drawRoundedRect(QRectF(s * 0.14, s * y, s * 0.72, s * 0.2), s * 0.04, s * 0.04)
    elif paint == "layer-changes":  # one sheet with a plus and a minus on it
        p.drawRoundedRect(QRectF(s * 0.1, s * 0.2, s * 0.8, s * 0.6), s * 0.06, s * 0.06)
        p.drawLine(QPointF(s * 0.3, s * 0.5), QPointF(s * 0.5, s * 0.5))
        p.drawLine(QPointF(s * 0.4, s * 0.4), QPointF(s * 0.4, s * 0.6))
        p.drawLine(QPointF(s * 0.58, s * 0.5), QPointF(s * 0.76, s * 0.5))
    elif paint == "hide-unmodified":  # a funnel: only what changed goes through
        p.drawLine(QPointF(s * 0.15, s * 0.2), QPointF(s * 0.85, s * 0.2))
        p.drawLine(QPointF(s * 0.15, s * 0.2), QPointF(s * 0.45, s * 0.55))
        p.drawLine(QPointF(s * 0.85, s * 0.2), QPointF(s * 0.55, s * 0.55))
        p.drawLine(QPointF(s * 0.45, s * 0.55), QPointF(s * 0.45, s * 0.85))
        p.drawLine(QPointF(s * 0.55, s * 0.55), QPointF(s * 0.55, s * 0.75))
    elif paint == "legend":  # three swatches with lines beside them
        for k, y in enumerate((0.2, 0.45, 0.7)):
            p.setBrush(QColor(("#4c9be8", "#e86f9b", "#5ec99c")[k]))
            p.drawRect(QRectF(s * 0.12, s * y, s * 0.16, s * 0.14))
            p.drawLine(QPointF(s * 0.4, s * (y + 0.07)), QPointF(s * 0.88, s * (y + 0.07)))
    elif paint == "treemap":  # a rectangle cut into tiles, one big, the rest smaller
        fill = QColor(ink)
        fill.setAlpha(70)
        p.setBrush(fill)
        for x, y, w, h in (
            (0.1, 0.15, 0.45, 0.7),
            (0.55, 0.15, 0.35, 0.4),
            (0.55, 0.55, 0.2, 0.3),
            (0.75, 0.55, 0.15, 0.3),
        ):
            p.drawRect(QRectF(s * x, s * y, s * w, s * h))
    elif paint == "theme":  # half a disc filled: light and dark
        p.drawEllipse(QRectF(s * 0.15, s * 0.15, s * 0.7, s * 0.7))
        p.setBrush(ink)
        p.drawChord(QRectF(s * 0.15, s * 0.15, s * 0.7, s * 0.7), 90 * 16, 180 * 16)
    p.end()
    return QIcon(pm)


_DRAWN = ("merged", "layer-changes", "hide-unmodified", "legend", "theme", "treemap")
_icons: dict[tuple[str, bool], QIcon] = {}


def action_icon(name: str) -> QIcon:
    """The icon of action ``name`` (a key of the tables above), memoised per palette brightness.

    Theme icons where the desktop has them, else Qt's standard pixmaps; LayerScope's own ideas
    (merged, layer changes, hide unmodified, legend, theme) are drawn here."""
    dark = QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
    key = (name, dark)
    ic = _icons.get(key)
    if ic is None:
        if name in _DRAWN:
            ic = _draw(name)
        else:
            theme, standard = _STANDARD[name]
            ic = QIcon.fromTheme(theme)
            if ic.isNull():
                ic = QApplication.style().standardIcon(standard)
        _icons[key] = ic
    return ic


def action_icon_names() -> tuple[str, ...]:
    """Every action icon's name."""
    return (*_STANDARD, *_DRAWN)
