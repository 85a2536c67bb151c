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
from .merge import ImageTree
from .tarindex import ancestors

# ---- dive-compatible ----------------------------------------------------------------------------
# dive builds one tree per layer from the tar headers. Its facts that matter here:
#  * a node created only as a parent of another path carries an empty FileInfo: size 0, NOT a dir;
#  * a whiteout keeps its ".wh." name in the tree (so it sorts as such); its path drops the prefix;
#  * ".wh..wh.." names are never added, but the directories leading to them are;
#  * stacking a layer (AddPath for every node, RemovePath for whiteouts) overwrites a path's info,
#    even with the empty info of an implied parent, and a file over a directory keeps its children;
#  * efficiency visits the leaves of each layer tree, children sorted by name, depth first; a whiteout
#    of a path absent below stops the rest of that layer's visit.
_Info = tuple[int, bool, bool]  # (size, is_dir, is_whiteout)


def _layer_nodes(li: LayerIndex) -> tuple[dict[str, _Info], set[str]]:
    """dive's nodes of one layer (tree paths, whiteouts as ``.wh.`` names) and the set of parents."""
    nodes: dict[str, _Info] = {}
    parents: set[str] = set()
    for e in li.entries:
        p = e.path
        if not p:
            continue
        t = e.type
        if t == "whiteout":
            j = p.rfind("/")
            p = f"{p[: j + 1]}.wh.{p[j + 1 :]}"
        if t != "opaque":
            nodes[p] = (e.size, t == "dir", t == "whiteout")
        else:
            nodes.setdefault(p, (0, False, False))
        for q in ancestors(p):
            if q in parents:
                break
            parents.add(q)
            nodes.setdefault(q, (0, False, False))
    return nodes, parents


def _true_path(tree_path: str) -> str:
    """A tree path with the ``.wh.`` prefix dropped from its last name."""
    j = tree_path.rfind("/")
    name = tree_path[j + 1 :]
    return tree_path[: j + 1] + name[4:] if name.startswith(".wh.") else tree_path


def _sort_key(path: str) -> list[bytes]:
    return [c.encode("utf-8", "surrogateescape") for c in path.split("/")]


class _Stack:
    """dive's stacked tree of the layers below: path -> (size, is_dir), with children for removals."""

    def __init__(self) -> None:
        self.info: dict[str, tuple[int, bool]] = {}
        self.kids: dict[str, set[str]] = {}

    def add(self, path: str, size: int, is_dir: bool) -> None:
        info, kids = self.info, self.kids
        if path not in info:
            p = path
            while True:
                j = p.rfind("/")
                parent = p[:j] if j >= 0 else ""
                kids.setdefault(parent, set()).add(p)
                if not parent or parent in info:
                    break
                info[parent] = (0, False)
                p = parent
        info[path] = (size, is_dir)

    def remove(self, path: str) -> None:
        if path not in self.info:
            return
        stack = [path]
        while stack:
            p = stack.pop()
            self.info.pop(p, None)
            stack.extend(self.kids.pop(p, ()))
        j = path.rfind("/")
        self.kids.get(path[:j] if j >= 0 else "", set()).discard(path)

    def subtree_size(self, path: str) -> int:
        total = 0
        stack = [path]
        while stack:
            p = stack.pop()
            total += self.info[p][0]
            stack.extend(self.kids.get(p, ()))
        return total

    def apply(self, nodes: dict[str, _Info], parents: set[str]) -> None:
        """Stack one layer on top (dive's order: depth first, children by name, when it matters)."""
        removals = [_true_path(p) for p, (_s, _d, w) in nodes.items() if w]
        if any(r in nodes or r in parents for r in removals):
            for p in _post_order(sorted(nodes, key=_sort_key)):
                size, is_dir, w = nodes[p]
                if w:
                    self.remove(_true_path(p))
                else:
                    self.add(p, size, is_dir)
            return
        for r in removals:
            self.remove(r)
        for p, (size, is_dir, w) in nodes.items():
            if not w:
                self.add(p, size, is_dir)


def _post_order(paths: list[str]) -> list[str]:
    """Order tree paths (sorted lexicographically by components) so that each parent follows its children."""
    out: list[str] = []
    pending: list[str] = []
    for p in paths:
        while pending and not p.startswith(pending[-1] + "/"):
            out.append(pending.pop())
        pending.append(p)
    out.extend(reversed(pending))
    return out


def dive_figures(layers: list[LayerIndex]) -> DiveFigures:
    """dive 0.13.1's efficiency figures for the given layers (see shared/docs/FORMATS.md §5)."""
    cum: dict[str, int] = {}
    mins: dict[str, int] = {}
    count: dict[str, int] = {}
    order: list[str] = []  # paths in the order they reached count 2
    stack = _Stack()
    last = len(layers) - 1
    for i, li in enumerate(layers):
        nodes, parents = _layer_nodes(li)
        leaves = [p for p in nodes if p not in parents]
        sized: list[tuple[str, int] | None] = []
        for p in leaves:
            size, _is_dir, w = nodes[p]
            if w:
                target = _true_path(p)
                prev = stack.info.get(target)
                sized.append(None if prev is None else (target, stack.subtree_size(target) if prev[1] else 0))
            else:
                sized.append((p, size))
        if None in sized:
            # dive stops this layer's visit at the first failing whiteout, leaves taken in name order
            ordered = sorted(zip(leaves, sized, strict=True), key=lambda t: _sort_key(t[0]))
            cut = next(k for k, (_p, v) in enumerate(ordered) if v is None)
            sized = [v for _p, v in ordered[:cut]]
        for item in sized:
            assert item is not None
            p, size = item
            c = count.get(p)
            if c is None:
                cum[p] = size
                mins[p] = size
                count[p] = 1
            else:
                cum[p] += size
                if size < mins[p]:
                    mins[p] = size
                count[p] = c + 1
                if c == 1:
                    order.append(p)
        if i < last:
            stack.apply(nodes, parents)
    total_min = sum(mins.values())
    total_cum = sum(cum.values())
    eff = 1.0 if total_cum == 0 else total_min / total_cum
    sizes = [li.tar_size for li in layers]
    wasted = sum(cum[p] for p in order)
    user_size = sum(sizes[1:])
    user_pct = wasted / user_size if user_size else 0.0
    # dive sorts by cumulative size with Go's (unstable) sort.Sort and lists the largest first;
    # ties are ordered by path here so the output is deterministic.
    ineff = sorted((("/" + p, count[p], cum[p]) for p in order), key=lambda t: (-t[2], t[0]))
    return DiveFigures(eff, wasted, user_pct, sum(sizes), user_size, sizes, ineff)


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


@dataclass(slots=True)
class WasteItem:
    """Bytes stored in layers that the final filesystem does not show, for one path."""

    path: str
    size: int
    copies: list[tuple[int, int]]  # (layer that stored the copy, bytes)
    by: list[int]  # layers that shadowed or deleted those copies
    deleted: bool  # the path is absent from the final filesystem

    @property
    def layers(self) -> list[int]:
        return sorted({c[0] for c in self.copies} | set(self.by))


def waste_items(tree: ImageTree, base_layers: int = 0) -> list[WasteItem]:
    """Per path, the copies the final filesystem does not show; biggest first.

    A copy stored by one of the first ``base_layers`` layers and hidden by one of them too (waste
    made inside the base image) is left out.
    """
    items: dict[str, WasteItem] = {}
    seen_by: dict[str, set[int]] = {}  # w.by as a set: a path shadowed in 100,000 layers stays linear
    for path, layer, size, by, deleted in tree.waste_events:
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
    for w in items.values():
        w.deleted = w.path not in tree.nodes
    return sorted(items.values(), key=lambda w: (-w.size, w.path))


def layerscope_figures(layers: list[LayerIndex], tree: ImageTree, base_layers: int = 0) -> LayerScopeFigures:
    """LayerScope's waste figures on a full merge; waste made within the first ``base_layers``
    layers (the base image) is left out."""
    stored = [0] * len(layers)
    for li in layers:
        stored[li.index] = sum(e.size for e in li.entries if e.type == "file")
    visible = [0] * len(layers)
    for n in tree.nodes.values():
        e = n.entry
        if e is not None and e.type == "file":
            visible[n.layer] += e.size
    items = waste_items(tree, base_layers)
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
