"""Where the bytes went, for the treemap, the timeline's bars, the Waste tab's groups and the overview:
the jobs that make them, off the GUI thread, following the controller's rules (gui/controller.py).

Two jobs, each the one live job of its ``jobs.JobSlot``; a result of a job that is no longer the
live one (a new image, another view, another zoom or size) is dropped (a superseded picture is still
kept, for Back). The image
job runs once per image after the load: the top's ``SpaceUsage``, ``explain_waste``, ``layer_bars``
and the overview. The layout job makes the treemap of one folder of one view (merged up to a layer,
or a layer's own changes) at one size: the view's usage when it is not kept yet (a few are kept),
the layout, and the picture itself (``render`` into a QImage: painting on an image is allowed off
the GUI thread). The GUI thread only draws a picture. The last few pictures are kept: going Back (or
into a folder seen before) at the same size and look shows one without a job.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage

from layerscope.core.progress import check_cancelled
from layerscope.core.session import LoadedImage
from layerscope.core.space.layers import LayerBar, layer_bars
from layerscope.core.space.overview import ImageOverview, image_overview
from layerscope.core.space.squarify import Rect, Tile, layout
from layerscope.core.space.usage import SpaceUsage, usage_of_layer, usage_of_tree, usage_of_view
from layerscope.core.space.waste_groups import WasteExplained, WasteHeadline, explain_waste, waste_headline

from .controller import Controller
from .jobs import JobSlot
from .release import releases_pending
from .worker import Job, courteous, foreground

KEPT_USAGES = 4
"""Views whose usage is kept (the top's merged one, and the last few others asked for)."""
KEPT_PICTURES = 6
"""Pictures kept for going Back (and for a folder zoomed into again) at the same size and look: about
4 MB each at 1200 x 800."""
ZOOMS_PREPARED = 3
"""The biggest folders of the root whose zoom the image job prepares (their children sorted)."""
HEADER = 15.0
"""The height of a folder's name strip, in pixels."""


@dataclass(frozen=True, slots=True)
class SpaceInfo:
    """What the image job found about one image."""

    usage: SpaceUsage  # of the top's merged filesystem
    waste: WasteExplained
    headline: WasteHeadline
    bars: list[LayerBar]
    overview: ImageOverview


class _Usages(OrderedDict[tuple[int, bool], SpaceUsage]):
    """The usages of one image's views, by (top, own changes); ``owner`` is that image."""

    def __init__(self, owner: weakref.ref[LoadedImage] | None) -> None:
        super().__init__()
        self.owner = owner


@dataclass(frozen=True, slots=True)
class Look:
    """What a picture is painted with, read on the GUI thread (the palette, the layer tints)."""

    tints: tuple[str, ...]
    base: str
    text_dark: bool  # the text on tints is black (light tints) rather than white
    other: str
    line: str
    font: Any = None  # a QFont, or None for the default


@dataclass(frozen=True, slots=True)
class Treemap:
    """One laid-out, painted treemap: ``folder`` of the view (``top``, ``own``) at ``size``."""

    top: int
    own: bool
    folder: str
    size: tuple[int, int]
    tiles: list[Tile]
    image: QImage
    usage: SpaceUsage


class SpaceFlow(QObject):
    """The jobs of the space views of one window (see the module docstring)."""

    info_ready = Signal()  # ``info`` is the image's (None: no image)
    treemap_ready = Signal(object)  # a Treemap of what was last asked for
    failed = Signal(str)

    def __init__(self, controller: Controller, render: Callable[..., None]) -> None:
        super().__init__(controller)
        self._controller = controller
        self._render = render  # (painter, tiles, look, w, h, folder) -> None: gui/panels/treemap.py
        self.info: SpaceInfo | None = None
        self._usages = _Usages(None)  # of the image shown
        self._making = threading.Lock()  # one usage made at a time: a second asker waits for it
        # the treemap's own thread: the global pool's two threads may both be busy with warm-up jobs
        # for seconds after a load, and a zoom must not wait in its queue
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._layouts = JobSlot(self)  # the treemap's pictures, on ``_pool``
        self._findings = JobSlot(self)  # the image's usage, waste groups, bars and overview
        self._requests = 0  # layout requests and stops: a kept picture is shown only if none came since
        self.asked: tuple[int, bool, str, int, int] | None = None  # top, own, folder, w, h
        # the last pictures of the image shown, by what was asked, with the look they were painted in
        self._pictures: OrderedDict[tuple[int, bool, str, int, int], tuple[Look, Treemap]] = OrderedDict()
        controller.image_loaded.connect(self._new_image)
        controller.loading.connect(lambda *_a: self._stop())
        controller.restored.connect(self._restore)

    # ---- the image job ----------------------------------------------------------------------------
    def _stop(self) -> None:
        self._requests += 1
        self._layouts.drop()
        self._findings.drop()
        if self._pictures:  # another image comes: what they hold (usages of lower layers) goes now
            self._controller.discard([self._pictures])
            self._pictures = OrderedDict()

    def _restore(self) -> None:
        """An open ended without a new image: the image shown's findings again (made again when the
        open stopped their job before it ended)."""
        if self._controller.session is None:
            return
        if self.info is not None:
            self.info_ready.emit()
        elif not self._findings.running:  # stopped by the read (an open that ended before reading
            self._new_image()  # an image stopped nothing: its job still runs)

    def _let_go(self) -> None:
        """Drop the shown image's usages and findings (its merged tree's folder sizes, the waste
        groups): freed off the GUI thread, where dropping them took 0.1-0.2 s on the 2 GB image."""
        s = self._controller.session
        holder: list[object] = [self._usages, self.info, self._pictures]  # (pictures hold usages)
        # one assignment: a job sees the old box (of the old image) or the new one, never a mix
        self._usages, self.info = _Usages(weakref.ref(s) if s is not None else None), None
        self._pictures = OrderedDict()
        self._controller.discard(holder)

    def _new_image(self) -> None:
        s = self._controller.session
        self._stop()
        self._let_go()
        self.asked = None
        self.info_ready.emit()
        if s is None:
            return
        shown = weakref.ref(s)

        def work(job: Job) -> SpaceInfo:
            while releases_pending() and not job.cancelled():  # as the controller's after-load jobs
                time.sleep(0.02)
            s2 = shown()
            check_cancelled(job.cancelled)
            assert s2 is not None
            usage = self._usage_for(s2, len(s2.layers) - 1, False, job)
            later = courteous(job.cancelled)  # a treemap the user waits for goes first
            check_cancelled(later)  # (its layout sorts what this one would: not both at once)
            area = Rect(0.0, 0.0, 1200.0, 800.0)
            tiles = layout(usage, "", area, header=HEADER)  # sorts what a root layout reads
            waste = explain_waste(s2.tree, s2.figures.base_layers, later)
            bars = layer_bars(s2.tree, s2.figures, later)
            overview = image_overview(s2, usage, waste, with_os=True, cancelled=later)
            info = SpaceInfo(usage, waste, waste_headline(s2.dive, s2.figures), bars, overview)
            job.emit_partial("info", info)  # shown now; then what a zoom would wait for
            # what a zoom into one of the biggest folders reads: a double-click is the next step
            big = sorted((t for t in tiles if t.folder and t.depth == 0 and t.path), key=lambda t: -t.bytes)
            for tile in big[:ZOOMS_PREPARED]:
                check_cancelled(later)
                assert tile.path is not None
                layout(usage, tile.path, area, header=HEADER)
            return info

        def show(info: SpaceInfo) -> None:
            if shown() is self._controller.session and self.info is None:
                self.info = info
                self.info_ready.emit()

        def partial(kind: str, value: object) -> None:
            if kind == "info":
                show(cast(SpaceInfo, value))

        def done(info: object) -> None:
            if shown() is self._controller.session:
                show(cast(SpaceInfo, info))
            else:
                discard(info)

        def discard(info: object) -> None:
            if info is not self.info:
                self._controller.discard([info])  # a superseded image's: freed off the GUI thread too

        self._findings.start(
            Job(work, "space"),
            done,
            self.failed.emit,
            lambda: None,
            partial=partial,
            discard=discard,
            launch=lambda job: QTimer.singleShot(0, job.start),
        )

    def _usage_for(self, s: LoadedImage, top: int, own: bool, job: Job) -> SpaceUsage:
        """The usage of a view, kept while ``s`` is shown (called from a job; one made at a time)."""
        key = (top, own)
        box = self._usages  # taken once: the image shown may change meanwhile
        got = box.get(key)
        if got is not None and box.owner is not None and box.owner() is s:
            return got
        with self._making:
            return self._make_usage(box, s, top, own, job)

    def _make_usage(self, box: _Usages, s: LoadedImage, top: int, own: bool, job: Job) -> SpaceUsage:
        key = (top, own)
        mine = box.owner is not None and box.owner() is s  # else another image came: keep nothing
        got = box.get(key) if mine else None
        if got is not None:
            return got  # made while this job waited
        if own:
            usage = usage_of_layer(s.tree, top, job.cancelled)
        elif top >= len(s.layers) - 1 and (view := s.top_view_made()) is not None:
            usage = usage_of_view(view)  # the folder sums the load made for the tree (no lock taken:
            # prepare_views holds it while it waits for foreground work such as this job)
        else:
            usage = usage_of_tree(s.merged_upto(top, job.cancelled), job.cancelled)
        if not mine:
            return usage
        box[key] = usage
        while len(box) > KEPT_USAGES:
            oldest = next(iter(box))
            if oldest == (len(s.layers) - 1, False):
                box.move_to_end(oldest)
                oldest = next(iter(box))
            box.pop(oldest, None)
        return usage

    # ---- the layout job ---------------------------------------------------------------------------
    def request(self, top: int, own: bool, folder: str, w: int, h: int, look: Look) -> bool:
        """Lay out and paint ``folder`` of the view (``top``, ``own``) at ``w`` x ``h`` off the GUI
        thread; ``treemap_ready`` then. False without
        an image. The job it replaces is cancelled and its results dropped."""
        s = self._controller.session
        if s is None or w < 4 or h < 4:
            return False
        asked = (top, own, folder, w, h)
        if asked == self.asked and self._layouts.running:
            return True  # that one is being made
        self.asked = asked
        self._requests += 1
        turn = self._requests
        self._layouts.drop()
        kept = self._pictures.get(asked)
        if kept is not None and kept[0] == look:  # Back, or a folder seen before: no job
            self._pictures.move_to_end(asked)
            picture = kept[1]

            def show_kept() -> None:  # unless another request (or a stop) came meanwhile
                if turn == self._requests:
                    self.treemap_ready.emit(picture)

            QTimer.singleShot(0, show_kept)
            return True
        shown = weakref.ref(s)
        render = self._render

        def work(job: Job) -> Treemap:
            with foreground():
                return lay_out(job)

        def lay_out(job: Job) -> Treemap:
            s2 = shown()
            check_cancelled(job.cancelled)
            assert s2 is not None
            usage = self._usage_for(s2, top, own, job)
            del s2
            rect = Rect(0.0, 0.0, float(w), float(h))
            tiles = layout(usage, folder, rect, header=HEADER)
            check_cancelled(job.cancelled)
            return Treemap(top, own, folder, (w, h), tiles, _paint(render, tiles, look, w, h, folder), usage)

        pictures = self._pictures  # of the image shown now (a new image brings a new box)

        def keep(result: object) -> None:  # a superseded picture too: Back may ask for it
            if shown() is self._controller.session and pictures is self._pictures:
                pictures[asked] = (look, cast(Treemap, result))
                while len(pictures) > KEPT_PICTURES:
                    pictures.popitem(last=False)
                usable = set(list(self._usages))  # a picture holds its usage: none past KEPT_USAGES
                for key in [k for k in pictures if (k[0], k[1]) not in usable]:
                    del pictures[key]

        def done(result: object) -> None:
            keep(result)
            if shown() is self._controller.session:
                self.treemap_ready.emit(result)

        self._layouts.start(
            Job(work, "treemap"), done, self.failed.emit, lambda: None, discard=keep, pool=self._pool
        )
        return True

    @property
    def busy(self) -> bool:
        """A layout job runs."""
        return self._layouts.running

    def close(self) -> None:
        """The window closes: stop, and let go of the image."""
        self._stop()
        self._let_go()


def _paint(render: Callable[..., None], tiles: list[Tile], look: Look, w: int, h: int, folder: str) -> QImage:
    from PySide6.QtGui import QPainter

    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    try:
        render(p, tiles, look, w, h, folder)
    finally:
        p.end()
    return img
