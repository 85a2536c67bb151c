"""Light and dark: follow the desktop (the default), or a light/dark choice kept in the settings.

Qt 6.8+ asks the platform for a colour scheme (``QStyleHints.setColorScheme``); where the platform
cannot switch (no desktop theme: plain X11, offscreen, older Qt), the Fusion style with a palette
of our own gives the same result. Every window repaints at once: item views recompute their tints,
the toolbar and legend redraw on the palette-change event they receive.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from . import settings
from .colors import is_dark

_R = QPalette.ColorRole
_G = QPalette.ColorGroup

_DARK = {
    _R.Window: "#2b2b2b",
    _R.WindowText: "#e6e6e6",
    _R.Base: "#1e1e1e",
    _R.AlternateBase: "#262626",
    _R.ToolTipBase: "#3a3a3a",
    _R.ToolTipText: "#f0f0f0",
    _R.PlaceholderText: "#8c8c8c",
    _R.Text: "#e6e6e6",
    _R.Button: "#353535",
    _R.ButtonText: "#e6e6e6",
    _R.BrightText: "#ff6b6b",
    _R.Light: "#4a4a4a",
    _R.Midlight: "#3f3f3f",
    _R.Mid: "#2f2f2f",
    _R.Dark: "#1a1a1a",
    _R.Shadow: "#000000",
    _R.Highlight: "#5aa0e8",  # lighter than every dark tint, so a selected row stands out of them
    _R.HighlightedText: "#000000",
    _R.Link: "#6cb4ff",
    _R.LinkVisited: "#b48cff",
}


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (disabled text dimmed)."""
    pal = QPalette()
    for role, colour in _DARK.items():
        pal.setColor(role, QColor(colour))
    for role in (_R.Text, _R.WindowText, _R.ButtonText):
        pal.setColor(_G.Disabled, role, QColor("#7a7a7a"))
    return pal


def light_palette() -> QPalette:
    """Fusion's own light palette."""
    style = QStyleFactory.create("Fusion")
    return style.standardPalette() if style is not None else QPalette()


_SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark, "system": Qt.ColorScheme.Unknown}


def apply(choice: str) -> None:
    """Show every window in ``choice``: "system", "light" or "dark" (live, no restart)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+
        hints.setColorScheme(_SCHEMES.get(choice, Qt.ColorScheme.Unknown))
    app.setPalette(QPalette())  # drop a palette set before: back to the platform's (or the style's)
    if choice == "system" or is_dark() == (choice == "dark"):
        return
    if app.style().name().lower() != "fusion":  # native styles ignore most palette roles
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if choice == "dark" else light_palette())


def choose(choice: str) -> None:
    """The user's choice: remembered, then applied."""
    choice = settings.as_theme(choice)
    settings.THEME.set(choice)
    apply(choice)


def current() -> str:
    """The remembered choice."""
    return settings.THEME.get()


def set_style_sheet(widget: QWidget, sheet: str) -> None:
    """``widget.setStyleSheet(sheet)`` unless it has that sheet already: each call polishes the widget
    (and its children) again, milliseconds each, and some are made at every selection or load."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)
