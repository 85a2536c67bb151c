"""An image's two figure sets (dive's and LayerScope's) as a cache payload and back, exactly."""

from __future__ import annotations

from collections.abc import Callable

from ..archive.records import Archive, ImageRecord
from ..dive_figures import DiveFigures
from ..layers.index import LayerCache
from ..waste import LayerScopeFigures, LayerSpace, WasteItem
from .columns import CacheInvalid, PayloadReader, PayloadWriter, in_slices, slices_of
from .store import blobs_present


def encode_figures(dive: DiveFigures, ours: LayerScopeFigures) -> bytes:
    """The payload of both figure sets: the scalars as JSON, the long lists as columns."""
    w = PayloadWriter()
    w.json(
        [
            dive.efficiency,
            dive.wasted_bytes,
            dive.user_wasted_percent,
            dive.size_bytes,
            dive.user_size_bytes,
            ours.stored_bytes,
            ours.visible_bytes,
            ours.wasted_bytes,
            ours.wasted_percent,
            ours.base_layers,
        ]
    )
    w.ints(dive.layer_sizes)
    w.strings([p for p, _c, _s in dive.inefficient_files])
    w.ints([c for _p, c, _s in dive.inefficient_files])
    w.ints([s for _p, _c, s in dive.inefficient_files])
    w.ints([s.index for s in ours.layers])
    w.ints([s.stored for s in ours.layers])
    w.ints([s.visible for s in ours.layers])
    items = ours.wasted
    w.strings([x.path for x in items])
    w.ints([x.size for x in items])
    w.ints([int(x.deleted) for x in items])
    w.ints([len(x.copies) for x in items])
    w.ints([c[0] for x in items for c in x.copies])
    w.ints([c[1] for x in items for c in x.copies])
    w.ints([len(x.by) for x in items])
    w.ints([b for x in items for b in x.by])
    return w.getvalue()


_HEAD_TYPES = (float, int, float, int, int, int, int, int, float, int)


def decode_figures(payload: bytes | memoryview) -> tuple[DiveFigures, LayerScopeFigures]:
    """The figure sets ``encode_figures`` made ``payload`` from. Raises CacheInvalid."""
    r = PayloadReader(payload)
    head = r.json()
    if not (isinstance(head, list) and len(head) == len(_HEAD_TYPES)):
        raise CacheInvalid("figures of the wrong shape")
    if not all(type(v) is t for v, t in zip(head, _HEAD_TYPES, strict=True)):
        raise CacheInvalid("figures of the wrong types")
    eff, wasted, pct, size, user, stored, visible, ours_wasted, ours_pct, base = head
    layer_sizes = r.ints().tolist()
    paths = r.strings()
    n = len(paths)
    ineff = list(zip(paths, r.ints(n), r.ints(n), strict=True))
    index = r.ints()
    stored_l, visible_l = r.ints(len(index)), r.ints(len(index))
    spaces = list(map(LayerSpace, index, stored_l, visible_l))
    items = _waste_items(r)
    r.end()
    dive = DiveFigures(eff, wasted, pct, size, user, layer_sizes, ineff)
    return dive, LayerScopeFigures(stored, visible, ours_wasted, ours_pct, base, spaces, items)


def _waste_items(r: PayloadReader) -> list[WasteItem]:
    paths = r.strings()
    n = len(paths)
    sizes, deleted, n_copies = r.ints(n), r.ints(n), r.ints(n)
    if min(n_copies, default=0) < 0 or not set(deleted) <= {0, 1}:
        raise CacheInvalid("waste columns out of range")
    total = sum(n_copies)
    pairs = in_slices(zip(r.ints(total), r.ints(total), strict=True))
    n_by = r.ints(n)
    if min(n_by, default=0) < 0:
        raise CacheInvalid("waste columns out of range")
    by = r.ints(sum(n_by)).tolist()
    copies = list(map(pairs.__getitem__, slices_of(n_copies)))  # C-level loops: 38k items in ms
    bys = list(map(by.__getitem__, slices_of(n_by)))
    return list(map(WasteItem, paths, sizes, copies, bys, [d == 1 for d in deleted]))


Figures = tuple[DiveFigures, LayerScopeFigures]


def cached_figures(
    archive: Archive,
    image: ImageRecord,
    cache: LayerCache,
    compute: Callable[[], Figures],
    base_layers: int = 0,
) -> Figures:
    """Both figure sets of ``image`` from the persistent cache of ``cache``, else ``compute()``d and
    kept there (when every layer's index was verified). Raises MissingBlob when the archive lacks a
    layer (as indexing would), and what ``compute`` raises."""
    store = cache.store
    if store is not None:
        hit = store.load_figures(image, base_layers)
        if hit is not None:
            blobs_present(archive, image)
            return hit
    dive, ours = compute()
    if store is not None:
        store.save_figures(image, [cache.verified.get(d.key) for d in image.layers], base_layers, dive, ours)
    return dive, ours
