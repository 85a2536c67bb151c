"""The legend under the file tree: what the change marks mean, and each layer's colour.

A row of the tree is tinted with the colour of the layer that made it what it is, and its Change
column carries a mark (gui/marks.py). The legend shows the marks with their words, and one chip per
layer in that layer's colour with its number and command; clicking a chip asks for that layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive.records import HistoryStep
from layerscope.core.display import readable_command

from .. import marks, settings
from ..colors import layer_color, text_color
from ..controller import Controller

CHIP_CHARS = 24
"""A chip shows this much of its layer's command (the tooltip has all of it)."""


def chip_text(layer: int, command: str) -> str:
    one_line = " ".join(readable_command(command).split()) or "(no command recorded)"
    short = one_line if len(one_line) <= CHIP_CHARS else one_line[: CHIP_CHARS - 1] + "…"
    return f"#{layer} {short}"


class Legend(QWidget):
    """Marks and layer colours; ``layer_requested`` when a layer's chip is clicked."""

    layer_requested = Signal(int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Legend")
        self.chips: dict[int, QToolButton] = {}
        self._steps: list[tuple[int, str]] = []  # what the chips show: (layer, command)
        self.current: int | None = None
        self.mark_labels: dict[marks.Mark, QLabel] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(10)
        title = QLabel("Changes:")
        title.setToolTip("The marks of the tree's Change column")
        row.addWidget(title)
        for m in marks.Mark:
            icon = QLabel()
            word = QLabel(marks.INFO[m].label)
            tip = f"{marks.text(m)}: {marks.INFO[m].meaning}"
            for w in (icon, word):
                w.setToolTip(tip)
            pair = QHBoxLayout()
            pair.setSpacing(3)
            pair.addWidget(icon)
            pair.addWidget(word)
            row.addLayout(pair)
            self.mark_labels[m] = icon
        row.addStretch(1)
        lay.addLayout(row)
        self._chip_box = QWidget()
        self._chip_row = QHBoxLayout(self._chip_box)
        self._chip_row.setContentsMargins(0, 0, 0, 0)
        self._chip_row.setSpacing(4)
        self._chip_row.addStretch(1)
        self.chip_scroll = QScrollArea()
        self.chip_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.chip_scroll.setWidgetResizable(True)
        self.chip_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chip_scroll.setWidget(self._chip_box)
        self.chip_scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.chip_scroll)
        self._paint_marks()
        self._fit_height()
        if not settings.LEGEND_VISIBLE.get():  # View ▸ Show the Legend
            self.hide()

    def connect_to(self, c: Controller) -> None:
        """Follow the controller's image and layer; a chip's click asks it for that layer."""
        c.loading.connect(lambda image, _sizes: self.show_layers(image.history))
        c.layer_changed.connect(self.show_current)
        c.restored.connect(lambda: self._show_session(c))
        c.image_loaded.connect(lambda: self._show_session(c))
        self.layer_requested.connect(c.select_layer)

    def _show_session(self, c: Controller) -> None:
        if c.session is None:
            self.show_layers([])
            return
        self.show_layers(c.session.image.history)
        if c.current_layer is not None:
            self.show_current(c.current_layer)

    # ---- rendering -----------------------------------------------------------------------------
    def show_layers(self, steps: Sequence[HistoryStep]) -> None:
        """One chip per step that made a layer, in layer order (the chips shown stay when they are
        these already: a chip's style sheet costs milliseconds, and an open asks twice: reading, loaded)."""
        wanted: list[tuple[int, str]] = []
        for s in steps:
            if s.layer is not None and s.layer not in {w[0] for w in wanted}:
                wanted.append((s.layer, s.text))
        if wanted == self._steps:
            return
        self._steps = wanted
        for b in self.chips.values():
            b.deleteLater()
        self.chips = {}
        for s in steps:
            if s.layer is None or s.layer in self.chips:
                continue
            b = QToolButton()
            b.setText(chip_text(s.layer, s.text))
            b.setToolTip(f"Layer #{s.layer}: {readable_command(s.text) or '(no command recorded)'}")
            b.clicked.connect(lambda _c=False, n=s.layer: self.layer_requested.emit(n))
            self._chip_row.insertWidget(self._chip_row.count() - 1, b)
            self.chips[s.layer] = b
        self._style_chips()
        self._fit_height()

    def show_current(self, layer: int) -> None:
        before, self.current = self.current, layer
        if before != layer:
            self._style_chips({before, layer})  # only the two chips that change
        chip = self.chips.get(layer)
        if chip is not None:
            self.chip_scroll.ensureWidgetVisible(chip)

    def _style_chips(self, only: set[int | None] | None = None) -> None:
        for layer, b in self.chips.items():
            if only is not None and layer not in only:
                continue
            tint = layer_color(layer)
            ink = text_color(tint)
            width = 2 if layer == self.current else 1
            border = ink.name() if layer == self.current else tint.darker(130).name()
            b.setStyleSheet(
                f"QToolButton {{ background: {tint.name()}; color: {ink.name()}; "
                f"border: {width}px solid {border}; border-radius: 3px; padding: 1px 6px; }}"
            )
            f = QFont(b.font())
            f.setBold(layer == self.current)
            b.setFont(f)

    def _paint_marks(self) -> None:
        for m, label in self.mark_labels.items():
            label.setPixmap(marks.pixmap(m, 14))

    def _fit_height(self) -> None:
        chip_h = max((b.sizeHint().height() for b in self.chips.values()), default=22)
        bar = self.chip_scroll.horizontalScrollBar().sizeHint().height()
        self.chip_scroll.setFixedHeight(chip_h + bar + 2)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: the tints did too
            self._paint_marks()
            self._style_chips()
        super().changeEvent(event)
