"""One image, loaded: its layers, the merged tree, the figures; merged views up to any layer.

The GUI and the CLI both go through ``load()`` so that a file is read, merged and analysed the same
way everywhere. Long steps report progress and honour a cancel check (core/progress.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .archive.records import Archive, ImageRecord
from .cache.figures import cached_figures
from .cache.fileformat import CacheKind
from .cache.merged import cached_merge
from .dive_figures import DiveFigures, dive_figures
from .layers.index import LayerCache, LayerIndex, load_image
from .merge import ImageTree, merge
from .progress import CancelCheck, StageProgress, check_cancelled, pause_point
from .views import FileView, LayerView, LevelView, MergedView, prepare_levels
from .waste import LayerScopeFigures, layerscope_figures


@dataclass(slots=True, weakref_slot=True)
class LoadedImage:
    """One image of an open archive, read, merged and analysed: what a window or a command shows.

    ``layers`` are the indexed layers bottom to top, ``tree`` all of them merged, ``dive`` and
    ``figures`` the two sets of waste figures. ``cache`` holds the layer indexes made for the archive:
    pass it to ``load`` for another image of the same archive so that shared layers are read once.
    Merges up to lower layers are made on demand and kept (``merged_upto``, for exports); the merged
    view of a lower layer is derived from the top's (``view``), without a merge.
    """

    archive: Archive
    image: ImageRecord
    layers: list[LayerIndex]
    tree: ImageTree
    dive: DiveFigures
    figures: LayerScopeFigures
    cache: LayerCache = field(default_factory=LayerCache)
    _trees: dict[int, ImageTree] = field(default_factory=dict)
    _files: int | None = None
    _top_view: MergedView | None = None
    _layer_views: dict[int, LayerView] = field(default_factory=dict)
    _unkept: set[CacheKind] = field(default_factory=set)  # what keep_in_cache has still to keep
    _views_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def warnings(self) -> list[str]:
        """Every warning met on the way: archive, image, layers, merge."""
        return [
            *self.archive.warnings,
            *self.image.warnings,
            *(w for li in self.layers for w in li.warnings),
            *self.tree.warnings,
        ]

    @property
    def files(self) -> int:
        """Paths of the final filesystem that are not folders (counted once, by ``load``)."""
        if self._files is None:
            self._files = sum(1 for n in self.tree.nodes.values() if not n.is_dir)
        return self._files

    def drop_merges(self) -> list[object]:
        """Let go of the merges and own-changes views made on demand (made again when asked); they are
        returned, for the caller to free them where a pause does not matter (``dismantle``)."""
        trees: list[object] = list(self._trees.values())
        self._trees.clear()
        trees.extend(self._layer_views.values())
        self._layer_views.clear()
        with self._views_lock:  # what the lower layers' merged views share (made again when asked)
            for kept in (self.tree.level_deltas, self.tree.level_names):
                trees.extend(kept.values())
                kept.clear()
        return trees

    def release(self) -> None:
        """This image is no longer shown: close its archive (file handles, temporary files). Its
        memory goes with the last reference (``dismantle`` frees it without a long pause)."""
        self.archive.close()

    def merged_upto(self, layer: int, cancelled: CancelCheck | None = None) -> ImageTree:
        """The merged tree of layers 0..layer (kept once made). Raises Cancelled, LayerScopeError."""
        if layer >= len(self.layers) - 1:
            return self.tree
        t = self._trees.get(layer)
        if t is None:
            t = merge(self.layers, upto=layer, archive=self.archive, cancelled=cancelled)
            self._trees[layer] = t
        return t

    def top_view_made(self) -> MergedView | None:
        """The top's merged view if it was made already (the load makes it), without waiting for the
        lock ``prepare_views`` holds: for work that must not wait behind it."""
        return self._top_view

    def view(self, layer: int, own_changes: bool, cancelled: CancelCheck | None = None) -> FileView:
        """Layer ``layer``'s own changes, or the merged filesystem up to it. Raises Cancelled."""
        with quiet_gc():
            if own_changes:
                return self._own_view(layer)
            with self._views_lock:  # one thread makes what the merged views share (prepare_views)
                top = self._top_view
                if top is None:
                    top = self._top_view = self._make_top_view()
                if layer >= len(self.layers) - 1:
                    return top
                return LevelView(top, layer)

    def _make_top_view(self) -> MergedView:
        """The top's merged view, its folder records read from the persistent cache (else made, and
        kept there when every layer's index was verified)."""
        store = self.cache.store
        sums = store.load_sums(self.image) if store is not None else None
        view = MergedView(self.tree, sums)
        if sums is None and store is not None:
            self._unkept.add(CacheKind.FOLDERS)
        return view

    def keep_in_cache(self, cancelled: CancelCheck | None = None) -> None:
        """Keep in the persistent cache what this image's load and top view made and did not find
        there (the merged tree, the folder records): the next open reads them instead. Up to a second
        on a large image, in turns: ``load`` does it unless told not to (the window does it after,
        in the background). Raises Cancelled (between its parts; what is not written yet stays to
        keep: ``unkept``)."""
        check_cancelled(cancelled)
        store = self.cache.store
        if store is None:
            self._unkept.clear()
            return
        keys = [self.cache.verified.get(d.key) for d in self.image.layers]
        with quiet_gc():
            if CacheKind.MERGE in self._unkept:
                store.save_merge(self.image, keys, self.tree, cancelled)
                self._unkept.discard(CacheKind.MERGE)  # written, or not to be written (unverified)
            check_cancelled(cancelled)
            top = self._top_view
            if CacheKind.FOLDERS in self._unkept and top is not None:
                store.save_sums(self.image, keys, top.folder_sums)
                self._unkept.discard(CacheKind.FOLDERS)

    @property
    def unkept(self) -> bool:
        """Whether ``keep_in_cache`` has something to keep (with the top's view made, for its
        folder records)."""
        return CacheKind.MERGE in self._unkept or (
            CacheKind.FOLDERS in self._unkept and self._top_view is not None
        )

    def _own_view(self, layer: int) -> LayerView:
        """Layer ``layer``'s own changes, kept once made while the image's changes are few enough
        (KEPT_CHANGES)."""
        v = self._layer_views.get(layer)
        if v is None:
            v = LayerView(self.tree, layer)
            if sum(map(len, self.tree.changes)) <= KEPT_CHANGES:
                self._layer_views[layer] = v
        return v

    def prepare_views(self, cancelled: CancelCheck | None = None) -> None:
        """Make what the merged views of the lower layers share (the top's view, each layer's
        records: one pass over the layers' undo records), so that a switch to one costs a few
        dictionary merges. Run it off the GUI thread after a load; ``view`` does it when needed."""
        with quiet_gc(), self._views_lock:
            if self._top_view is None:
                self._top_view = self._make_top_view()
            prepare_levels(self.tree, cancelled)
        for layer in range(len(self.layers) - 1, -1, -1):
            check_cancelled(cancelled)
            with quiet_gc():
                self._own_view(layer)


KEPT_CHANGES = 2_000_000
"""An image whose layers list at most this many changes in all keeps each layer's own-changes view
once made (about 150 bytes a change: 25 MB for the 2 GB benchmark image's 186k); a larger one makes
them again at each switch."""


_QUIET_LOCK = threading.Lock()
_quiet_depth = 0  # blocks inside quiet_gc, in any thread
_quiet_was_enabled = False  # the collector's state when the first of them began


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic-GC passes while a large image loads; afterwards its objects are frozen out of them.

    Loading creates a few hundred thousand long-lived objects and no garbage cycles (the engine's
    objects form none: a LoadedImage is freed by reference counting alone, frozen or not; a test
    checks it). Without this, each full collection walks them all (0.1-0.2 s on 186k entries,
    holding the GIL, so the GUI stalls), several times per load. Objects frozen are never examined
    by the cyclic GC: a cycle made by a caller before a freeze is only freed by ``release_memory``.

    The collector is one for the whole process, so the pause is shared: blocks in several threads
    (a load while the last image's package job ends) keep it off until the last of them ends, and
    it comes back only if it was on when the first began. (Each block turning it back on at its own
    end let the collector loose on a load still running: full passes of 0.2-0.3 s, growing with
    the load.) A block that raises freezes nothing of its own (its half-made objects hang on the
    traceback's frames, a cycle; frozen, they would never be freed), though a block still running
    elsewhere may freeze them when it ends.
    """
    global _quiet_depth, _quiet_was_enabled
    with _QUIET_LOCK:
        if _quiet_depth == 0:
            _quiet_was_enabled = gc.isenabled()
            gc.disable()
        _quiet_depth += 1
    ok = False
    try:
        yield
        ok = True
    finally:
        with _QUIET_LOCK:
            if ok:
                # frozen before enabled: in between, any thread's allocation would start a
                # collection of every object made in the block (a stall of the GUI)
                gc.freeze()
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_was_enabled:
                gc.enable()


DISMANTLE_CHUNK = 2048
"""Objects freed at once by ``dismantle``: a few milliseconds of deallocation between two chances
for other threads to take the GIL."""


def dismantle(holder: list[Any]) -> None:
    """Free the object in ``holder`` (taken out of it) piece by piece, instead of in one cascade.

    Dropping the last reference to a loaded image frees its million objects in one go, in C, holding
    the GIL for 0.1-0.2 s on 186k entries: a freeze of the GUI, whichever thread drops it. Here its
    containers are emptied ``DISMANTLE_CHUNK`` items at a time (run it in a worker thread). Only what
    this function holds the one reference to is taken apart: anything still referenced elsewhere
    (shared layer indexes, a view a window still shows) is left intact and merely let go of.
    """
    stack: list[Any] = [holder.pop()]
    while stack:
        o = stack.pop()
        if sys.getrefcount(o) > 2:  # o, and getrefcount's argument: anyone else still holds it
            continue
        if isinstance(o, dict):
            _drain_dict(o, stack)
        elif isinstance(o, list):
            _drain_list(o, stack)
        elif isinstance(o, set):
            _drain_set(o)
        else:
            _push_parts(o, stack)


def _worth_dismantling(v: object) -> bool:
    if isinstance(v, dict | list | set):
        return len(v) > 0
    return (type(v).__module__ or "").startswith(("layerscope.", "core.", "gui."))


def _drain_dict(d: dict[Any, Any], stack: list[Any]) -> None:
    small = len(d) <= 64  # a few parts (merges, layers): look inside them; else just free the items
    while d:
        pause_point()
        for _ in range(min(DISMANTLE_CHUNK, len(d))):
            v = d.popitem()[1]
            if small and _worth_dismantling(v):
                stack.append(v)
        v = None


def _drain_list(lst: list[Any], stack: list[Any]) -> None:
    small = len(lst) <= 64
    while lst:
        pause_point()
        tail = lst[-DISMANTLE_CHUNK:]
        del lst[-DISMANTLE_CHUNK:]
        if small:
            stack.extend(v for v in tail if _worth_dismantling(v))
        tail.clear()


def _drain_set(items: set[Any]) -> None:
    while items:
        pause_point()
        for _ in range(min(DISMANTLE_CHUNK, len(items))):
            items.pop()


def _push_parts(o: object, stack: list[Any]) -> None:
    """The attributes of one of our objects that are worth taking apart (it is freed right after)."""
    names: list[str] = []
    for klass in type(o).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    names.extend(getattr(o, "__dict__", {}))
    for name in names:
        v = getattr(o, name, None)
        if _worth_dismantling(v):
            stack.append(v)


def release_memory(collect: bool = False) -> None:
    """After an image was dropped: with ``collect``, unfreeze and collect the cycles frozen with it
    (a full pass over every object, holding the GIL: only when nothing large is loaded), then give
    the freed heap back to the system (glibc's malloc_trim; nothing elsewhere)."""
    if collect:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    _malloc_trim()


def _malloc_trim() -> None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: glibc's, when it has them
    except (OSError, AttributeError, TypeError):
        return
    trim(0)


def load(
    archive: Archive,
    image: ImageRecord,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
    on_layers: Callable[[list[LayerIndex]], None] | None = None,
    cache: LayerCache | None = None,
    keep: bool = True,
) -> LoadedImage:
    """Index, merge and analyse one image, reusing the layer indexes in ``cache`` (an earlier
    LoadedImage's cache for the same archive). What it made and the persistent cache lacked is kept
    there (``keep_in_cache``) unless ``keep`` is False (the caller then does it later). Raises
    LayerScopeError, Cancelled."""
    cache = LayerCache() if cache is None else cache
    with quiet_gc():
        layers = load_image(archive, image, progress, cancelled, cache=cache)
        if on_layers is not None:
            on_layers(layers)
        if progress is not None:
            progress("merging layers", 0, 1)
        tree, found = cached_merge(
            image, cache, layers, lambda: merge(layers, archive=archive, cancelled=cancelled)
        )
        if progress is not None:
            progress("analysing", 0, 1)
        dive, figs = cached_figures(
            archive,
            image,
            cache,
            lambda: (dive_figures(layers, cancelled), layerscope_figures(layers, tree, cancelled=cancelled)),
        )
        s = LoadedImage(archive, image, layers, tree, dive, figs, cache)
        if not found:
            s._unkept.add(CacheKind.MERGE)
        _ = s.files  # counted here, off any GUI thread
    if keep:
        s.keep_in_cache()
    return s
