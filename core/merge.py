"""The overlay merge: what a container would see, who owns each path, what each layer did.

Rules (OCI image-spec layer.md, shared/docs/FORMATS.md §3):

* ``.wh.<name>`` deletes ``<name>`` from the LOWER layers; ``.wh..wh..opq`` hides every lower child
  of its directory wherever it stands in the tar. Both apply before the layer's own entries.
* a directory over a directory updates attributes; anything else replaces (a file over a directory
  drops the whole subtree);
* duplicate paths inside one layer: the last one wins, with a warning;
* hardlinks may point into earlier layers and are resolved against the merged tree.

Content is hashed only where it decides Modified vs Unmodified: a file present in a lower layer and
again in this one with the same size and attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from .archive import Archive
from .errors import Cancelled
from .layers import LayerIndex, iter_contents
from .tarindex import MAX_WARNINGS, Entry, ancestors

ADDED = "added"
MODIFIED = "modified"
REMOVED = "removed"
UNMODIFIED = "unmodified"


class Node:
    """A path in the merged tree: its visible entry (None for an implied directory) and its owner."""

    __slots__ = ("entry", "layer")

    def __init__(self, entry: Entry | None, layer: int) -> None:
        self.entry = entry
        self.layer = layer

    @property
    def type(self) -> str:
        return self.entry.type if self.entry is not None else "dir"

    @property
    def is_dir(self) -> bool:
        return self.entry is None or self.entry.type == "dir"


# (path, layer that stored the copy, bytes, layer that shadowed or deleted it, deleted?)
WasteEvent = tuple[str, int, int, int, bool]


@dataclass(slots=True)
class LayerChange:
    """One row of a layer's own view."""

    path: str
    kind: str  # added | modified | removed | unmodified
    entry: Entry | None  # the layer's entry; for removals the entry that was removed
    owner: int  # the layer whose entry this is (for removals: where the removed entry came from)


@dataclass(slots=True)
class ImageTree:
    """The merged filesystem up to layer ``upto`` plus every merged layer's own changes."""

    layers: list[LayerIndex]
    nodes: dict[str, Node]
    upto: int
    changes: list[dict[str, str]]  # per layer: path -> kind (implied parents included)
    removed: list[dict[str, Node]]  # per layer: path -> the node it removed (tops of removed subtrees)
    waste_events: list[WasteEvent]
    warnings: list[str]
    _children: dict[str, list[str]] | None = field(default=None, repr=False)
    _entries: dict[int, dict[str, Entry]] = field(default_factory=dict, repr=False)

    def children(self, path: str) -> list[str]:
        """Names of the children of directory ``path`` ("" is the root), sorted."""
        if self._children is None:
            kids: dict[str, list[str]] = {}
            for p in self.nodes:
                i = p.rfind("/")
                kids.setdefault(p[:i] if i >= 0 else "", []).append(p[i + 1 :])
            for v in kids.values():
                v.sort()
            self._children = kids
        return self._children.get(path, [])

    def change_of(self, path: str) -> str:
        """The change that made the visible node: its kind in its owner layer."""
        return self.changes[self.nodes[path].layer].get(path, ADDED)

    def resolve(self, path: str) -> Node | None:
        """The node a hardlink at ``path`` points to (or the node itself)."""
        n = self.nodes.get(path)
        seen = 0
        while n is not None and n.entry is not None and n.entry.type == "hardlink" and seen < 40:
            n = self.nodes.get(n.entry.link or "")
            seen += 1
        return n

    def layer_entries(self, layer: int) -> dict[str, Entry]:
        """The layer's own (last) entry per path, whiteouts and opaque markers left out."""
        d = self._entries.get(layer)
        if d is None:
            d = {e.path: e for e in self.layers[layer].entries if e.type not in ("whiteout", "opaque")}
            self._entries[layer] = d
        return d

    def layer_view(self, layer: int) -> list[LayerChange]:
        """Layer ``layer``'s own changes, sorted by path; removed paths included."""
        own = self.layer_entries(layer)
        gone = self.removed[layer]
        out = []
        for p, kind in sorted(self.changes[layer].items()):
            if kind == REMOVED:
                n = gone[p]
                out.append(LayerChange(p, kind, n.entry, n.layer))
            else:
                out.append(LayerChange(p, kind, own.get(p), layer))
        return out

    def history(self, path: str) -> list[tuple[int, str]]:
        """Every layer that added, changed or deleted ``path``: (layer, kind), bottom to top."""
        return [(i, lc[path]) for i, lc in enumerate(self.changes) if path in lc]


def _xattrs(e: Entry) -> object:
    return e.extra.get("xattrs") if e.extra else None


def _meta_differs(a: Entry, b: Entry) -> bool:
    return (
        a.type != b.type
        or a.mode != b.mode
        or a.uid != b.uid
        or a.gid != b.gid
        or a.link != b.link
        or (a.extra is not b.extra and _xattrs(a) != _xattrs(b))
    )


class _Merger:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.kids: dict[str, set[str]] = {"": set()}
        self.waste: list[WasteEvent] = []
        self.warnings: list[str] = []

    def _waste(self, path: str, n: Node, by: int, deleted: bool) -> None:
        e = n.entry
        if e is not None and e.size and e.type == "file":
            self.waste.append((path, n.layer, e.size, by, deleted))

    def drop(self, path: str, by: int, removed: dict[str, Node]) -> None:
        """Remove ``path`` and its subtree; the top goes into ``removed``."""
        nodes, kids = self.nodes, self.kids
        top = nodes.get(path)
        if top is not None and path not in removed:
            removed[path] = top
        stack = [path]
        while stack:
            p = stack.pop()
            n = nodes.pop(p, None)
            if n is None:
                continue
            self._waste(p, n, by, True)
            sub = kids.pop(p, None)
            if sub:
                stack.extend(sub)
        i = path.rfind("/")
        parent = kids.get(path[:i] if i >= 0 else "")
        if parent is not None:
            parent.discard(path)

    def link_parent(self, path: str, layer: int, lc: dict[str, str], removed: dict[str, Node]) -> None:
        """Register ``path`` under its parent, creating implied parent directories as needed."""
        kids = self.kids
        i = path.rfind("/")
        parent = path[:i] if i >= 0 else ""
        sibs = kids.get(parent)
        if sibs is not None:
            sibs.add(path)
            return
        missing = []
        p = parent
        while p and p not in kids:
            missing.append(p)
            j = p.rfind("/")
            p = p[:j] if j >= 0 else ""
        for q in reversed(missing):
            old = self.nodes.get(q)
            if old is not None:  # a non-directory stands where a directory is needed
                self.warnings.append(f"layer {layer}: /{q} is a {old.type} but the layer puts files under it")
                self.drop(q, layer, removed)
            self.nodes[q] = Node(None, layer)
            kids[q] = set()
            j = q.rfind("/")
            kids[q[:j] if j >= 0 else ""].add(q)
            if q not in lc:
                lc[q] = MODIFIED if q in removed else ADDED
        kids[parent].add(path)


def merge(
    layers: list[LayerIndex],
    upto: int | None = None,
    archive: Archive | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImageTree:
    """Merge layers 0..upto (default: all) bottom to top.

    With ``archive`` given, same-size same-attribute files are compared by content hash to tell
    Modified from Unmodified; without it they count as Modified. Raises Cancelled.
    """
    top = len(layers) - 1 if upto is None else min(upto, len(layers) - 1)
    m = _Merger()
    nodes, kids = m.nodes, m.kids
    changes: list[dict[str, str]] = []
    removals: list[dict[str, Node]] = []
    pending: list[tuple[int, str, Entry, int, Entry]] = []  # (layer, path, new, prev layer, prev)
    for li in layers[: top + 1]:
        if cancelled is not None and cancelled():
            raise Cancelled()
        i = li.index
        lc: dict[str, str] = {}
        removed: dict[str, Node] = {}
        # 1. deletions first: opaque directories and whiteouts act on the lower layers only
        for e in li.entries:
            t = e.type
            if t == "opaque":
                for child in sorted(kids.get(e.path, ())):
                    m.drop(child, i, removed)
                    lc[child] = REMOVED
            elif t == "whiteout" and e.path in nodes:
                m.drop(e.path, i, removed)
                lc[e.path] = REMOVED
        # 2. the layer's own entries in tar order; the last of duplicates wins
        before: dict[str, tuple[Entry | None, int] | None] = {}
        dups = 0
        for e in li.entries:
            t = e.type
            if t == "whiteout" or t == "opaque":
                continue
            p = e.path
            old = nodes.get(p)
            if p in before:
                dups += 1
                if dups <= MAX_WARNINGS:
                    m.warnings.append(f"layer {i}: /{p} appears more than once; the last one wins")
                if old is not None and not (old.is_dir and t == "dir"):
                    m._waste(p, old, i, False)
                base = before[p]
            else:
                # the pre-layer state (a directory's node is updated in place below)
                b = old if old is not None else removed.get(p)
                before[p] = base = (b.entry, b.layer) if b is not None else None
            if old is not None:
                if t == "dir" and (old.entry is None or old.entry.type == "dir"):
                    old.entry = e
                    old.layer = i
                else:
                    if old.layer != i:
                        m._waste(p, old, i, False)
                    if old.entry is None or old.entry.type == "dir":  # the subtree goes
                        for child in list(kids.get(p, ())):
                            m.drop(child, i, removed)
                        del kids[p]
                    nodes[p] = Node(e, i)
                    if t == "dir":
                        kids[p] = set()
            else:
                m.link_parent(p, i, lc, removed)
                nodes[p] = Node(e, i)
                if t == "dir":
                    kids[p] = set()
            # classify against the state before this layer
            if base is None:
                lc[p] = ADDED
                continue
            pe, pl = base
            if pe is None:
                lc[p] = UNMODIFIED if t == "dir" else MODIFIED
            elif pe.size != e.size or _meta_differs(pe, e):
                lc[p] = MODIFIED
            elif t == "file" and e.size:
                lc[p] = UNMODIFIED
                pending.append((i, p, e, pl, pe))
            else:
                lc[p] = UNMODIFIED
        if dups > MAX_WARNINGS:
            m.warnings.append(f"layer {i}: {dups - MAX_WARNINGS} more paths appear more than once")
        changes.append(lc)
        removals.append(removed)

    # 3. content comparison where it decides Modified vs Unmodified
    if pending:
        digests = _hash_entries(layers, archive, pending) if archive is not None else {}
        for i, p, e, j, pe in pending:
            a = digests.get((i, e.offset))
            if a is None or a != digests.get((j, pe.offset)):
                changes[i][p] = MODIFIED
    # 4. a directory is Modified when something under it changed
    for lc in changes:
        _propagate_dirs(lc)
    return ImageTree(layers, nodes, top, changes, removals, m.waste, m.warnings)


def _propagate_dirs(lc: dict[str, str]) -> None:
    changed_dirs: set[str] = set()
    for p, kind in lc.items():
        if kind == UNMODIFIED:
            continue
        for q in ancestors(p):
            if q in changed_dirs:
                break
            changed_dirs.add(q)
    for q in changed_dirs:
        if lc.get(q, UNMODIFIED) == UNMODIFIED:
            lc[q] = MODIFIED


def _hash_entries(
    layers: list[LayerIndex], archive: Archive, pending: list[tuple[int, str, Entry, int, Entry]]
) -> dict[tuple[int, int], str]:
    want: dict[int, dict[int, Entry]] = {}
    for i, _p, e, j, pe in pending:
        want.setdefault(i, {})[e.offset] = e
        want.setdefault(j, {})[pe.offset] = pe
    out: dict[tuple[int, int], str] = {}
    by_index = {li.index: li for li in layers}
    for i, ents in want.items():
        for e, chunks in iter_contents(archive, by_index[i].desc, list(ents.values())):
            h = hashlib.sha256()
            for c in chunks:
                h.update(c)
            out[(i, e.offset)] = h.hexdigest()
    return out
