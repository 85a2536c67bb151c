"""Where the space went, as LayerScope counts it: bytes stored in layers that no one can see.

Bytes stored in layers that the final filesystem does not show (shadowed or deleted, deleted
directories included, the kept copy NOT counted), per path with the layers involved; visible vs
stored bytes per layer; waste made inside the base image can be left out. dive's own figures, which
count differently, are in ``dive_figures``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

from .kinds import EntryType
from .layers.index import LayerIndex
from .merge import ImageTree
from .progress import CancelCheck, check_cancelled

CHUNK = 2048
"""Items handled between two cancel checks."""


@dataclass(slots=True)
class WasteItem:
    """Bytes stored in layers that the final filesystem does not show, for one path.

    ``copies`` holds (layer that stored the copy, bytes), ``by`` the layers that shadowed or
    deleted those copies; ``deleted`` is True when the path is absent from the final filesystem.
    """

    path: str
    size: int
    copies: list[tuple[int, int]]
    by: list[int]
    deleted: bool

    @property
    def layers(self) -> list[int]:
        """Every layer involved, storing or hiding, in order."""
        return sorted({c[0] for c in self.copies} | set(self.by))


@dataclass(slots=True)
class LayerSpace:
    """One layer's file bytes: ``stored`` in it, and how many of those are ``visible`` at the end."""

    index: int
    stored: int
    visible: int


@dataclass(slots=True)
class LayerScopeFigures:
    """LayerScope's waste figures for one image (never to be confused with dive's).

    ``wasted_percent`` is a fraction of the bytes stored in the layers above the first
    ``base_layers`` (all layers when it is 0); ``wasted`` lists the items, biggest first.
    """

    stored_bytes: int
    visible_bytes: int
    wasted_bytes: int
    wasted_percent: float
    base_layers: int
    layers: list[LayerSpace]
    wasted: list[WasteItem] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The figures as the ``ci --json`` document carries them."""
        return {
            "stored_bytes": self.stored_bytes,
            "visible_bytes": self.visible_bytes,
            "wasted_bytes": self.wasted_bytes,
            "wasted_percent": self.wasted_percent,
            "base_layers_excluded": self.base_layers,
            "layers": [{"index": s.index, "stored": s.stored, "visible": s.visible} for s in self.layers],
            "wasted_files": [
                {
                    "path": "/" + w.path,
                    "size": w.size,
                    "copies": len(w.copies),
                    "layers": w.layers,
                    "deleted": w.deleted,
                }
                for w in self.wasted
            ],
        }


def waste_items(
    tree: ImageTree, base_layers: int = 0, cancelled: CancelCheck | None = None
) -> list[WasteItem]:
    """Per path, the copies the final filesystem does not show; biggest first.

    A copy stored by one of the first ``base_layers`` layers and hidden by one of them too (waste
    made inside the base image) is left out. Raises Cancelled.
    """
    items: dict[str, WasteItem] = {}
    seen_by: dict[str, set[int]] = {}  # w.by as a set: a path shadowed in 100,000 layers stays linear
    events = tree.waste_events
    for start in range(0, len(events), CHUNK):
        check_cancelled(cancelled)
        for path, layer, size, by, deleted in events[start : start + CHUNK]:
            if layer < base_layers and by < base_layers:
                continue
            w = items.get(path)
            if w is None:
                items[path] = WasteItem(path, size, [(layer, size)], [by], deleted)
                seen_by[path] = {by}
            else:
                w.size += size
                w.copies.append((layer, size))
                if by not in seen_by[path]:
                    seen_by[path].add(by)
                    w.by.append(by)
    check_cancelled(cancelled)
    for w in items.values():
        w.deleted = w.path not in tree.nodes
    # by (-size, path) in two stable sorts: each compares plain strings or ints, several times
    # faster than tuples, so neither holds the GIL for long (one C call each)
    out = sorted(items.values(), key=attrgetter("path"))
    out.sort(key=attrgetter("size"), reverse=True)  # reverse keeps equal sizes in path order
    return out


def layerscope_figures(
    layers: list[LayerIndex], tree: ImageTree, base_layers: int = 0, cancelled: CancelCheck | None = None
) -> LayerScopeFigures:
    """LayerScope's waste figures on a full merge; waste made within the first ``base_layers``
    layers (the base image) is left out. Raises Cancelled."""
    file_t = EntryType.FILE
    stored = [0] * len(layers)
    for li in layers:
        check_cancelled(cancelled)
        stored[li.index] = sum(e.size for e in li.entries if e.type is file_t)
    visible = [0] * len(layers)
    nodes = list(tree.nodes.values())
    for start in range(0, len(nodes), CHUNK):
        check_cancelled(cancelled)
        for n in nodes[start : start + CHUNK]:
            e = n.entry
            if e is not None and e.type is file_t:
                visible[n.layer] += e.size
    items = waste_items(tree, base_layers, cancelled)
    wasted = sum(w.size for w in items)
    counted = sum(stored[base_layers:]) if base_layers else sum(stored)
    return LayerScopeFigures(
        stored_bytes=sum(stored),
        visible_bytes=sum(visible),
        wasted_bytes=wasted,
        wasted_percent=(wasted / counted) if counted else 0.0,
        base_layers=base_layers,
        layers=[LayerSpace(i, stored[i], visible[i]) for i in range(len(layers))],
        wasted=items,
    )
