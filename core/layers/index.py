"""Index the layers of an image: stream each once, keep lean entry records, open content lazily.

Plain (uncompressed) layers are indexed straight from the memory-mapped archive by reading headers
and skipping data arithmetically. Compressed layers are decompressed once, in parallel threads
(zlib and zstd release the GIL), and their data is read and dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..archive.records import Archive, ImageRecord, LayerDesc
from ..entry import Entry
from ..errors import CorruptArchive, UnsupportedFormat
from ..kinds import Compression
from ..progress import CancelCheck, CountProgress, StageProgress
from ..tar.budget import IndexBudget
from ..tar.index import IndexResult, read_entries
from ..tar.source import BufferSource

if TYPE_CHECKING:  # the cache is imported where used: LayerIndex's users (figures, views) need none of it
    from ..cache.store import Store


def _default_store() -> Store | None:
    from ..cache.store import default_store

    return default_store()


@dataclass(frozen=True, slots=True)
class LayerIndex:
    """Every member of one layer, in tar order, with where its bytes are; nothing of their content.

    ``entries`` are the members the image's filesystem sees; ``metadata`` the ones it does not
    (eStargz's table of contents and landmarks); ``members`` counts the tar headers.
    """

    desc: LayerDesc
    entries: list[Entry]
    members: int
    metadata: list[Entry]
    uncompressed_size: int
    warnings: list[str]

    @property
    def index(self) -> int:
        """The layer's position in the image, from 0 at the bottom."""
        return self.desc.index

    @property
    def tar_size(self) -> int:
        """Sum of the member sizes in the layer's headers (what dive calls the layer size)."""
        return sum(e.size for e in self.entries)


@dataclass(slots=True)
class LayerCache:
    """The layer indexes made so far for one archive, by the blob each read, and the memory they share.

    Images of one archive often share layers: with one cache per archive, a shared layer is
    indexed once. The budget bounds the entries and memory of all the indexes together. ``store``
    is the persistent cache (core/cache) indexes are read from and written to, None for none;
    ``verified`` the persistent key of each blob whose index it holds.
    """

    indexes: dict[str, LayerIndex] = field(default_factory=dict)
    budget: IndexBudget = field(default_factory=IndexBudget)
    store: Store | None = field(default_factory=_default_store)
    verified: dict[str, str] = field(default_factory=dict)

    def get(self, desc: LayerDesc) -> LayerIndex | None:
        """The index of the blob ``desc`` reads, as the index of ``desc``; None when not made yet."""
        cached = self.indexes.get(desc.key)
        return None if cached is None else replace(cached, desc=desc)

    def has(self, desc: LayerDesc) -> bool:
        """Whether the blob ``desc`` reads is indexed."""
        return desc.key in self.indexes

    def put(self, index: LayerIndex) -> None:
        """Keep ``index`` for every layer that reads the same blob."""
        self.indexes[index.desc.key] = index


def index_layer(
    archive: Archive,
    desc: LayerDesc,
    cache: LayerCache,
    progress: CountProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> LayerIndex:
    """Index one layer, or take it from ``cache``. Raises MissingBlob, CorruptArchive, Cancelled."""
    cached = cache.get(desc) or _from_store(archive, desc, cache)
    if cached is not None:
        return cached
    from ..cache.keys import Verification, layer_key
    from ..cache.layers import CountingBudget
    from .source import layer_source

    label = f"layer {desc.index}"
    src = layer_source(archive, desc)
    budget = cache.budget if cache.store is None else CountingBudget(cache.budget)
    verifying = None if cache.store is None or layer_key(desc) is None else Verification(archive, desc)
    total = desc.size

    def prog(done: int) -> None:
        if progress is not None:
            # for compressed layers report progress through the stored bytes when we can
            progress(min(done, total) if isinstance(src, BufferSource) else done, total)

    try:
        res = read_entries(
            src, estargz=desc.estargz, progress=prog, cancelled=cancelled, label=label, budget=budget
        )
    except (CorruptArchive, UnsupportedFormat) as exc:
        if verifying is not None:
            verifying.cancel()
        if exc.path is not None:
            raise
        raise type(exc)(exc.message, archive.label) from exc
    except BaseException:
        if verifying is not None:
            verifying.cancel()
        raise
    if verifying is not None and cache.store is not None and isinstance(budget, CountingBudget):
        _to_store(archive, desc, cache.store, verifying.key(), res, (budget.entries, budget.bytes), cache)
    idx = _layer_index(desc, res.entries, res.members, res.metadata, res.size, res.warnings)
    cache.put(idx)
    return idx


def _layer_index(
    desc: LayerDesc, entries: list[Entry], members: int, metadata: list[Entry], size: int, warnings: list[str]
) -> LayerIndex:
    """The LayerIndex of a layer's fields, with the warning an empty blob gets."""
    if desc.compression is Compression.EMPTY and not entries:
        warnings.append(f"layer {desc.index}: the layer blob is empty (0 bytes)")
    return LayerIndex(desc, entries, members, metadata, size, warnings)


def _from_store(archive: Archive, desc: LayerDesc, cache: LayerCache) -> LayerIndex | None:
    """The layer's index from the persistent cache (kept in ``cache`` too), or None.

    Raises MissingBlob when the archive lacks the blob, as indexing would."""
    store = cache.store
    if store is None:
        return None
    from ..cache.keys import layer_key
    from .source import layer_blob

    stored = store.load_layer(desc, cache.budget)
    if stored is None:
        return None
    blob = layer_blob(archive, desc)
    if desc.compression.is_plain and stored.uncompressed_size != blob.size:
        return None  # the archive's digest is not its bytes': index what is there
    label = f"layer {desc.index}"
    warnings = [f"{label}: {w}" for w in stored.warnings]
    size = stored.uncompressed_size
    idx = _layer_index(desc, stored.entries, stored.members, stored.metadata, size, warnings)
    cache.put(idx)
    key = layer_key(desc)
    if key is not None:
        cache.verified[desc.key] = key
    return idx


def _to_store(
    archive: Archive,
    desc: LayerDesc,
    store: Store,
    key: str | None,
    res: IndexResult,
    charged: tuple[int, int],
    cache: LayerCache,
) -> None:
    """Keep a fresh index in the persistent cache under ``key``, the layer's key when its bytes were
    checked against its digest (None: they were not, or did not match)."""
    from ..cache.columns import Unencodable
    from ..cache.layers import StoredLayer, strip_label
    from .seekable import save_checkpoints

    try:
        warnings = strip_label(res.warnings, f"layer {desc.index}")
    except Unencodable:
        return
    if key is None:
        return
    stored = StoredLayer(res.entries, res.members, res.metadata, res.size, warnings, charged)
    store.save_layer(key, stored)
    cache.verified[desc.key] = key
    save_checkpoints(store, archive, desc, key)  # a gzip layer's random-access checkpoints


class _Progress:
    """Bytes done over all layers of a load, summed as each layer reports its own."""

    def __init__(self, layers: Sequence[LayerDesc], progress: StageProgress | None) -> None:
        self._layers = len(layers)
        self._total = sum(max(d.size, 1) for d in layers)
        self._done = [0] * len(layers)
        self._sum = 0  # the running sum of _done (summing the list each time is quadratic in layers)
        self._lock = threading.Lock()
        self._progress = progress

    def layer(self, d: LayerDesc, done: int) -> None:
        with self._lock:
            now = min(done, max(d.size, 1))
            self._sum += now - self._done[d.index]
            self._done[d.index] = now
            s = self._sum
        if self._progress is not None:
            self._progress(f"reading layer {d.index + 1} of {self._layers}", s, self._total)


def load_image(
    archive: Archive,
    image: ImageRecord,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
    workers: int = 2,
    fork: bool = False,
    *,
    cache: LayerCache | None = None,
) -> list[LayerIndex]:
    """Index every layer of ``image``; compressed layers run in parallel threads. Progress reports bytes.

    Layers already in ``cache`` are not read again (without one, a new cache serves this call).
    With ``fork`` (command line only), about half of the plain layers are indexed in a forked child
    on the other core; their records come back pickled. Raises MissingBlob, CorruptArchive,
    UnsupportedFormat, Cancelled.
    """
    cache = LayerCache() if cache is None else cache
    layers = image.layers
    if fork:
        for d in layers:
            if d.compression.is_plain and not cache.has(d):
                _from_store(archive, d, cache)
        _index_plain_in_child(archive, layers, cache)
    report = _Progress(layers, progress)
    stop = threading.Event()

    def is_cancelled() -> bool:
        return stop.is_set() or (cancelled is not None and cancelled())

    def one(d: LayerDesc) -> LayerIndex:
        idx = index_layer(archive, d, cache, lambda done, _total: report.layer(d, done), is_cancelled)
        report.layer(d, max(d.size, 1))
        return idx

    compressed = [d for d in layers if d.compression.is_supported]
    if len(compressed) < 2 or workers < 2:
        return [one(d) for d in layers]
    # threads of our own, not concurrent.futures: its import (and logging's) is 10 ms of every command
    results: dict[int, LayerIndex] = {}
    failed: dict[int, BaseException] = {}
    todo = list(compressed)
    lock = threading.Lock()

    def work() -> None:
        while not stop.is_set() and not failed:
            with lock:
                if not todo:
                    return
                d = todo.pop(0)
            try:
                results[d.index] = one(d)
            except BaseException as exc:  # raised by the caller, in layer order
                failed[d.index] = exc

    threads = [threading.Thread(target=work, name="layerscope index") for _ in range(workers)]
    for t in threads:
        t.start()
    try:
        wanted = {d.index for d in compressed}
        for d in layers:
            if d.index not in wanted:
                results[d.index] = one(d)
        for t in threads:
            t.join()
    except BaseException:
        stop.set()
        for t in threads:
            t.join()
        raise
    for d in compressed:
        if d.index in failed:
            raise failed[d.index]
    return [results[d.index] for d in layers]


_Record = tuple[str, list[Entry], int, list[Entry], int, list[str], str | None]


def _index_plain_in_child(archive: Archive, layers: Sequence[LayerDesc], cache: LayerCache) -> None:
    """Split the plain layers not indexed yet in two by size; a child indexes one half meanwhile."""
    from ..parallel import fork_call

    todo = [d for d in layers if d.compression.is_plain and not cache.has(d)]
    todo = list({d.key: d for d in todo}.values())
    if len(todo) < 2:
        return
    mine: list[LayerDesc] = []
    theirs: list[LayerDesc] = []
    load_mine = load_theirs = 0.0
    for d in sorted(todo, key=lambda d: -d.size):
        if load_mine <= load_theirs:
            mine.append(d)
            load_mine += d.size
        else:
            theirs.append(d)
            load_theirs += d.size * 1.25  # the records still have to be pickled and sent back

    def child() -> list[_Record]:
        out = []
        for d in theirs:
            li = index_layer(archive, d, cache)
            out.append(
                (
                    d.key,
                    li.entries,
                    li.members,
                    li.metadata,
                    li.uncompressed_size,
                    li.warnings,
                    cache.verified.get(d.key),
                )
            )
        return out

    wait = fork_call(child)
    for d in mine:
        index_layer(archive, d, cache)
    by_key = {d.key: d for d in theirs}
    for key, entries, members, metadata, size, warnings, verified in wait():
        cache.put(LayerIndex(by_key[key], entries, members, metadata, size, warnings))
        if verified is not None:
            cache.verified[key] = verified
