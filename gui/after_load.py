"""What follows a load in the background, once the tree is usable.

The Waste table's rows (``Controller.waste_rows``, ``waste_ready``), then the views that make the
first switch to another layer as quick as the next (``prepared``), then the image's build steps, OS
and packages (``Controller.packages``, ``packages_ready``); last, apart, the keeping of the merged
tree and folder records in the persistent cache (``_keep``: nothing waits for it). Each is a job this
flow owns; a new image (``stop``) stops them and drops what they still send, and a read that ends
without replacing the image runs again what it stopped (``resume``). The results live on the
controller, the window's state; the panels follow its signals.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, QTimer

from layerscope.core.errors import LayerScopeError
from layerscope.core.session import LoadedImage, quiet_gc

from .packages_model import PackageInfo
from .panels.waste import WasteRows
from .release import releases_pending
from .worker import Job, courteous

if TYPE_CHECKING:
    from .controller import Controller
    from .jobs import Slot


class AfterLoad:
    """The background jobs after one window's loads (see the module docstring)."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller
        self._warming: Job | None = None  # prepares the Waste table and the lower layers' views
        self._warming_token: object | None = None  # the live one's
        self._packaging: tuple[Job, object] | None = None  # the package job of the image and its token
        self._keeping: Job | None = None  # keeps what the load made in the persistent cache (_keep)
        self._prepared: Callable[[], LoadedImage | None] | None = None  # the image prepare finished for

    @property
    def reading_packages(self) -> bool:
        """A package job of the image shown runs."""
        return self._packaging is not None

    def start(self, session: LoadedImage) -> None:
        """``session`` is shown: prepare its Waste rows and views, then read its packages."""
        self.prepare(session)
        self.read_packages(session)

    def stop(self) -> None:
        """Another image is being read, or the window closes: stop every job (their results are dropped)."""
        self._stop_preparing()
        self._stop_packages()

    def prepare(self, session: LoadedImage) -> None:
        """What follows a load in the background, once the tree is usable: the Waste table's rows
        (``waste_ready``), then what makes the first switch to another layer as quick as the next
        (core.session.LoadedImage.prepare_views; ``prepared``)."""
        c = self._controller

        def work(job: Job) -> None:
            # after the replaced image is freed: made while it is taken apart, these would be
            # spread over its freed pages, which malloc_trim then cannot give back
            while releases_pending() and not job.cancelled():
                time.sleep(0.05)
            with quiet_gc():
                rows = WasteRows.prepare(session, courteous(job.cancelled))  # every row's cells
            job.emit_partial("waste", rows)
            del rows
            session.prepare_views(courteous(job.cancelled))  # pauses for a treemap's job

        # the slots hold neither the session nor the job (a cycle with the job, frozen out of the
        # cyclic GC by the next load, would keep the image for ever)
        shown = weakref.ref(session)
        token = object()

        def partial(_kind: str, rows: object) -> None:
            if self._warming_token is token and shown() is c.session:
                old: list[object] = [c.waste_rows]
                c.waste_rows = cast(WasteRows, rows)
                c.waste_ready.emit()
                c.discard(old)
            else:
                c.discard([rows])  # a superseded image's rows: freed off the GUI thread too

        def finished(*_result: object) -> None:
            if self._warming_token is token:
                self._warming = self._warming_token = None
                self._prepared = shown
                c.prepared.emit()
                live = shown()
                if live is not None and live is c.session:
                    self._keep(live)

        job = Job(work, "after load")
        self._warming, self._warming_token = job, token
        job.partial.connect(partial)
        job.finished.connect(finished)
        job.failed.connect(finished)  # as good as it gets (a switch makes what is missing)
        self._prepared = None
        QTimer.singleShot(0, job.start)  # after the release job that ``discard`` starts

    def resume(self, session: LoadedImage) -> None:
        """A read of another image ended without replacing ``session``: what it stopped of this one's
        background work runs again (the preparation, else the keeping in the cache; the packages)."""
        if not (self.preparing or self._keeping is not None):
            if self._prepared is None or self._prepared() is not session:
                self.prepare(session)  # first: the packages' second job waits for its end
            elif session.unkept:
                self._keep(session)
        packages = self._controller.packages
        if (packages is None or not packages.done) and not self.reading_packages:
            self.read_packages(session)

    def _keep(self, session: LoadedImage) -> None:
        """Keep in the persistent cache what the load made (``keep_in_cache``: the merged tree, the
        folder records; up to a second on a large image), last and apart from the rest, so that
        nothing waits for it; a new image (``stop``) cancels it between its parts."""

        def work(job: Job) -> None:
            session.keep_in_cache(courteous(job.cancelled))

        if self._keeping is not None:
            return
        job = Job(work, "keep in cache")
        self._keeping = job
        job.finished.connect(lambda *_r: self._kept(job))
        job.failed.connect(lambda *_r: self._kept(job))
        job.cancelled_.connect(lambda *_r: self._kept(job))
        job.start()

    def _kept(self, job: Job) -> None:
        if self._keeping is job:
            self._keeping = None

    @property
    def preparing(self) -> bool:
        """The Waste table's rows or the lower layers' views are still being made (``prepare``)."""
        return self._warming is not None

    def _stop_preparing(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            self._warming = self._warming_token = None
        if self._keeping is not None:
            self._keeping.cancel()
            self._keeping = None

    def read_packages(self, session: LoadedImage) -> None:
        """Read ``session``'s build steps and OS (a few small reads) in the background, then its
        packages in a second job, started once ``prepare``'s job is done (two busy workers
        would slow the window down on two cores; a job that waited would hold a pool thread);
        ``packages_ready`` after each. A new image stops them, and drops what they still send."""
        c = self._controller
        self._stop_packages()
        shown = weakref.ref(session)  # the slots hold neither the session nor the jobs (prepare)
        token = object()

        def live() -> bool:
            return self._packaging is not None and self._packaging[1] is token and shown() is c.session

        def show(info: object) -> None:
            if live():
                c.packages = cast(PackageInfo, info)  # the one it replaces is small: the steps, the OS
                c.packages_ready.emit()

        def ended(*_result: object) -> None:
            if self._packaging is not None and self._packaging[1] is token:
                self._packaging = None

        def failed(why: str) -> None:
            if live():
                show((c.packages or PackageInfo(None, None)).failing(why))
            ended()

        def run(work: Callable[[Job], PackageInfo], done: Slot) -> None:
            job = Job(work, "packages")
            self._packaging = (job, token)
            job.finished.connect(done)
            job.failed.connect(failed)
            job.cancelled_.connect(ended)
            job.start()

        def read(first: PackageInfo) -> None:
            s = shown()
            if s is None or not live():
                return

            def work(job: Job) -> PackageInfo:
                try:
                    with quiet_gc():
                        return first.completed(s, job.progress, courteous(job.cancelled))  # a treemap first
                except LayerScopeError as exc:
                    return first.failing(str(exc))

            def done(info: object) -> None:
                show(info)
                ended()

            run(work, done)

        def started(first: object) -> None:
            show(first)
            if not live():
                return
            if self._warming is None:
                read(cast(PackageInfo, first))
            else:  # once: a later image's ``prepared`` finds this one not live
                c.prepared.connect(
                    lambda: read(cast(PackageInfo, first)), Qt.ConnectionType.SingleShotConnection
                )

        run(lambda _job: PackageInfo.started(session), started)

    def _stop_packages(self) -> None:
        if self._packaging is not None:
            self._packaging[0].cancel()
            self._packaging = None
