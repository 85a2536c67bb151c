"""Layer and change colours: one colour per layer index, everywhere (timeline bar, tree tint, legend).

The layer tints are two fixed tables, one for light palettes and one for dark ones, chosen by
farthest-point sampling in CIELAB: each entry is the in-gamut colour farthest (CIEDE2000) from the
ones before it, so any two of the first 12 differ by ΔE00 ≥ 12 (tests/gui/test_look.py checks ≥ 10;
a just-noticeable difference is about 2.3) and neighbouring layers differ most. Every tint keeps a
WCAG contrast of at least 7:1 with black text (light) or white text (dark). The dark table takes the
light table's hue for the same index where it can, so a layer keeps its hue when the theme changes.
Past the table's end the colours repeat; the layer number is always shown next to the colour.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from layerscope.core.kinds import ChangeKind

LIGHT_TINTS = (
    "#b0d3f3", "#fe96c0", "#5ec99c", "#f0a571", "#d9d27c", "#80fbfc", "#cec0e5", "#ffcbc5",
    "#d1f0d1", "#ffe4c3", "#41c5e1", "#b0ba96", "#90c9c1", "#cdb283", "#87fed5", "#acdc90",
    "#e1a0e6", "#baabfc", "#f79e9d", "#ffd4ec", "#afe9f8", "#d6aabe", "#ebeac3", "#13d4ce",
)  # fmt: skip
DARK_TINTS = (
    "#1f5691", "#8b3956", "#04623b", "#7c481f", "#4a4903", "#1d5d64", "#482c64", "#552e2b",
    "#45513d", "#48361c", "#1b3d4a", "#1a4209", "#0d4135", "#5d543e", "#0e6054", "#445c29",
    "#614f62", "#2c3956", "#893e33", "#631e4b", "#3a5968", "#7a4074", "#3c3a24", "#34544b",
)  # fmt: skip
MIN_TEXT_CONTRAST = 4.5
"""WCAG AA for normal text: what the text on a tinted row must reach."""


def is_dark() -> bool:
    pal = QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def layer_color(layer: int) -> QColor:
    """The colour of layer ``layer``: the tree's row tint, the timeline's bar, the legend's swatch."""
    table = DARK_TINTS if is_dark() else LIGHT_TINTS
    return QColor(table[layer % len(table)])


def text_color(background: QColor) -> QColor:
    """The palette's text colour when it reads on ``background`` (WCAG AA), else black or white."""
    text = QApplication.palette().color(QPalette.ColorRole.Text)
    if contrast_ratio(text, background) >= MIN_TEXT_CONTRAST:
        return text
    black, white = QColor(0, 0, 0), QColor(255, 255, 255)
    return black if contrast_ratio(black, background) >= contrast_ratio(white, background) else white


_CHANGE_LIGHT = {
    ChangeKind.ADDED: "#1a7f37",
    ChangeKind.MODIFIED: "#9a6700",
    ChangeKind.REMOVED: "#cf222e",
    ChangeKind.UNMODIFIED: "#6e7781",
}
_CHANGE_DARK = {
    ChangeKind.ADDED: "#57d364",
    ChangeKind.MODIFIED: "#e3b341",
    ChangeKind.REMOVED: "#ff7b72",
    ChangeKind.UNMODIFIED: "#8b949e",
}


def change_color(change: ChangeKind) -> QColor | None:
    """The colour of a change mark (the mark's shape tells the change without it)."""
    c = (_CHANGE_DARK if is_dark() else _CHANGE_LIGHT).get(ChangeKind(change))
    return QColor(c) if c else None


# ---- measures: WCAG relative luminance and contrast, CIELAB and CIEDE2000 -------------------------
def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(c: QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black … 1 white)."""
    return 0.2126 * _linear(c.red()) + 0.7152 * _linear(c.green()) + 0.0722 * _linear(c.blue())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio (1 … 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def lab(c: QColor) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour."""
    r, g, b = _linear(c.red()), _linear(c.green()), _linear(c.blue())
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(c1: QColor, c2: QColor) -> float:
    """CIEDE2000 colour difference (Sharma, Wu, Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab(c1), lab(c2)
    cbar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(cbar**7 / (cbar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dh = 0.0
    if c1p * c2p:
        dh = h2p - h1p
        dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lbar, cbarp = (l1 + l2) / 2, (c1p + c2p) / 2
    if not c1p * c2p:
        hbar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbar = (h1p + h2p) / 2
    else:
        hbar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hbar - 30))
        + 0.24 * math.cos(math.radians(2 * hbar))
        + 0.32 * math.cos(math.radians(3 * hbar + 6))
        - 0.20 * math.cos(math.radians(4 * hbar - 63))
    )
    rc = 2 * math.sqrt(cbarp**7 / (cbarp**7 + 25**7))
    rt = -math.sin(math.radians(60 * math.exp(-(((hbar - 275) / 25) ** 2)))) * rc
    sl = 1 + 0.015 * (lbar - 50) ** 2 / math.sqrt(20 + (lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    return math.sqrt((d_l / sl) ** 2 + (d_c / sc) ** 2 + (d_h / sh) ** 2 + rt * (d_c / sc) * (d_h / sh))
