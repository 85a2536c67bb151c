"""The overlay merge: what a container would see, who owns each path, what each layer did.

Rules (OCI image-spec layer.md, shared/docs/FORMATS.md §3):

* ``.wh.<name>`` deletes ``<name>`` from the LOWER layers; ``.wh..wh..opq`` hides every lower child
  of its directory wherever it stands in the tar. Both apply before the layer's own entries.
* a directory over a directory updates attributes; anything else replaces (a file over a directory
  drops the whole subtree);
* duplicate paths inside one layer: the last one wins, with a warning;
* hardlinks may point into earlier layers; ``resolve.hardlink_target`` follows them in the merged tree.

Each path a layer lists gets its own change kind; a folder's kind is then folded with the kinds of
the paths under it by ``ChangeKind.merge`` (so a folder is Modified when something below changed).
Content is hashed only where it decides Modified vs Unmodified: a file present in a lower layer and
again in this one with the same size and attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from .archive.records import Archive
from .entry import Entry
from .kinds import ChangeKind, EntryType
from .layers.content import iter_contents
from .layers.index import LayerIndex
from .limits import MAX_WARNINGS
from .paths import parent
from .progress import PAUSE_EVERY, CancelCheck, check_cancelled, pause_point

_ADDED = ChangeKind.ADDED
_MODIFIED = ChangeKind.MODIFIED
_REMOVED = ChangeKind.REMOVED
_UNMODIFIED = ChangeKind.UNMODIFIED
_DIR = EntryType.DIR
_FILE = EntryType.FILE
_WHITEOUT = EntryType.WHITEOUT
_OPAQUE = EntryType.OPAQUE
_type_of = attrgetter("type")


class Node:
    """A path in the merged tree: the entry a container sees there and the layer it comes from.

    ``entry`` is None for a folder that only exists because paths under it do (an implied folder,
    owned by the layer that first needed it). Nodes are updated in place while the merge runs.
    """

    __slots__ = ("entry", "layer")

    def __init__(self, entry: Entry | None, layer: int) -> None:
        self.entry = entry
        self.layer = layer

    @property
    def type(self) -> EntryType:
        """The entry's type; an implied folder is a ``DIR``."""
        return self.entry.type if self.entry is not None else _DIR

    @property
    def is_dir(self) -> bool:
        """True for folders, implied ones included."""
        return self.entry is None or self.entry.type is _DIR


NodeState = tuple[Entry | None, int] | None
"""A path's node at one moment of the merge: (entry, owner layer), or None where there was none."""

WasteEvent = tuple[str, int, int, int, bool]
"""A file copy the merge hid: (path, layer that stored it, bytes, layer that hid it, deleted?)."""


@dataclass(slots=True)
class LayerChange:
    """One row of a layer's own view: a path the layer added, modified, removed or left unmodified.

    ``entry`` is the layer's own entry; for a removal, the entry that was removed, and ``owner`` the
    layer it came from (otherwise ``owner`` is the layer itself). ``entry`` is None for folders the
    layer only implies.
    """

    path: str
    kind: ChangeKind
    entry: Entry | None
    owner: int


@dataclass(slots=True)
class ImageTree:
    """The filesystem of layers 0..``upto`` merged, plus what each of those layers changed.

    ``nodes`` maps every visible path (never the root ``""``) to its Node. ``changes[i]`` maps each
    path layer ``i`` touched to its ChangeKind, implied and derived folders included;
    ``removed[i]`` maps the paths the layer removed (the top of each removed subtree, and the
    children of a folder a whiteout deleted) to the Node removed there, and ``held[i]`` maps the
    same paths to what the removed subtree held: (file bytes, entries below it).
    ``waste_events`` lists the file copies hidden on the way, ``warnings`` the oddities met.
    ``undo[i]`` (``i`` >= 1; ``undo[0]`` is empty) maps every path whose node layer ``i`` created,
    changed or removed to its node just before that layer: with it, the merged filesystem up to any
    lower layer is the top one with the later layers' undo records laid over it (core/views.py's
    LevelView), without merging again.
    """

    layers: list[LayerIndex]
    nodes: dict[str, Node]
    upto: int
    changes: list[dict[str, ChangeKind]]
    removed: list[dict[str, Node]]
    waste_events: list[WasteEvent]
    warnings: list[str]
    held: list[dict[str, tuple[int, int]]] = field(default_factory=list)
    undo: Sequence[dict[str, NodeState]] = field(default_factory=list)
    _entries: dict[int, dict[str, Entry]] = field(default_factory=dict, repr=False)
    # made by core/views.py's LevelView, per later layer: folder -> file bytes it added below it,
    # and its undo records' paths by folder
    level_deltas: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)
    level_names: dict[int, dict[str, list[str]]] = field(default_factory=dict, repr=False)

    def change_of(self, path: str) -> ChangeKind:
        """The change that made the visible node: its kind in its owner layer."""
        return self.changes[self.nodes[path].layer].get(path, _ADDED)

    def layer_entries(self, layer: int) -> dict[str, Entry]:
        """The layer's own (last) entry per path, whiteouts and opaque markers left out."""
        d = self._entries.get(layer)
        if d is None:
            wo, op = _WHITEOUT, _OPAQUE
            d = {e.path: e for e in self.layers[layer].entries if e.type is not wo and e.type is not op}
            self._entries[layer] = d
        return d

    def layer_view(self, layer: int) -> list[LayerChange]:
        """Layer ``layer``'s own changes, sorted by path; removed paths included."""
        own = self.layer_entries(layer)
        gone = self.removed[layer]
        out = []
        for p, kind in sorted(self.changes[layer].items()):
            if kind is _REMOVED:
                n = gone[p]
                out.append(LayerChange(p, kind, n.entry, n.layer))
            else:
                out.append(LayerChange(p, kind, own.get(p), layer))
        return out

    def history(self, path: str) -> list[tuple[int, ChangeKind]]:
        """Every layer that added, changed or deleted ``path``: (layer, kind), bottom to top."""
        return [(i, lc[path]) for i, lc in enumerate(self.changes) if path in lc]


def _meta_differs(a: Entry, b: Entry) -> bool:
    """True when two entries of one path differ in anything but content and mtime."""
    return (
        a.type is not b.type
        or a.mode != b.mode
        or a.uid != b.uid
        or a.gid != b.gid
        or a.link != b.link
        or (a.extra is not b.extra and a.xattrs != b.xattrs)
    )


# (layer, path, new entry, layer of the previous entry, previous entry): same size and attributes
_Pending = tuple[int, str, Entry, int, Entry]


class _Merger:
    """The merge's working state: the nodes so far, each folder's child paths, waste and warnings."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.kids: dict[str, set[str]] = {"": set()}
        self.waste: list[WasteEvent] = []
        self.warnings: list[str] = []
        self.pending: list[_Pending] = []
        self.held: dict[str, tuple[int, int]] = {}  # the current layer's: see ImageTree.held
        self.undo: dict[str, NodeState] | None = None  # the current layer's (None: not kept)

    def subtree(self, path: str) -> tuple[int, int]:
        """(file bytes, entries) below ``path`` plus its own bytes: what removing it takes away."""
        nodes, kids = self.nodes, self.kids
        size = count = 0
        stack = [path]
        while stack:
            p = stack.pop()
            n = nodes.get(p)
            if n is None:
                continue
            count += 1
            e = n.entry
            if e is not None and e.type is _FILE:
                size += e.size
            stack.extend(kids.get(p, ()))
        return size, max(count - 1, 0)

    def _waste(self, path: str, n: Node, by: int, deleted: bool) -> None:
        e = n.entry
        if e is not None and e.size and e.type is _FILE:
            self.waste.append((path, n.layer, e.size, by, deleted))

    def drop(self, path: str, by: int, removed: dict[str, Node]) -> None:
        """Remove ``path`` and its subtree; the top goes into ``removed``."""
        nodes, kids = self.nodes, self.kids
        top = nodes.get(path)
        if top is not None and path not in removed:
            removed[path] = top
        undo = self.undo
        size = count = 0
        stack = [path]
        while stack:
            p = stack.pop()
            n = nodes.pop(p, None)
            if n is None:
                continue
            if undo is not None and p not in undo:
                undo[p] = (n.entry, n.layer)
            count += 1
            e = n.entry
            if e is not None and e.type is _FILE:
                size += e.size
            self._waste(p, n, by, True)
            sub = kids.pop(p, None)
            if sub:
                stack.extend(sub)
        if top is not None:
            self.held.setdefault(path, (size, count - 1))
        sibs = kids.get(parent(path))
        if sibs is not None:
            sibs.discard(path)

    def link_parent(
        self, path: str, folder: str, layer: int, lc: dict[str, ChangeKind], removed: dict[str, Node]
    ) -> None:
        """Register ``path`` under ``folder``, its parent, creating it and the folders above as needed."""
        kids = self.kids
        missing = []
        q = folder
        while q and q not in kids:
            missing.append(q)
            q = parent(q)
        for q in reversed(missing):
            old = self.nodes.get(q)
            if old is not None:  # a non-directory stands where a directory is needed
                self.warnings.append(f"layer {layer}: /{q} is a {old.type} but the layer puts files under it")
                self.drop(q, layer, removed)
            undo = self.undo
            if undo is not None and q not in undo:
                undo[q] = None  # nothing there before the layer (a non-folder was recorded by drop)
            self.nodes[q] = Node(None, layer)
            kids[q] = set()
            kids[parent(q)].add(q)
            if lc.get(q, _REMOVED) is _REMOVED:  # new, or deleted earlier in this layer: back again
                lc[q] = _MODIFIED if q in removed else _ADDED
        kids[folder].add(path)

    def apply_deletions(
        self, li: LayerIndex, lc: dict[str, ChangeKind], removed: dict[str, Node]
    ) -> dict[str, list[str]]:
        """Opaque markers and whiteouts of one layer; they act on the lower layers only.

        Returns each folder a whiteout deleted with its children; those go into ``removed`` too, so
        that ``list_restored`` can show them removed when the layer brings the folder back.
        """
        i = li.index
        nodes, kids = self.nodes, self.kids
        deleted_folders: dict[str, list[str]] = {}
        entries = li.entries
        types = list(map(_type_of, entries))  # one C-level pass; most layers delete nothing
        if _WHITEOUT not in types and _OPAQUE not in types:
            return deleted_folders
        marks = [n for n, t in enumerate(types) if t is _WHITEOUT or t is _OPAQUE]
        for k, n in enumerate(marks):
            if not k % PAUSE_EVERY:
                pause_point()
            e = entries[n]
            t = e.type
            if t is _OPAQUE:
                for child in sorted(kids.get(e.path, ())):
                    self.drop(child, i, removed)
                    lc[child] = _REMOVED
            elif t is _WHITEOUT and e.path in nodes:
                sub = kids.get(e.path)
                if sub:
                    deleted_folders[e.path] = children = sorted(sub)
                    for child in children:
                        removed.setdefault(child, nodes[child])
                        self.held.setdefault(child, self.subtree(child))
                self.drop(e.path, i, removed)
                lc[e.path] = _REMOVED
        return deleted_folders

    def list_restored(self, deleted_folders: dict[str, list[str]], lc: dict[str, ChangeKind]) -> None:
        """A folder deleted by a whiteout and made again by the same layer lists the children it lost
        as removed (as an opaque folder does)."""
        nodes = self.nodes
        for folder, children in deleted_folders.items():
            n = nodes.get(folder)
            if n is not None and n.is_dir:
                for child in children:
                    if child not in lc:
                        lc[child] = _REMOVED

    def replace(self, path: str, e: Entry, old: Node, layer: int, removed: dict[str, Node]) -> None:
        """Put ``e`` where ``old`` stood (anything but a folder over a folder)."""
        if old.layer != layer:
            self._waste(path, old, layer, False)
        if old.entry is None or old.entry.type is _DIR:  # the subtree goes
            kids = self.kids
            for child in list(kids.get(path, ())):
                self.drop(child, layer, removed)
            del kids[path]
        self.nodes[path] = Node(e, layer)
        if e.type is _DIR:
            self.kids[path] = set()

    def duplicate(self, path: str, e: Entry, old: Node | None, layer: int, dups: int) -> None:
        """A path the layer lists again: warn (up to MAX_WARNINGS) and count the hidden copy."""
        if dups <= MAX_WARNINGS:
            self.warnings.append(f"layer {layer}: /{path} appears more than once; the last one wins")
        if old is not None and not (old.is_dir and e.type is _DIR):
            self._waste(path, old, layer, False)

    def apply_entries(self, li: LayerIndex, lc: dict[str, ChangeKind], removed: dict[str, Node]) -> None:
        """The layer's own entries in tar order (the last of duplicates wins), each classified
        against the state before the layer."""
        i = li.index
        nodes, kids, pending, undo = self.nodes, self.kids, self.pending, self.undo
        dir_t, file_t, whiteout_t, opaque_t = _DIR, _FILE, _WHITEOUT, _OPAQUE
        meta_differs = _meta_differs
        before: dict[str, tuple[Entry | None, int] | None] = {}
        dups = 0
        for n, e in enumerate(li.entries):
            if not n % PAUSE_EVERY:
                pause_point()
            t = e.type
            if t is whiteout_t or t is opaque_t:
                continue
            p = e.path
            old = nodes.get(p)
            if p in before:
                dups += 1
                self.duplicate(p, e, old, i, dups)
                base = before[p]
            else:
                # the pre-layer state (a directory's node is updated in place below)
                b = old if old is not None else removed.get(p)
                before[p] = base = (b.entry, b.layer) if b is not None else None
                if undo is not None and p not in undo:  # the node itself, before the layer
                    undo[p] = (old.entry, old.layer) if old is not None else None
            if old is None:
                j = p.rfind("/")  # parent(p), inline: called for every new path
                folder = p[:j] if j >= 0 else ""
                sibs = kids.get(folder)
                if sibs is not None:
                    sibs.add(p)
                else:
                    self.link_parent(p, folder, i, lc, removed)
                nodes[p] = Node(e, i)
                if t is dir_t:
                    kids[p] = set()
            elif t is dir_t and (old.entry is None or old.entry.type is dir_t):
                old.entry = e
                old.layer = i
            else:
                self.replace(p, e, old, i, removed)
            if base is None:
                lc[p] = _ADDED
                continue
            pe, pl = base
            if pe is None:  # over an implied folder
                lc[p] = _UNMODIFIED if t is dir_t else _MODIFIED
            elif pe.size != e.size or meta_differs(pe, e):
                lc[p] = _MODIFIED
            else:
                lc[p] = _UNMODIFIED
                if t is file_t and e.size:
                    pending.append((i, p, e, pl, pe))
        if dups > MAX_WARNINGS:
            self.warnings.append(f"layer {i}: {dups - MAX_WARNINGS} more paths appear more than once")


def merge(
    layers: list[LayerIndex],
    upto: int | None = None,
    archive: Archive | None = None,
    cancelled: CancelCheck | None = None,
) -> ImageTree:
    """Merge layers 0..upto (default: all) bottom to top.

    With ``archive`` given, same-size same-attribute files are compared by content hash to tell
    Modified from Unmodified; without it they count as Modified. Raises Cancelled (and what reading
    the archive raises, LayerScopeError).
    """
    top = len(layers) - 1 if upto is None else min(upto, len(layers) - 1)
    m = _Merger()
    changes: list[dict[str, ChangeKind]] = []
    removals: list[dict[str, Node]] = []
    held: list[dict[str, tuple[int, int]]] = []
    undo: list[dict[str, NodeState]] = []
    for k, li in enumerate(layers[: top + 1]):
        check_cancelled(cancelled)
        lc: dict[str, ChangeKind] = {}
        removed: dict[str, Node] = {}
        m.held = {}
        held.append(m.held)
        m.undo = {} if k else None  # nothing lies below the bottom layer to go back to
        undo.append(m.undo if m.undo is not None else {})
        deleted_folders = m.apply_deletions(li, lc, removed)
        m.apply_entries(li, lc, removed)
        if deleted_folders:
            m.list_restored(deleted_folders, lc)
        changes.append(lc)
        removals.append(removed)
    if m.pending:  # content decides Modified vs Unmodified
        digests = _hash_entries(layers, archive, m.pending) if archive is not None else {}
        for i, p, e, j, pe in m.pending:
            a = digests.get((i, e.offset))
            if a is None or a != digests.get((j, pe.offset)):
                changes[i][p] = _MODIFIED
    for lc in changes:
        _derive_folders(lc)
    return ImageTree(layers, m.nodes, top, changes, removals, m.waste, m.warnings, held, undo)


def _derive_folders(lc: dict[str, ChangeKind]) -> None:
    """Fold each changed path's kind into the folders above it (``ChangeKind.merge``: a folder above
    a change is Modified unless it has a change of its own other than Unmodified). Written out for
    speed: every path of a layer passes here."""
    done: set[str] = set()
    unmodified, modified = _UNMODIFIED, _MODIFIED
    get = lc.get
    for n, (p, kind) in enumerate(list(lc.items())):
        if not n % PAUSE_EVERY:
            pause_point()
        if kind is unmodified:
            continue
        j = p.rfind("/")
        while j >= 0:  # the ancestors, nearest first (core/paths.ancestors)
            p = p[:j]
            if p in done:  # this folder and the ones above it already folded a change
                break
            done.add(p)
            k = get(p)
            if k is None or k is unmodified:  # k.merge(kind), kind being a change
                lc[p] = modified
            j = p.rfind("/")


def _hash_entries(
    layers: list[LayerIndex], archive: Archive, pending: list[_Pending]
) -> dict[tuple[int, int], str]:
    """SHA-256 of the content of both sides of each pending pair, by (layer, offset)."""
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
