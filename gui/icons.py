"""The application icon: the only file where icon file names are mentioned.

The icons live in resources/icons/hicolor laid out as the freedesktop icon theme wants them
(``<size>x<size>/apps/layerscope.png`` and ``scalable/apps/layerscope.svg``), so that
``layerscope install-desktop`` copies that tree as it is, without naming a file, and
resources/icons/render.py renders the PNGs from the SVG using the names below.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon, QPixmap

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
