"""One image, loaded: its layers, the merged tree, the figures; merged views up to any layer.

The GUI and the CLI both go through ``load()`` so that a file is read, merged and analysed the same
way everywhere. Long steps report progress and honour a cancel check.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .analysis import DiveFigures, LayerScopeFigures, dive_figures, layerscope_figures
from .archive import Archive, ImageRecord
from .layers import LayerIndex, load_image
from .merge import ImageTree, merge
from .views import LayerView, MergedView

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class LoadedImage:
    archive: Archive
    image: ImageRecord
    layers: list[LayerIndex]
    tree: ImageTree  # all layers merged
    dive: DiveFigures
    figures: LayerScopeFigures
    _trees: dict[int, ImageTree] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return (
            self.archive.warnings
            + self.image.warnings
            + [w for li in self.layers for w in li.warnings]
            + self.tree.warnings
        )

    @property
    def files(self) -> int:
        return sum(1 for n in self.tree.nodes.values() if not n.is_dir)

    def merged_upto(self, layer: int, cancelled: Callable[[], bool] | None = None) -> ImageTree:
        """The merged tree of layers 0..layer (cached)."""
        if layer >= len(self.layers) - 1:
            return self.tree
        t = self._trees.get(layer)
        if t is None:
            t = merge(self.layers, upto=layer, archive=self.archive, cancelled=cancelled)
            self._trees[layer] = t
        return t

    def view(
        self, layer: int, own_changes: bool, cancelled: Callable[[], bool] | None = None
    ) -> MergedView | LayerView:
        """Layer ``layer``'s own changes, or the merged filesystem up to it."""
        with quiet_gc():
            if own_changes:
                return LayerView(self.tree, layer)
            return MergedView(self.merged_upto(layer, cancelled))


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic-GC passes while a large image loads; afterwards its objects are frozen out of them.

    Loading creates a few hundred thousand long-lived objects and almost no garbage cycles. Without
    this, each full collection walks them all (0.1-0.2 s on 186k entries, holding the GIL, so the GUI
    stalls), several times per load. Objects freed by reference counting are freed as usual.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        gc.freeze()


def load(
    archive: Archive,
    image: ImageRecord,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_layers: Callable[[list[LayerIndex]], None] | None = None,
) -> LoadedImage:
    """Index, merge and analyse one image. Raises LayerScopeError, Cancelled."""
    with quiet_gc():
        layers = load_image(archive, image, progress, cancelled)
        if on_layers is not None:
            on_layers(layers)
        if progress is not None:
            progress("merging layers", 0, 1)
        tree = merge(layers, archive=archive, cancelled=cancelled)
        if progress is not None:
            progress("analysing", 0, 1)
        dive = dive_figures(layers)
        figs = layerscope_figures(layers, tree)
        return LoadedImage(archive, image, layers, tree, dive, figs)
