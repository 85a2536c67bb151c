"""The window's controller: the one owner of every job, and of the state the panels show.

Opening an archive, picking and loading an image, computing a layer's view, searching it, previewing
a file and exporting each run as a ``Job`` (gui/worker.py) on a channel (gui/jobs.py). Starting a
job drops the job it replaces and the jobs that depend on it (a new image replaces every other job;
a new view replaces the search and the preview): a signal from a job that is no longer the live one
of its channel is ignored, so a superseded job never reaches the panels. The state (archive, image,
session, layer, view mode, hide-unmodified, filter) lives here only; panels render the signals below
and never start jobs themselves. A new archive or image is committed only once it is loaded: until
then, and when it fails or is cancelled, the controller still describes what was shown before.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QTimer, Signal

from layerscope.core.archive.records import Archive, ImageRecord
from layerscope.core.display import plural
from layerscope.core.errors import LayerScopeError
from layerscope.core.export.result import ExportResult
from layerscope.core.export.spec import ExportSpec, run
from layerscope.core.layers.index import LayerIndex
from layerscope.core.preview import Preview, preview
from layerscope.core.progress import check_cancelled
from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.core.session import LoadedImage, load
from layerscope.core.sources.open import SourceOptions, open_source
from layerscope.core.sources.reference import Reference, SourceKind, parse_reference
from layerscope.core.views import FileView, Row

from . import credentials, settings
from .after_load import AfterLoad
from .auditor import Auditor
from .content import content_source
from .jobs import Channels, Slot
from .packages_model import PackageInfo
from .panels.waste import WasteRows
from .release import free_later, releases_pending
from .worker import Job


class Channel(StrEnum):
    """What a job is for; one live job per channel."""

    IMAGE = "image"  # open an archive, then load one of its images
    VIEW = "view"  # the tree of one layer, merged or its own changes
    SEARCH = "search"  # the filter over the current view
    PREVIEW = "preview"  # the selected file's first bytes
    EXPORT = "export"


_REPLACES: dict[Channel, tuple[Channel, ...]] = {
    Channel.IMAGE: tuple(Channel),
    Channel.VIEW: (Channel.VIEW, Channel.SEARCH, Channel.PREVIEW),
    Channel.SEARCH: (Channel.SEARCH,),
    Channel.PREVIEW: (Channel.PREVIEW,),
    Channel.EXPORT: (Channel.EXPORT,),
}
"""The jobs a new job on a channel cancels (and whose late signals are then dropped)."""

_WITH_PROGRESS = (Channel.IMAGE, Channel.EXPORT)
"""Channels whose jobs show the progress bar and the Cancel button."""


class Controller(QObject):
    """Owns the jobs and the state of one window; see the module docstring."""

    busy = Signal(str)  # a job with progress started: what it does
    progressed = Signal(str, int, int)  # stage, done, total of the job with progress
    idle = Signal()  # no job with progress runs any more
    loading = Signal(object, object)  # ImageRecord, {layer: size}: this image is being read
    sizes_read = Signal(object)  # {layer: uncompressed size} of the image being read, its layers indexed
    image_loaded = Signal()  # a new image is shown: archive, image, session and view are set
    restored = Signal()  # an open ended without a new image: show the state as it still is
    loaded = Signal()  # an open ended, one way or the other
    failed = Signal(str)  # a job failed: its one-line message (also in ``error``)
    cancelled = Signal()  # a job was cancelled by the user
    layer_changed = Signal(int)
    mode_changed = Signal(bool)  # True: the layer's own changes; False: merged
    hide_unmodified_changed = Signal(bool)
    view_changed = Signal()  # ``view`` is the view of (current_layer, own_changes)
    matches = Signal(list, object)  # the filter's hits and their ancestor folders, in ``view``
    filter_cleared = Signal()  # no filter any more (also on a new image)
    filter_invalid = Signal(str)  # why the regular expression does not compile
    preview_ready = Signal(object)  # a Preview of the selected file
    preview_failed = Signal(str)
    exported = Signal(object)  # an ExportResult
    export_started = Signal(object)  # the destination Path of an export that starts
    export_progressed = Signal(int, int)  # bytes written, of the total, by the running export
    export_ended = Signal()  # the export ended, one way or the other (then exported, failed or cancelled)
    note = Signal(str)  # a transient message for the status bar
    waste_ready = Signal()  # ``waste_rows`` (the Waste table of ``session``) are ready
    prepared = Signal()  # the views of every layer of ``session`` are quick to show now
    packages_ready = Signal()  # ``packages`` changed: the build steps and the OS, then the packages

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None  # the file of the image shown (None: an engine or a registry)
        self.source: Reference | None = None  # what the image shown was opened by
        self.archive: Archive | None = None
        self.image: ImageRecord | None = None
        self.session: LoadedImage | None = None
        self.view: FileView | None = None
        self.waste_rows: WasteRows | None = (
            None  # the Waste table of ``session``, prepared off the GUI thread
        )
        self.current_layer: int | None = None
        self.own_changes = False
        self.hide_unmodified = False
        self.filter_text = ""
        self.regex = False
        self.error: str | None = None
        self.last_export: ExportResult | None = None
        self.pick_image: Callable[[Archive], int | None] = lambda _archive: 0
        self.pick_platform: Callable[[str, list[str]], str | None] = lambda _ref, platforms: platforms[0]
        """Which platform of a multi-platform registry image (None: the user cancelled)."""
        self.ask_credentials: Callable[[str, str], credentials.Given | None] = lambda _reg, _why: None
        """USER:PASS for a registry that asked who the user is (None: the user cancelled)."""
        self._jobs = Channels(self, _REPLACES)
        for channel in _WITH_PROGRESS:  # the progress bar goes once none of them runs
            self._jobs.slots[channel].ended.connect(self._after_end)
        self._resources = ExitStack()  # the sample image's file, while the window lives
        self._sample: Path | None = None
        self._reading: ImageRecord | None = None  # the image being read (its timeline is shown)
        self._reading_source: Reference | None = None  # where it comes from
        self._asked_layer: int | None = None  # a layer of it the user chose while it was read
        self.packages: PackageInfo | None = None  # of ``session``: its build steps, OS and packages
        self.after_load = AfterLoad(self)  # the Waste rows, the lower layers' views, the packages
        # the audit of ``session`` (the Findings tab): it starts once the replaced image is freed and the
        # after-load and package jobs are done (three busy threads beside the GUI's stall its event loop)
        self.auditor = Auditor(
            self,
            lambda: releases_pending() or self.after_load.preparing or self.after_load.reading_packages,
        )

    @property
    def reading(self) -> bool:
        """An image is being read; its timeline is shown (a layer chosen now is shown once it is loaded)."""
        return self._reading is not None

    @property
    def reading_image(self) -> ImageRecord | None:
        """The image being read (its timeline is shown), if any."""
        return self._reading

    @property
    def asked_layer(self) -> int | None:
        """The layer the user chose in the timeline of the image being read, if any."""
        return self._asked_layer

    @property
    def sample_path(self) -> Path | None:
        """The sample image's (temporary) file, once it was opened in this window."""
        return self._sample

    # ---- the job machinery ------------------------------------------------------------------
    def running(self, channel: Channel) -> bool:
        return self._jobs.running(channel)

    def cancel(self) -> None:
        """The user's Cancel: every running job stops; each still reports that it was cancelled."""
        self._jobs.cancel()

    def _drop(self, channel: Channel) -> None:
        """Cancel the job on ``channel``; its later signals are dropped."""
        self._jobs.drop(channel)

    def _start(
        self,
        channel: Channel,
        job: Job,
        done: Slot,
        *,
        text: str | None = None,
        partial: Slot | None = None,
        progress: Slot | None = None,
        on_end: Callable[[], None] | None = None,
        discard: Slot | None = None,
    ) -> Job:
        """Run ``job`` as the live job of ``channel``: ``done(result)`` when it finishes while live,
        ``on_end()`` when it ends any other way (failed, cancelled or superseded), ``discard(result)``
        when it finishes after it was superseded. ``text``: it shows the progress bar."""
        shown = progress
        if text is not None:  # the status bar's progress, and the caller's own if it has one
            own = progress

            def shown(stage: str, done: int, total: int) -> None:
                self.progressed.emit(stage, done, total)
                if own is not None:
                    own(stage, done, total)

            self.busy.emit(text)
        return self._jobs.start(
            channel,
            job,
            done,
            lambda message: self._failed(channel, message),
            lambda: self._cancelled(channel),
            progress=shown,
            partial=partial,
            discard=discard,
            on_end=on_end,
        )

    def _after_end(self) -> None:
        if not any(map(self.running, _WITH_PROGRESS)):
            self.idle.emit()

    def _failed(self, channel: Channel, message: str) -> None:
        if channel is Channel.PREVIEW:
            self.preview_failed.emit(message)
            return
        self.error = message
        self.failed.emit(message)
        if channel is Channel.IMAGE:
            self._open_ended()

    def _cancelled(self, channel: Channel) -> None:
        if channel in _WITH_PROGRESS:
            self.cancelled.emit()
            self.note.emit("Cancelled")
        if channel is Channel.IMAGE:
            self._open_ended()

    def _open_ended(self) -> None:
        """An open or load ended without a new image: the old one (or the drop zone) stays."""
        self._reading = self._asked_layer = None
        self.restored.emit()
        self.loaded.emit()
        if self.session is not None:
            self.after_load.resume(self.session)  # the load that stopped it did not replace the image
        self.auditor.resume(self.session, self.path)

    # ---- open, pick, load ---------------------------------------------------------------------
    @property
    def shown_name(self) -> str | None:
        """What the image shown is called in the title: the file's name, else the reference."""
        if self.session is None or self.source is None:
            return None
        return _name_of(self.source)

    @property
    def reading_name(self) -> str | None:
        """What the image being read is called, as ``shown_name`` names the one shown."""
        if self._reading is None or self._reading_source is None:
            return None
        return _name_of(self._reading_source)

    def open_path(self, path: Path, remember: bool = True) -> None:
        """Open the archive at ``path`` and load its image (asking which, when it holds several)."""
        target = str(Path(path))
        self._open(Reference(SourceKind.FILE, target, path=target), SourceOptions(), remember)

    def open_reference(self, text: str, options: SourceOptions | None = None, remember: bool = True) -> None:
        """Open what ``text`` names (a path, ``docker://...``, ``docker-daemon:...``, ``podman:...``) and
        load its image; a malformed reference fails at once, with its one-line message."""
        self.error = None
        try:
            ref = parse_reference(text)
        except LayerScopeError as exc:
            self._failed(Channel.IMAGE, str(exc))
            return
        opts = options or SourceOptions()
        if ref.name is not None and ref.kind is SourceKind.REGISTRY and opts.creds is None:
            known = credentials.credentials_for(ref.name.registry)
            if known is not None:
                opts = dataclasses.replace(opts, creds=known)
        self._open(ref, opts, remember)

    def _open(self, ref: Reference, opts: SourceOptions, remember: bool) -> None:
        self.error = None

        def work(job: Job) -> Archive | _Asked:
            if ref.kind is SourceKind.REGISTRY:
                from layerscope.core.sources.registry.open import AuthRequired, list_platforms

                try:
                    if opts.platform is None:
                        platforms = list_platforms(ref, opts)
                        if len(platforms) > 1:
                            return _Asked(platforms=platforms)
                    return open_source(ref, opts, progress=job.progress, cancelled=job.cancelled)
                except AuthRequired as exc:
                    return _Asked(registry=exc.registry, why=exc.message)
            return open_source(ref, opts, progress=job.progress, cancelled=job.cancelled)

        def opened(result: Archive | _Asked) -> None:
            if isinstance(result, Archive):
                self._archive_opened(ref, remember, result)
            else:
                self._ask(ref, opts, remember, result)

        name = Path(ref.path).name if ref.path is not None else ref.text
        self._start(
            Channel.IMAGE,
            Job(work, "open"),
            opened,
            text=f"Opening {name}",
            discard=lambda result: result.close() if isinstance(result, Archive) else None,
        )

    def _ask(self, ref: Reference, opts: SourceOptions, remember: bool, asked: _Asked) -> None:
        """The registry needs the user first: a platform of a multi-platform image, or credentials.
        The open goes on with the answer (or ends as cancelled); a refused answer asks again."""
        if asked.platforms:
            platform = self.pick_platform(ref.text, asked.platforms)  # modal: another open may start
            options = dataclasses.replace(opts, platform=platform)
        else:
            given = self.ask_credentials(asked.registry, asked.why)
            platform = "" if given is not None else None
            if given is not None:
                credentials.keep(asked.registry, given.creds, given.remember)
            options = dataclasses.replace(opts, creds=given.creds if given is not None else None)
        if self.running(Channel.IMAGE):
            return
        if platform is None:
            self.cancelled.emit()
            self.note.emit("Cancelled")
            self._open_ended()
            return
        self._open(ref, options, remember)

    def open_sample(self) -> None:
        """Open the sample image that comes with LayerScope (not remembered among recent files)."""
        if self._sample is None:
            self._sample = self._resources.enter_context(resource_path(SAMPLE_IMAGE))
        self.open_path(self._sample, remember=False)

    def close(self) -> None:
        """The window closes: every job stops, the image and the sample's file are released."""
        self.cancel()
        self.after_load.stop()
        self.auditor.clear()
        for channel in Channel:  # what they still send is dropped; an image never shown closes its archive
            self._jobs.drop(channel)
        if self.session is not None:
            self.session.release()
        self.discard([self.session, self.view, self.waste_rows, self.packages], collect=True)
        self.session, self.view, self.waste_rows, self.packages = None, None, None, None
        self.archive = self.image = None
        self._resources.close()
        self._sample = None

    def _archive_opened(self, path: Reference, remember: bool, archive: Archive) -> None:
        choice = 0
        if len(archive.images) > 1:
            picked = self.pick_image(archive)  # a modal dialog: another open may start meanwhile
            if self.running(Channel.IMAGE):
                archive.close()
                return
            if picked is None:
                archive.close()
                self.cancelled.emit()
                self.note.emit("Cancelled")
                self._open_ended()
                return
            choice = picked
        self._load(archive, choice, path, remember)

    def load_image(self, n: int) -> None:
        """Load image ``n`` of the open archive (the image chooser)."""
        if self.archive is not None and self.source is not None:
            self._load(self.archive, n, self.source, remember=False)

    def _load(self, archive: Archive, n: int, path: Reference, remember: bool) -> None:
        image = archive.images[n]
        previous = self.session  # its layer indexes serve the other images of the same archive
        cache = previous.cache if previous is not None and previous.archive is archive else None
        own = self.own_changes

        def work(job: Job) -> tuple[LoadedImage, FileView]:
            s = load(
                archive,
                image,
                job.progress,
                job.cancelled,
                on_layers=lambda layers: job.emit_partial("layers", layers),
                cache=cache,
                keep=False,  # kept in the persistent cache after, in the background (gui/after_load.py)
            )
            check_cancelled(job.cancelled)
            view = s.view(len(s.layers) - 1, own_changes=own, cancelled=job.cancelled)
            check_cancelled(job.cancelled)
            return s, view  # the Waste table's rows follow (gui/after_load.py)

        def loaded(result: tuple[LoadedImage, FileView]) -> None:
            self._image_loaded(path, remember, result)

        def partial(kind: str, value: object) -> None:
            if kind == "layers":
                layers = cast(list[LayerIndex], value)  # what load() hands to on_layers
                self.sizes_read.emit({li.index: li.uncompressed_size for li in layers})

        def forget() -> None:
            if archive is not self.archive:
                archive.close()  # never shown: release its file

        self.after_load.stop()
        self.auditor.stop()
        if previous is not None:
            # less memory at the peak (two images at once): the old image's merges for lower layers
            # go now (made again if it stays, because this load fails); the view shown keeps its own
            self.discard(list(previous.drop_merges()))
        del previous
        self._reading, self._asked_layer, self._reading_source = image, None, path
        self.loading.emit(image, {d.index: d.size for d in image.layers})
        self._start(
            Channel.IMAGE,
            Job(work, "load"),
            loaded,
            text=f"Reading {plural(len(image.layers), 'layer')}",
            partial=partial,
            on_end=forget,
        )

    def _image_loaded(self, ref: Reference, remember: bool, result: tuple[LoadedImage, FileView]) -> None:
        session, view = result
        if remember:  # on the event loop's next turn: the settings file is read and written (5-20 ms)
            entry = ref.path if ref.kind.is_file and ref.path else ref.text
            QTimer.singleShot(0, lambda: settings.add_recent(entry))
        old: list[object] = [self.session, self.view, self.waste_rows, self.packages]
        self.packages = None
        if self.session is not None and self.session.archive is not session.archive:
            self.session.release()  # its archive is closed: file handles, temporary files
        self.path = Path(ref.path) if ref.path is not None else None
        self.source, self.archive, self.image = ref, session.archive, session.image
        self.session, self.view, self.waste_rows = session, view, None
        top = len(session.layers) - 1
        asked = self._asked_layer
        self._reading = self._asked_layer = None
        self.current_layer = top
        self.error = None
        self.filter_text = ""  # a filter belongs to the image it was typed for
        self.image_loaded.emit()
        self.filter_cleared.emit()
        self.loaded.emit()
        self.discard(old)
        self.after_load.start(session)
        self.auditor.start(session, self.path)
        if asked is not None and 0 <= asked < top:
            self.show(asked, self.own_changes)  # the layer the user chose while the image was read

    def discard(self, holder: list[object], collect: bool = False) -> None:
        """What ``holder`` holds is no longer shown (the panels have let go of it): free it off the GUI
        thread, piece by piece (core.session.dismantle), once this slot has returned (so that no
        local reference remains), then give the memory back to the system; with ``collect`` (the
        window closes) also collect the cycles frozen by the loads (a pass over every object)."""
        QTimer.singleShot(0, lambda: free_later(holder, collect))  # not tied to this (closing) window

    # ---- the view of a layer -------------------------------------------------------------------
    def select_layer(self, layer: int) -> None:
        """Show ``layer`` in the current mode."""
        self.show(layer, self.own_changes)

    def set_own_changes(self, own: bool) -> None:
        """Switch between the layer's own changes (True) and the merged filesystem (False)."""
        if self.current_layer is not None:
            self.show(self.current_layer, own)

    def show(self, layer: int, own: bool) -> bool:
        """Compute the view of ``layer`` (its own changes or merged) off the GUI thread; False (and
        nothing happens) without an image, or while another image is being read."""
        s = self.session
        if self._reading is not None:
            # the timeline shows the image being read: its layer is shown once it is loaded
            self._asked_layer = layer
            return False
        if s is None or self.running(Channel.IMAGE):
            return False
        if layer != self.current_layer:
            self.current_layer = layer
            self.layer_changed.emit(layer)
        if own != self.own_changes:
            self.own_changes = own
            self.mode_changed.emit(own)

        def work(job: Job) -> FileView:
            return s.view(layer, own_changes=own, cancelled=job.cancelled)

        self._start(Channel.VIEW, Job(work, "view"), self._view_computed)
        return True

    def _view_computed(self, view: FileView) -> None:
        old: list[object] = [self.view]
        self.view = view
        self.view_changed.emit()
        if self.filter_text:
            self._search()
        self.discard(old)  # a view of a large image takes 0.1 s to free: not on the GUI thread

    def set_hide_unmodified(self, on: bool) -> None:
        self.hide_unmodified = on
        self.hide_unmodified_changed.emit(on)
        if self.filter_text:
            self._search()

    # ---- the filter ------------------------------------------------------------------------------
    def set_filter(self, text: str, regex: bool) -> None:
        """Filter the current view (and the views that follow) by ``text``, a substring or a regex."""
        self.filter_text, self.regex = text, regex
        self._search()

    def _search(self) -> None:
        view, text, regex = self.view, self.filter_text, self.regex
        self._drop(Channel.SEARCH)
        if view is None:
            return
        if not text:
            self.filter_cleared.emit()
            return
        if regex:
            try:
                re.compile(text)
            except re.error as exc:
                self.filter_invalid.emit(f"Invalid regular expression: {exc}")
                self.note.emit(f"Invalid regular expression: {exc}")
                return

        def work(_job: Job) -> tuple[list[str], set[str]]:
            return view.search(text, regex)

        def found(result: tuple[list[str], set[str]]) -> None:
            if view is self.view:
                n = len(result[0])
                self.matches.emit(result[0], result[1])
                self.note.emit(f"{n:,} match{'es' if n != 1 else ''} for “{text}”")

        self._start(Channel.SEARCH, Job(work, "search"), found)

    # ---- preview and export ---------------------------------------------------------------------
    def preview(self, row: Row) -> bool:
        """Read the first bytes of ``row`` off the GUI thread; False when it has no content to show."""
        self._drop(Channel.PREVIEW)
        s = self.session
        src = content_source(s, row) if s is not None else None
        if s is None or src is None:
            return False
        layer, entry = src

        def work(_job: Job) -> Preview:
            return preview(s.archive, s.layers[layer], entry, row.name)

        self._start(Channel.PREVIEW, Job(work, "preview"), self.preview_ready.emit)
        return True

    def export(self, spec: ExportSpec) -> Job:
        """Export with progress and cancel; ``exported`` then carries what was written and skipped."""
        s = self.session
        assert s is not None
        name = spec.dest.name

        def work(job: Job) -> ExportResult:
            def prog(done: int, total: int) -> None:
                job.progress(f"exporting to {name}", done, total)

            return run(spec, s, prog, job.cancelled)

        self.export_started.emit(spec.dest)
        return self._start(
            Channel.EXPORT,
            Job(work, "export"),
            self._exported,
            text=f"Exporting to {name}",
            progress=lambda _stage, done, total: self.export_progressed.emit(done, total),
            on_end=self.export_ended.emit,
        )

    def cancel_export(self) -> None:
        """Cancel the export only (the export dialog's Cancel)."""
        self._jobs.cancel(Channel.EXPORT)

    def _exported(self, result: ExportResult) -> None:
        self.export_ended.emit()
        self.last_export = result
        self.note.emit(result.summary())
        self.exported.emit(result)


@dataclasses.dataclass(frozen=True, slots=True)
class _Asked:
    """An open that needs the user: which platform (``platforms``), or who they are (``registry``)."""

    platforms: list[str] = dataclasses.field(default_factory=list)
    registry: str = ""
    why: str = ""


def _name_of(ref: Reference) -> str:
    """A reference as the window's title names it: the file's name, else the reference."""
    return Path(ref.path).name if ref.path is not None else ref.text
