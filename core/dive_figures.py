"""dive's efficiency figures, computed exactly as dive 0.13.1 does, flaws included.

Efficiency, wasted bytes, user wasted percent and inefficient files (shared/docs/FORMATS.md §5), so
that CI users can switch from dive without their thresholds moving. LayerScope's own, corrected
figures are in ``waste``; the two are always labelled which is which.

dive builds one tree per layer from the tar headers. Its facts that matter here:

* a node created only as a parent of another path carries an empty FileInfo: size 0, NOT a dir;
* a whiteout keeps its ``.wh.`` name in the tree (so it sorts as such); its path drops the prefix;
* ``.wh..wh..`` names are never added, but the directories leading to them are;
* stacking a layer (AddPath for every node, RemovePath for whiteouts) overwrites a path's info,
  even with the empty info of an implied parent, and a file over a directory keeps its children;
* efficiency visits the leaves of each layer tree, children sorted by name, depth first; a whiteout
  of a path absent below stops the rest of that layer's visit.
"""

from __future__ import annotations

from dataclasses import dataclass

from .kinds import EntryType
from .layers.index import LayerIndex
from .paths import ancestors, drop_whiteout_prefix, parent, whiteout_path
from .progress import CancelCheck, check_cancelled

CHUNK = 2048
"""Entries handled between two cancel checks: coarse enough to cost nothing, fine enough that a
cancel on a 200k-entry image takes effect within a few milliseconds."""

_Info = tuple[int, bool, bool]
"""A node of one layer's dive tree: (size, is a directory, is a whiteout)."""


@dataclass(slots=True)
class DiveFigures:
    """dive's figures for one image, as ``dive --ci`` computes them.

    ``efficiency`` is in 0..1; ``user_wasted_percent`` is a fraction of ``user_size_bytes`` (the
    layers above the first). ``inefficient_files`` holds (path, copies, cumulative bytes), largest
    first. Sizes are sums of tar header sizes, as dive counts them.
    """

    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float
    size_bytes: int
    user_size_bytes: int
    layer_sizes: list[int]
    inefficient_files: list[tuple[str, int, int]]

    def as_json(self) -> dict[str, object]:
        """The figures as the ``ci --json`` document carries them."""
        return {
            "efficiency": self.efficiency,
            "wasted_bytes": self.wasted_bytes,
            "user_wasted_percent": self.user_wasted_percent,
            "size_bytes": self.size_bytes,
            "user_size_bytes": self.user_size_bytes,
            "inefficient_files": [{"path": p, "count": c, "size": s} for p, c, s in self.inefficient_files],
        }


def _layer_nodes(li: LayerIndex, cancelled: CancelCheck | None = None) -> tuple[dict[str, _Info], set[str]]:
    """dive's nodes of one layer (tree paths, whiteouts as ``.wh.`` names) and the set of parents.
    Raises Cancelled."""
    nodes: dict[str, _Info] = {}
    parents: set[str] = set()
    whiteout_t, opaque_t, dir_t = EntryType.WHITEOUT, EntryType.OPAQUE, EntryType.DIR
    empty = (0, False, False)
    entries = li.entries
    for start in range(0, len(entries), CHUNK):
        check_cancelled(cancelled)
        for e in entries[start : start + CHUNK]:
            p = e.path
            if not p:
                continue
            t = e.type
            if t is whiteout_t:
                p = whiteout_path(p)
            if t is not opaque_t:
                nodes[p] = (e.size, t is dir_t, t is whiteout_t)
            else:
                nodes.setdefault(p, empty)
            for q in ancestors(p):
                if q in parents:
                    break
                parents.add(q)
                nodes.setdefault(q, empty)
    return nodes, parents


def _sort_key(path: str) -> list[bytes]:
    """dive's order of tree paths: by name bytes, folder by folder."""
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
                folder = parent(p)
                kids.setdefault(folder, set()).add(p)
                if not folder or folder in info:
                    break
                info[folder] = (0, False)
                p = folder
        info[path] = (size, is_dir)

    def release(self) -> None:
        """Empty the stack a slice at a time: freed in one go when the function returns, its
        hundreds of thousands of tuples and sets would hold the GIL for tens of milliseconds."""
        for d in (self.kids, self.info):
            pop = d.popitem
            while d:
                for _ in range(min(CHUNK, len(d))):
                    pop()

    def remove(self, path: str) -> None:
        if path not in self.info:
            return
        stack = [path]
        while stack:
            p = stack.pop()
            self.info.pop(p, None)
            stack.extend(self.kids.pop(p, ()))
        self.kids.get(parent(path), set()).discard(path)

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
        removals = [drop_whiteout_prefix(p) for p, (_s, _d, w) in nodes.items() if w]
        if any(r in nodes or r in parents for r in removals):
            for p in _post_order(sorted(nodes, key=_sort_key)):
                size, is_dir, w = nodes[p]
                if w:
                    self.remove(drop_whiteout_prefix(p))
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


def _visited(nodes: dict[str, _Info], parents: set[str], stack: _Stack) -> list[tuple[str, int]]:
    """(path, size) of each leaf dive's efficiency visit reaches in one layer.

    A whiteout counts the size of what it deletes below (a folder's subtree; 0 for a file).
    """
    leaves = [p for p in nodes if p not in parents]
    sized: list[tuple[str, int] | None] = []
    for p in leaves:
        size, _is_dir, w = nodes[p]
        if w:
            target = drop_whiteout_prefix(p)
            prev = stack.info.get(target)
            sized.append(None if prev is None else (target, stack.subtree_size(target) if prev[1] else 0))
        else:
            sized.append((p, size))
    if None not in sized:
        return [v for v in sized if v is not None]
    # dive stops this layer's visit at the first failing whiteout, leaves taken in name order
    ordered = sorted(zip(leaves, sized, strict=True), key=lambda t: _sort_key(t[0]))
    out: list[tuple[str, int]] = []
    for _p, v in ordered:
        if v is None:
            break
        out.append(v)
    return out


def dive_figures(layers: list[LayerIndex], cancelled: CancelCheck | None = None) -> DiveFigures:
    """dive 0.13.1's efficiency figures for the given layers (see shared/docs/FORMATS.md §5).
    Raises Cancelled (checked every ``CHUNK`` entries and between the steps of each layer)."""
    cum: dict[str, int] = {}
    mins: dict[str, int] = {}
    count: dict[str, int] = {}
    order: list[str] = []  # paths in the order they reached count 2
    stack = _Stack()
    last = len(layers) - 1
    for i, li in enumerate(layers):
        nodes, parents = _layer_nodes(li, cancelled)
        check_cancelled(cancelled)
        for p, size in _visited(nodes, parents, stack):
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
            check_cancelled(cancelled)
            stack.apply(nodes, parents)
    stack.release()
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
