"""The figures ``ci`` judges an image by: dive's (efficiency, wasted bytes) and LayerScope's own.

The engine's modules are imported by the functions that need them: a warm ``ci --json`` reads its
figures from the persistent cache and never imports the indexer, the merge or the figures' code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..archive.records import Archive, ImageRecord

if TYPE_CHECKING:
    from ..cache.ci import CiParts
    from ..dive_figures import DiveFigures
    from ..layers.index import LayerCache
    from ..waste import LayerScopeFigures


def ci_figures(
    archive: Archive, image: ImageRecord, base_layers: int = 0, cache: LayerCache | None = None
) -> tuple[DiveFigures, LayerScopeFigures]:
    """dive's figures and LayerScope's (the first ``base_layers`` layers left out of its waste) for one
    image, using both cores: dive's figures are computed in a forked child while the layers merge.

    Both come from the persistent cache when this image was judged before (core/cache); ``cache``
    (a new one by default) ends up holding the layer indexes made and the keys verified.
    Raises LayerScopeError."""
    from ..cache.figures import cached_figures
    from ..dive_figures import dive_figures
    from ..layers.index import LayerCache, load_image
    from ..merge import merge
    from ..parallel import fork_call
    from ..session import quiet_gc
    from ..waste import layerscope_figures

    layer_cache = LayerCache() if cache is None else cache

    def compute() -> tuple[DiveFigures, LayerScopeFigures]:
        with quiet_gc():
            idx = load_image(archive, image, fork=True, cache=layer_cache)
            dive_result = fork_call(lambda: dive_figures(idx))
            tree = merge(idx, archive=archive)
            ours = layerscope_figures(idx, tree, base_layers=base_layers)
            return dive_result(), ours

    return cached_figures(archive, image, layer_cache, compute, base_layers)


def ci_json_parts(archive: Archive, image: ImageRecord, base_layers: int = 0) -> CiParts:
    """What ``ci --json`` prints of the image's figures: from the persistent cache when this image was
    judged before (one file; no layer index is read), else computed (``ci_figures``) and kept.

    Raises LayerScopeError (MissingBlob when the archive lacks a layer, as indexing would)."""
    from ..cache.ci import CiParts
    from ..cache.store import blobs_present, default_store

    store = default_store()
    if store is not None:
        hit = store.load_ci(image, base_layers)
        if hit is not None:
            blobs_present(archive, image)
            return hit
    from ..cache.keys import layer_key
    from ..layers.index import LayerCache

    figures = None if store is None else store.load_figures(image, base_layers)
    if figures is not None:  # kept only when every layer's key was verified
        blobs_present(archive, image)
        keys = [layer_key(d) for d in image.layers]
    else:
        cache = LayerCache(store=store)
        figures = ci_figures(archive, image, base_layers, cache)
        keys = [cache.verified.get(d.key) for d in image.layers]
    parts = CiParts.of(*figures)
    if store is not None:
        store.save_ci(image, keys, base_layers, parts)
    return parts
