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
from .layers import LayerIndex, iter_contents
from .tarindex import Entry

ADDED = "added"
MODIFIED = "modified"
REMOVED = "removed"
UNMODIFIED = "unmodified"


class Node:
    """A path in the merged tree: its visible entry (None for an implied directory) and its owner."""

    __slots__ = ("entry", "layer", "touched")

    def __init__(self, entry: Entry | None, layer: int, touched: list[int]) -> None:
        self.entry = entry
        self.layer = layer
        self.touched = touched

    @property
    def type(self) -> str:
        return self.entry.type if self.entry is not None else "dir"

    @property
    def is_dir(self) -> bool:
        return self.entry is None or self.entry.type == "dir"


@dataclass(slots=True)
class Change:
    path: str
    kind: str  # added | modified | removed | unmodified
    entry: Entry | None  # the layer's entry, or for removals the entry that was removed
    layer: int  # the layer that made the change
    owner: int | None = None  # for removals: the layer whose entry was removed


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


@dataclass(slots=True)
class ImageTree:
    """The merged filesystem up to layer ``upto`` plus every merged layer's own changes."""

    nodes: dict[str, Node]
    upto: int
    changes: list[dict[str, Change]]
    waste: dict[str, WasteItem]
    warnings: list[str]
    _children: dict[str, list[str]] | None = field(default=None, repr=False)

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
        n = self.nodes[path]
        ch = self.changes[n.layer].get(path) if n.layer < len(self.changes) else None
        return ch.kind if ch is not None else ADDED

    def resolve(self, path: str) -> Node | None:
        """The node a hardlink at ``path`` points to (or the node itself)."""
        n = self.nodes.get(path)
        seen = 0
        while n is not None and n.entry is not None and n.entry.type == "hardlink" and seen < 40:
            n = self.nodes.get(n.entry.link or "")
            seen += 1
        return n


def _xattrs(e: Entry) -> object:
    return e.extra.get("xattrs") if e.extra else None


def _meta_differs(a: Entry, b: Entry) -> bool:
    return (
        a.type != b.type
        or a.mode != b.mode
        or a.uid != b.uid
        or a.gid != b.gid
        or a.link != b.link
        or _xattrs(a) != _xattrs(b)
    )


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
    from .errors import Cancelled

    top = len(layers) - 1 if upto is None else min(upto, len(layers) - 1)
    nodes: dict[str, Node] = {}
    kids: dict[str, set[str]] = {"": set()}
    changes: list[dict[str, Change]] = []
    waste: dict[str, WasteItem] = {}
    warnings: list[str] = []
    pending: list[tuple[int, str, Entry, int, Entry]] = []  # (layer, path, new, prev layer, prev)

    def add_waste(path: str, n: Node, by: int, deleted: bool) -> None:
        e = n.entry
        if e is None or e.type != "file" or e.size == 0:
            return
        w = waste.get(path)
        if w is None:
            waste[path] = WasteItem(path, e.size, [(n.layer, e.size)], [by], deleted)
        else:
            w.size += e.size
            w.copies.append((n.layer, e.size))
            if by not in w.by:
                w.by.append(by)
            w.deleted = deleted

    def drop(path: str, by: int, removed: dict[str, Node]) -> None:
        """Remove ``path`` and its subtree from the merged tree."""
        stack = [path]
        while stack:
            p = stack.pop()
            n = nodes.pop(p, None)
            if n is None:
                continue
            removed[p] = n
            add_waste(p, n, by, True)
            sub = kids.pop(p, None)
            if sub:
                stack.extend(sub)
        i = path.rfind("/")
        parent = kids.get(path[:i] if i >= 0 else "")
        if parent is not None:
            parent.discard(path)

    def ensure_parents(
        path: str, layer: int, layer_changes: dict[str, Change], removed: dict[str, Node]
    ) -> None:
        i = path.rfind("/")
        parent = path[:i] if i >= 0 else ""
        if parent in kids:
            kids[parent].add(path)
            return
        missing = []
        p = parent
        while p and p not in kids:
            missing.append(p)
            j = p.rfind("/")
            p = p[:j] if j >= 0 else ""
        for q in reversed(missing):
            old = nodes.get(q)
            if old is not None:  # a non-directory stands where a directory is needed
                warnings.append(
                    f"layer {layer}: /{q} is a {old.type} but the layer puts files under it; replaced"
                )
                drop(q, layer, removed)
            nodes[q] = Node(None, layer, [layer])
            kids[q] = set()
            j = q.rfind("/")
            kids[q[:j] if j >= 0 else ""].add(q)
            if q not in layer_changes:
                prev = removed.get(q)
                layer_changes[q] = Change(q, MODIFIED if prev is not None else ADDED, None, layer)
        kids[parent].add(path)

    for li in layers[: top + 1]:
        if cancelled is not None and cancelled():
            raise Cancelled()
        i = li.index
        lc: dict[str, Change] = {}
        removed: dict[str, Node] = {}
        # 1. deletions first: opaque directories and whiteouts act on the lower layers only
        for e in li.entries:
            if e.type == "opaque":
                d = e.path
                for child in sorted(kids.get(d, ())):
                    n = nodes.get(child)
                    if n is not None:
                        n.touched.append(i)
                    drop(child, i, removed)
                    if n is not None:
                        lc[child] = Change(child, REMOVED, n.entry, i, n.layer)
            elif e.type == "whiteout":
                n = nodes.get(e.path)
                if n is None:
                    continue
                n.touched.append(i)
                drop(e.path, i, removed)
                lc[e.path] = Change(e.path, REMOVED, n.entry, i, n.layer)
        # 2. the layer's own entries, in tar order; the last of duplicates wins
        before: dict[str, tuple[Entry | None, int] | None] = {}
        for e in li.entries:
            t = e.type
            if t == "whiteout" or t == "opaque":
                continue
            p = e.path
            old = nodes.get(p)
            if p in before:
                warnings.append(f"layer {i}: /{p} appears more than once; the last one wins")
                if old is not None and not (old.is_dir and t == "dir"):
                    add_waste(p, old, i, False)
            else:
                prev_node = old if old is not None else removed.get(p)
                before[p] = (prev_node.entry, prev_node.layer) if prev_node is not None else None
            if old is not None:
                if old.touched[-1] != i:
                    old.touched.append(i)
                if old.is_dir and t == "dir":
                    old.entry = e
                    old.layer = i
                else:
                    if old.layer != i:
                        add_waste(p, old, i, False)
                    if old.is_dir:  # replacing a directory: its subtree goes
                        for child in list(kids.get(p, ())):
                            drop(child, i, removed)
                        kids.pop(p, None)
                    nodes[p] = Node(e, i, old.touched)
                    if t == "dir":
                        kids[p] = set()
            else:
                gone = removed.get(p)
                ensure_parents(p, i, lc, removed)
                touched = [i] if gone is None else gone.touched
                if touched[-1] != i:
                    touched.append(i)
                nodes[p] = Node(e, i, touched)
                if t == "dir":
                    kids.setdefault(p, set())
            # classify against the state before this layer
            base = before[p]
            if base is None:
                kind = ADDED
            else:
                pe, pl = base
                if pe is None:
                    kind = UNMODIFIED if t == "dir" else MODIFIED
                elif _meta_differs(pe, e) or pe.size != e.size:
                    kind = MODIFIED
                elif t == "file" and e.size > 0:
                    kind = UNMODIFIED
                    pending.append((i, p, e, pl, pe))
                else:
                    kind = UNMODIFIED
            lc[p] = Change(p, kind, e, i)
        changes.append(lc)

    # 3. content comparison where it decides Modified vs Unmodified
    if pending:
        digests = _hash_entries(layers, archive, pending) if archive is not None else None
        for i, p, e, j, pe in pending:
            same = digests is not None and digests.get((i, e.offset)) == digests.get((j, pe.offset))
            if not same:
                changes[i][p].kind = MODIFIED
    # 4. a directory is Modified when something under it changed
    for lc in changes:
        _propagate_dirs(lc)
    return ImageTree(nodes, top, changes, waste, warnings)


def _propagate_dirs(lc: dict[str, Change]) -> None:
    changed_dirs: set[str] = set()
    for p, ch in lc.items():
        if ch.kind == UNMODIFIED:
            continue
        j = p.rfind("/")
        while j >= 0:
            q = p[:j]
            if q in changed_dirs:
                break
            changed_dirs.add(q)
            j = q.rfind("/")
    for q in changed_dirs:
        ch = lc.get(q)
        if ch is None:
            lc[q] = Change(q, MODIFIED, None, -1)
        elif ch.kind == UNMODIFIED:
            ch.kind = MODIFIED


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
        li = by_index[i]
        for e, chunks in iter_contents(archive, li.desc, list(ents.values())):
            h = hashlib.sha256()
            for c in chunks:
                h.update(c)
            out[(i, e.offset)] = h.hexdigest()
    return out
