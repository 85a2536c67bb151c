"""The figures ``ci`` judges an image by: dive's (efficiency, wasted bytes) and LayerScope's own."""

from __future__ import annotations

from ..archive.records import Archive, ImageRecord
from ..cache.figures import cached_figures
from ..dive_figures import DiveFigures, dive_figures
from ..layers.index import LayerCache, load_image
from ..merge import merge
from ..parallel import fork_call
from ..session import quiet_gc
from ..waste import LayerScopeFigures, layerscope_figures


def ci_figures(
    archive: Archive, image: ImageRecord, base_layers: int = 0
) -> tuple[DiveFigures, LayerScopeFigures]:
    """dive's figures and LayerScope's (the first ``base_layers`` layers left out of its waste) for one
    image, using both cores: dive's figures are computed in a forked child while the layers merge.

    Both come from the persistent cache when this image was judged before (core/cache).
    Raises LayerScopeError."""
    cache = LayerCache()

    def compute() -> tuple[DiveFigures, LayerScopeFigures]:
        with quiet_gc():
            idx = load_image(archive, image, fork=True, cache=cache)
            dive_result = fork_call(lambda: dive_figures(idx))
            tree = merge(idx, archive=archive)
            ours = layerscope_figures(idx, tree, base_layers=base_layers)
            return dive_result(), ours

    return cached_figures(archive, image, cache, compute, base_layers)
