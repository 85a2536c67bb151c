"""Where the space went: two sets of figures, always labelled which is which.

* ``dive_figures``: efficiency, wasted bytes, user wasted percent and inefficient files exactly as
  dive 0.13.1 computes them (shared/docs/FORMATS.md §5), flaws included, so CI users can switch.
* ``layerscope_figures``: bytes stored in layers that the final filesystem does not show (shadowed
  or deleted, deleted directories included, the kept copy NOT counted), per path with the layers
  involved; visible vs stored bytes per layer; base-image layers can be left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layers import LayerIndex
from .merge import ImageTree, WasteItem


# ---- dive-compatible ----------------------------------------------------------------------------
class _DNode:
    """A node of dive's per-layer tree: size from the tar header, 0 for implied directories."""

    __slots__ = ("children", "is_dir", "size", "whiteout")

    def __init__(self) -> None:
        self.children: dict[str, _DNode] = {}
        self.size = 0
        self.is_dir = False
        self.whiteout = False


def _dive_layer_tree(li: LayerIndex) -> _DNode:
    """dive's tree of one layer. Implied directories carry an empty FileInfo: size 0, not a directory.

    Whiteouts keep their ``.wh.`` name in the tree (their path drops it); opaque markers are never
    added, but the directories leading to them are.
    """
    root = _DNode()
    for e in li.entries:
        parts = e.path.split("/") if e.path else []
        if e.type == "whiteout":
            parts[-1] = ".wh." + parts[-1]
        node = root
        for part in parts:
            child = node.children.get(part)
            if child is None:
                child = _DNode()
                node.children[part] = child
            node = child
        if e.type != "opaque" and parts:
            node.size = e.size
            node.is_dir = e.type == "dir"
            node.whiteout = e.type == "whiteout"
    return root


def _stack(lower: _DNode, upper: _DNode) -> None:
    """dive's StackTreeRange step: whiteouts remove, everything else is added/overwritten."""

    def graft(dst: _DNode, src: _DNode) -> None:
        for name, s in src.children.items():
            if s.whiteout:
                dst.children.pop(name[4:], None)
                continue
            d = dst.children.get(name)
            if d is None:
                d = _DNode()
                d.is_dir = s.is_dir
                dst.children[name] = d
            d.size = s.size
            d.is_dir = s.is_dir
            graft(d, s)

    graft(lower, upper)


def _subtree_size(n: _DNode) -> int:
    total = n.size
    stack = list(n.children.values())
    while stack:
        c = stack.pop()
        total += c.size
        stack.extend(c.children.values())
    return total


def _copy(n: _DNode) -> _DNode:
    c = _DNode()
    c.size, c.is_dir, c.whiteout = n.size, n.is_dir, n.whiteout
    c.children = {k: _copy(v) for k, v in n.children.items()}
    return c


@dataclass(slots=True)
class DiveFigures:
    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float
    size_bytes: int
    user_size_bytes: int
    layer_sizes: list[int]
    inefficient_files: list[tuple[str, int, int]]  # (path, count, cumulative size), by size descending

    def as_json(self) -> dict[str, object]:
        return {
            "efficiency": self.efficiency,
            "wasted_bytes": self.wasted_bytes,
            "user_wasted_percent": self.user_wasted_percent,
            "size_bytes": self.size_bytes,
            "user_size_bytes": self.user_size_bytes,
            "inefficient_files": [{"path": p, "count": c, "size": s} for p, c, s in self.inefficient_files],
        }


class _Tally:
    """Per-path cumulative size, minimum size and count, as dive's efficiency map keeps them."""

    def __init__(self) -> None:
        self.cum: dict[str, int] = {}
        self.mins: dict[str, int] = {}
        self.count: dict[str, int] = {}
        self.order: list[str] = []  # paths in the order they reached count 2

    def add(self, path: str, size: int) -> None:
        if path in self.cum:
            self.cum[path] += size
            self.mins[path] = min(self.mins[path], size)
            self.count[path] += 1
            if self.count[path] == 2:
                self.order.append(path)
        else:
            self.cum[path] = size
            self.mins[path] = size
            self.count[path] = 1


def _visit(node: _DNode, path: str, is_root: bool, stacked: _DNode, tally: _Tally) -> bool:
    """dive's leaf visit: depth first, children by name; False stops the layer's visit, as dive's
    error on a whiteout of a path that is not below does."""
    for name in sorted(node.children, key=lambda s: s.encode("utf-8", "surrogateescape")):
        child = node.children[name]
        if not _visit(child, f"{path}/{name[4:] if child.whiteout else name}", False, stacked, tally):
            return False
    if node.children or is_root:
        return True
    if node.whiteout:
        prev = _lookup(stacked, path)
        if prev is None:
            return False
        size = _subtree_size(prev) if prev.is_dir else 0
    else:
        size = node.size
    tally.add(path, size)
    return True


def dive_figures(layers: list[LayerIndex]) -> DiveFigures:
    """dive 0.13.1's efficiency figures for the given layers (see shared/docs/FORMATS.md §5)."""
    tally = _Tally()
    trees = [_dive_layer_tree(li) for li in layers]
    stacked = _DNode()  # layers 0..i-1 stacked
    for i, tree in enumerate(trees):
        _visit(tree, "", True, stacked, tally)
        if i < len(trees) - 1:
            _stack(stacked, _copy(tree))
    total_min = sum(tally.mins.values())
    total_cum = sum(tally.cum.values())
    eff = 1.0 if total_cum == 0 else total_min / total_cum
    sizes = [li.tar_size for li in layers]
    wasted = sum(tally.cum[p] for p in tally.order)
    user_size = sum(sizes[1:])
    user_pct = wasted / user_size if user_size else 0.0
    # dive sorts by cumulative size with Go's (unstable) sort.Sort and lists the largest first;
    # ties are ordered by path here so the output is deterministic.
    ineff = sorted(((p, tally.count[p], tally.cum[p]) for p in tally.order), key=lambda t: (-t[2], t[0]))
    return DiveFigures(eff, wasted, user_pct, sum(sizes), user_size, sizes, ineff)


def _lookup(root: _DNode, path: str) -> _DNode | None:
    node = root
    for part in path.strip("/").split("/"):
        if not part:
            continue
        nxt = node.children.get(part)
        if nxt is None:
            return None
        node = nxt
    return node


# ---- LayerScope's own figures ---------------------------------------------------------------------
@dataclass(slots=True)
class LayerSpace:
    index: int
    stored: int  # bytes of file content stored in the layer
    visible: int  # of those, bytes still visible in the final filesystem


@dataclass(slots=True)
class LayerScopeFigures:
    stored_bytes: int
    visible_bytes: int
    wasted_bytes: int
    wasted_percent: float
    base_layers: int
    layers: list[LayerSpace]
    wasted: list[WasteItem] = field(default_factory=list)  # by size, descending

    def as_json(self) -> dict[str, object]:
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


def layerscope_figures(layers: list[LayerIndex], tree: ImageTree, base_layers: int = 0) -> LayerScopeFigures:
    """Waste as LayerScope counts it on a full merge; waste made entirely within the first
    ``base_layers`` layers (the base image) is left out."""
    stored = [0] * len(layers)
    for li in layers:
        stored[li.index] = sum(e.size for e in li.entries if e.type == "file")
    visible = [0] * len(layers)
    for n in tree.nodes.values():
        e = n.entry
        if e is not None and e.type == "file":
            visible[n.layer] += e.size
    items: list[WasteItem] = []
    for w in tree.waste.values():
        copies = [c for c in w.copies if c[0] >= base_layers or any(b >= base_layers for b in w.by)]
        if base_layers and all(c[0] < base_layers for c in w.copies) and all(b < base_layers for b in w.by):
            continue
        if copies:
            items.append(WasteItem(w.path, sum(c[1] for c in copies), copies, w.by, w.deleted))
    items.sort(key=lambda w: (-w.size, w.path))
    total_stored = sum(stored)
    wasted = sum(w.size for w in items)
    counted = sum(stored[base_layers:]) if base_layers else total_stored
    return LayerScopeFigures(
        stored_bytes=total_stored,
        visible_bytes=sum(visible),
        wasted_bytes=wasted,
        wasted_percent=(wasted / counted) if counted else 0.0,
        base_layers=base_layers,
        layers=[LayerSpace(i, stored[i], visible[i]) for i in range(len(layers))],
        wasted=items,
    )
