"""A notice over the file tree while a layer switch takes long: the timeline already shows the layer
asked for, the tree still the one before, and the notice says so until the new view arrives (right
after a load of a large image, while the background preparation runs, a switch takes a second)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QLabel

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
        controller.loading.connect(lambda *_: self._done())
        for ended in (controller.failed, controller.cancelled, controller.idle):
            ended.connect(lambda *_: self._done_unless_switching())
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

    def _show_if_still_switching(self) -> None:
        if not self._controller.running(Channel.VIEW):
            return
        self.setText(self.text_for())
        self._place()
        self.show()
        self.raise_()

    def _done(self) -> None:
        self._timer.stop()
        self.hide()

    def _done_unless_switching(self) -> None:
        if not self._controller.running(Channel.VIEW):
            self._done()

    def _place(self) -> None:
        self.adjustSize()
        vp = self._view.viewport()
        self.move(max(0, (vp.width() - self.width()) // 2), 8)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
