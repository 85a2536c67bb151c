"""Per layer: how much of what it stored is still seen at the top, and how much later layers hid.

The numbers of the timeline's two-part bar. ``stored`` and ``visible`` are LayerScope's waste
figures' own (core/waste.py, ``LayerSpace``); the hidden part is split by the merge's waste events,
the same ones ``waste_items`` adds up, by how the copy was hidden (a newer copy of the path
shadows it, or a deletion removes it) and by the layer that did it. So for every layer
``visible + shadowed + deleted == stored``, and the hidden bytes of all layers together are the
figures' ``wasted_bytes`` (counted without leaving the base image out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..merge import ImageTree
from ..progress import CancelCheck, check_cancelled
from ..waste import CHUNK, LayerScopeFigures, layerscope_figures


@dataclass(frozen=True, slots=True)
class LayerBar:
    """One layer's file bytes: ``stored`` in it, ``visible`` at the top, and the rest hidden:
    ``shadowed`` by a newer copy of the same path (in a later layer, or later in the same layer),
    ``deleted`` by a later layer's deletion. ``hidden_by`` maps each layer that hid some of them to
    the bytes it hid (the layer itself for copies it stored twice)."""

    index: int
    stored: int
    visible: int
    shadowed: int
    deleted: int
    hidden_by: Mapping[int, int]

    @property
    def hidden(self) -> int:
        """The bytes of this layer that the top does not show."""
        return self.shadowed + self.deleted

    @property
    def visible_fraction(self) -> float:
        """``visible / stored`` (1.0 for a layer that stored no file bytes)."""
        return self.visible / self.stored if self.stored else 1.0


def layer_bars(
    tree: ImageTree, figures: LayerScopeFigures | None = None, cancelled: CancelCheck | None = None
) -> list[LayerBar]:
    """The bar of each layer of ``tree``, bottom first; ``figures`` are the image's LayerScope
    figures (``LoadedImage.figures``), computed from ``tree`` when not given. One pass over the
    tree's waste events. Raises Cancelled."""
    if figures is None:
        figures = layerscope_figures(tree.layers[: tree.upto + 1], tree, cancelled=cancelled)
    n = len(figures.layers)
    shadowed = [0] * n
    deleted = [0] * n
    hidden_by: list[dict[int, int]] = [{} for _ in range(n)]
    events = tree.waste_events
    for start in range(0, len(events), CHUNK):
        check_cancelled(cancelled)
        for _path, layer, size, by, gone in events[start : start + CHUNK]:
            if gone:
                deleted[layer] += size
            else:
                shadowed[layer] += size
            d = hidden_by[layer]
            d[by] = d.get(by, 0) + size
    return [
        LayerBar(
            s.index,
            s.stored,
            s.visible,
            shadowed[s.index],
            deleted[s.index],
            dict(sorted(hidden_by[s.index].items())),
        )
        for s in figures.layers
    ]
