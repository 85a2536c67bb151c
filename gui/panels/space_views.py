"""The space views of the explorer, wired in one place: the treemap beside the tree (View > Treemap,
Ctrl+T), the overview in the File tab while nothing is selected, the Waste tab's groups and
headline, the timeline's visible/hidden bars; all fed by the space flow's jobs (gui/space_flow.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence

from layerscope.core.kinds import EntryType
from layerscope.core.views import Row

from ..controller import Controller
from ..icons import action_icon
from ..space_flow import SpaceFlow, Treemap
from .overview import OverviewPanel
from .treemap import TreemapPanel, current_look, render

if TYPE_CHECKING:
    from .explorer import Explorer


class SpaceViews(QObject):
    """Creates the space panels in ``explorer`` and renders the flow's results in them."""

    def __init__(self, explorer: Explorer, controller: Controller) -> None:
        super().__init__(explorer)
        self._explorer = explorer
        self._controller = controller
        self.flow = SpaceFlow(controller, render)
        self.treemap = TreemapPanel()
        self.treemap.hide()
        explorer.top.addWidget(self.treemap)
        explorer.top.setStretchFactor(2, 3)
        self.overview = OverviewPanel()
        explorer.file_panel.set_overview(self.overview)
        self.treemap_action = QAction(action_icon("treemap"), "&Treemap", explorer)
        self.treemap_action.setProperty("layerscope_icon", "treemap")  # redrawn with the palette
        self.treemap_action.setCheckable(True)
        self.treemap_action.setShortcut(QKeySequence("Ctrl+T"))
        self.treemap_action.setToolTip("Show where the bytes went as a treemap beside the tree (Ctrl+T)")
        self.treemap_action.toggled.connect(self.show_treemap)
        self.flow.info_ready.connect(self._show_info)
        self.flow.treemap_ready.connect(self._show_treemap)
        self.flow.failed.connect(explorer.note)
        self.treemap.wanted.connect(self._wanted)
        self.treemap.path_selected.connect(explorer.go_to_path)
        self.overview.folder_requested.connect(explorer.go_to_path)
        self.overview.waste_requested.connect(explorer.show_wasted_path)
        explorer.tree.row_selected.connect(self._row_selected)
        controller.image_loaded.connect(self._show_new_image)
        controller.view_changed.connect(self._show_view)
        controller.loading.connect(lambda *_a: self._loading())
        controller.restored.connect(self._show_view)  # the open ended without a new image: as before

    def show_treemap(self, on: bool) -> None:
        """The treemap beside the tree (``on``), or not."""
        if self.treemap_action.isChecked() != on:
            self.treemap_action.setChecked(on)  # toggled: comes back here
            return
        self.treemap.setVisible(on)
        if on:
            QTimer.singleShot(0, self._make_room)

    def _make_room(self) -> None:
        """Once the splitter has placed the treemap: a third of the width for it, the tree keeping
        the most (with its six columns in a third, folder names below /opt were cut to nothing)."""
        top = self._explorer.top
        sizes = top.sizes()
        total = sum(sizes)
        if len(sizes) == 3 and sizes[2] < total // 3 - 8:
            top.setSizes([total * 2 // 9, total * 4 // 9, total - total * 2 // 9 - total * 4 // 9])
        self.treemap.refresh()

    def _wanted(self, top: int, own: bool, folder: str, w: int, h: int) -> None:
        self.flow.request(top, own, folder, w, h, current_look())

    def _show_treemap(self, tm: object) -> None:
        if isinstance(tm, Treemap):
            self.treemap.show_treemap(tm)

    def _show_new_image(self) -> None:
        # the place may be the same (as many layers, the root) but the picture is another image's
        self.treemap.show_view(None, False)
        self._show_view()

    def _show_view(self) -> None:
        view = self._controller.view
        if view is None:
            self.treemap.show_view(None, False)
            return

        def holds(path: str) -> bool:  # a folder of the new view: the zoom stays on it
            try:
                return view.row(path).type is EntryType.DIR
            except KeyError:
                return False

        self.treemap.show_view(view.top, view.layer_view, holds)

    def _row_selected(self, row: Row) -> None:
        self.treemap.select_path(row.path)

    def _loading(self) -> None:
        self.overview.show_overview(None, reading=True)
        self._explorer.waste_panel.show_space(None, None)
        bars = self._explorer.timeline.timeline_model
        if bars.has_bars:
            bars.set_layer_bars([])  # the old image's, on the new layers
        # beside the new image's layers, the old image's picture would read as the new one's
        self.treemap.show_view(None, False)
        self.treemap.view.placeholder = "Reading the image…"

    def _show_info(self) -> None:
        info = self.flow.info
        ex = self._explorer
        if info is None:
            self.overview.show_overview(None, reading=self._controller.session is not None)
            ex.waste_panel.show_space(None, None)
            ex.timeline.timeline_model.set_layer_bars([])
            return
        self.overview.show_overview(info.overview)
        ex.waste_panel.show_space(info.waste, info.headline)
        ex.timeline.timeline_model.set_layer_bars(info.bars)

    def clear(self) -> None:
        """The window closes: let go of the image."""
        self.flow.close()
        self.treemap.show_view(None, False)
        self.overview.show_overview(None)
        self._explorer.waste_panel.show_space(None, None)
