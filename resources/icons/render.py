"""Render the application icon's PNG sizes from its SVG with Qt's QSvgRenderer.

Run once after editing the SVG, then commit the PNGs:

    .venv/bin/python resources/icons/render.py

File names come from layerscope.gui.icons (the one place that names icon files); the PNGs are
written beside the SVG in this checkout's resources/ folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from layerscope.gui.icons import PNG_SIZES, SVG, png

RESOURCES = Path(__file__).resolve().parent.parent


def render(svg: Path, size: int, out: Path) -> None:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render.py: cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"render.py: cannot write {out}")


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    svg = RESOURCES / SVG
    for size in PNG_SIZES:
        out = RESOURCES / png(size)
        render(svg, size, out)
        print(f"wrote {out.relative_to(RESOURCES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
