"""A notice over the file tree while it shows something other than what was asked: a layer switch that
takes long (the timeline already shows the layer asked for, the tree still the one before; right
after a load of a large image, while the background preparation runs, a switch takes a second), and
the reading of another image (the timeline shows the new image's layers, the tree the old image's
until the new one is loaded, or stays when the open is cancelled or fails)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QLabel

from layerscope.core.archive.records import ImageRecord

from ..controller import Channel, Controller

NOTICE_AFTER_MS = 150
"""A switch faster than this shows no notice (most switches take 20-100 ms: no flicker)."""


class SwitchNotice(QLabel):
    """Over ``view``'s viewport, top centre: "Showing layer #3 (merged)…" while the view is made."""

    def __init__(self, view: QAbstractScrollArea, controller: Controller) -> None:
        super().__init__(view.viewport())
        self._view = view
        self._controller = controller
        self.setObjectName("switch_notice")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAutoFillBackground(True)
        self.setMargin(6)
        self.setFrameShape(QLabel.Shape.StyledPanel)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(NOTICE_AFTER_MS)
        self._timer.timeout.connect(self._show_if_still_switching)
        controller.layer_changed.connect(lambda _layer: self._switching())
        controller.mode_changed.connect(lambda _own: self._switching())
        controller.view_changed.connect(self._done)
        controller.loading.connect(lambda image, _sizes: self._reading(image))
        controller.loaded.connect(self._done)  # an open ended, one way or the other
        for ended in (controller.failed, controller.cancelled, controller.idle):
            ended.connect(lambda *_: self._done_unless_busy())
        self._read: str | None = None  # the name of the image being read, while one is
        view.viewport().installEventFilter(self)

    def text_for(self) -> str:
        c = self._controller
        how = "its own changes" if c.own_changes else "merged"
        return f"Showing layer #{c.current_layer} ({how})… the tree below is still the one before"

    def _switching(self) -> None:
        if self.isVisible():  # another layer asked while the notice shows: it names that one
            self.setText(self.text_for())
            self._place()
        self._timer.start()

    def _reading(self, image: ImageRecord) -> None:
        c = self._controller
        if c.session is None:  # nothing shown that could be taken for the new image
            self._done()
            return
        again = self._read is not None  # the same read again (its layers' sizes came): no flicker
        # the tree is empty meanwhile (gui/panels/explorer.py): Cancel shows the image before again
        self._read = f"Reading {image.name}…  Cancel goes back to {c.shown_name or 'the image before'}"
        if again and self.isVisible():
            self.setText(self._read)
            self._place()
        elif not again:
            self._timer.stop()
            self.hide()
            self._timer.start()

    def _show_if_still_switching(self) -> None:
        c = self._controller
        if self._read is not None and c.reading:
            self.setText(self._read)
        elif c.running(Channel.VIEW):
            self.setText(self.text_for())
        else:
            return
        self._place()
        self.show()
        self.raise_()

    def _done(self) -> None:
        self._read = None
        self._timer.stop()
        self.hide()

    def _done_unless_busy(self) -> None:
        if not self._controller.running(Channel.VIEW) and not self._controller.reading:
            self._done()

    def _place(self) -> None:
        self.adjustSize()
        vp = self._view.viewport()
        self.move(max(0, (vp.width() - self.width()) // 2), 8)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
