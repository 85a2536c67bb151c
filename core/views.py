"""What a file browser shows: the merged filesystem up to a layer, or one layer's own changes.

Both views answer the same questions (children of a folder, a row for a path, search) so that the
GUI's tree model and the CLI can walk either without caring which it is. Directory sizes are the
sum of the file bytes below them, computed once per view.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .entry import Entry
from .folders import FolderSums, sum_folders
from .kinds import ChangeKind, EntryType
from .merge import ImageTree, NodeState
from .paths import ancestors as ancestors_of
from .paths import basename, join
from .progress import PAUSE_EVERY, check_cancelled, pause_point
from .turns import update_in_turns


@dataclass(frozen=True, slots=True)
class Row:
    """What a file browser shows for one path of a view.

    ``layer`` is the layer that made the row what it is: the owning layer, or for a removal the
    layer that removed the path. ``stored_in`` is the layer whose entry ``entry`` is: the owner, or
    for a removal the layer that had stored what was removed. ``size`` is a file's bytes, a folder's
    total of the file bytes below it (for a removed folder, the bytes it held); ``held`` the number
    of entries a removed folder held below it (0 for anything else); ``children`` the number of
    children in the view (0 for anything but a folder); ``entry`` is None for an implied folder.
    """

    path: str
    name: str
    type: EntryType
    size: int
    layer: int
    change: ChangeKind
    link: str | None
    entry: Entry | None
    children: int
    stored_in: int
    held: int = 0

    @property
    def removed(self) -> bool:
        """True when the row is a path its layer removed."""
        return self.change is ChangeKind.REMOVED


class FileView:
    """A tree of paths with a Row for each: what the GUI's tree model and ``ls`` walk.

    MergedView and LayerView fill it; ``top`` is the layer shown, ``layer_view`` says which of the
    two it is.
    """

    top: int
    layer_view: bool

    def __init__(self, kids: dict[str, list[str]], rows: Callable[[str], Row]) -> None:
        self._kids = kids
        self._row = rows

    def children(self, path: str) -> list[str]:
        """Child names of folder ``path`` ("" is the root), sorted by name."""
        return self._kids.get(path, [])

    def row(self, path: str) -> Row:
        """The row of a path of the view; raises KeyError for any other path."""
        return self._row(path)

    def changed(self, path: str) -> bool:
        """Whether the layer shown changed ``path`` or something below it (what "hide unmodified" keeps)."""
        return self._row(path).change is not ChangeKind.UNMODIFIED

    def paths(self) -> list[str]:
        """Every path of the view, folders before what they hold (not sorted)."""
        out: list[str] = []
        stack = [""]
        children = self.children
        while stack:
            p = stack.pop()
            for name in children(p):
                q = join(p, name)
                out.append(q)
                stack.append(q)
        return out

    def search(self, pattern: str, regex: bool = False, limit: int = 100000) -> tuple[list[str], set[str]]:
        """Paths whose full path matches (substring, case-insensitive; or a regex) and the set of
        their ancestors. Raises re.error for a bad regex."""
        if regex:
            rx = re.compile(pattern)
            match: Callable[[str], bool] = lambda p: rx.search("/" + p) is not None  # noqa: E731
        else:
            needle = pattern.lower()
            match = lambda p: needle in ("/" + p).lower()  # noqa: E731
        hits = [p for p in self.paths() if match(p)]
        hits.sort()
        hits = hits[:limit]
        above: set[str] = set()
        for p in hits:
            for q in ancestors_of(p):
                if q in above:
                    break
                above.add(q)
        return hits, above


def _children_and_sizes(paths: dict[str, int]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """From path -> own size: sorted child names and folder totals.

    One pass files each path under its folder and adds its size to that folder only; the folders'
    totals are then added up the tree, deepest folders first (a walk over the folders, not over
    every path's ancestors)."""
    kids: dict[str, list[str]] = {}
    direct: dict[str, int] = {}
    for p, size in paths.items():
        i = p.rfind("/")
        folder = p[:i] if i >= 0 else ""
        names = kids.get(folder)
        if names is None:
            kids[folder] = [p[i + 1 :]]
        else:
            names.append(p[i + 1 :])
        if size:
            direct[folder] = direct.get(folder, 0) + size
    for v in kids.values():
        v.sort()
    return kids, _add_up(direct)


def _add_up(direct: dict[str, int]) -> dict[str, int]:
    """Folder -> bytes of the files directly in it, to folder -> bytes of the files below it (every
    folder above a counted one included, the root left out)."""
    totals = dict(direct)
    by_depth: dict[int, list[str]] = {}
    for f in direct:
        if f:
            by_depth.setdefault(f.count("/"), []).append(f)
    for depth in range(max(by_depth, default=0), 0, -1):
        for f in by_depth.get(depth, ()):
            i = f.rfind("/")
            if i < 0:
                continue
            parent = f[:i]
            if parent in totals:
                totals[parent] += totals[f]
            else:
                totals[parent] = totals[f]
                by_depth.setdefault(depth - 1, []).append(parent)
    totals.pop("", None)
    return totals


class MergedView(FileView):
    """The merged filesystem as ``tree`` holds it (merged up to ``tree.upto``)."""

    layer_view = False

    def total(self, folder: str) -> int:
        """The file bytes below ``folder`` (0 for anything else)."""
        rec = self.folder_sums.get(folder) if folder else None
        return rec.bytes if rec is not None else 0

    def changed(self, path: str) -> bool:
        """Whether the top layer changed ``path`` or something below it (its own kind there)."""
        return self.tree.changes[self.top].get(path, ChangeKind.UNMODIFIED) is not ChangeKind.UNMODIFIED

    def __init__(self, tree: ImageTree, sums: dict[str, FolderSums] | None = None) -> None:
        """``sums``: what each folder of ``tree`` holds (``sum_folders(tree.nodes)``), when known."""
        self.tree = tree
        self.top = tree.upto
        nodes = tree.nodes
        file_t, dir_t = EntryType.FILE, EntryType.DIR
        # what each folder holds (core/folders.py): the space usage of the top reads it too
        sums = self.folder_sums = sum_folders(nodes) if sums is None else sums

        def row(path: str) -> Row:
            n = nodes[path]
            e = n.entry
            rec = sums.get(path)  # a folder holding anything
            if e is None or e.type is dir_t:
                size = rec.bytes if rec is not None else 0
            else:
                size = e.size if e.type is file_t else 0
            return Row(
                path,
                basename(path),
                n.type,
                size,
                n.layer,
                tree.change_of(path),
                e.link if e is not None else None,
                e,
                len(rec.names) if rec is not None else 0,
                n.layer,
            )

        super().__init__({}, row)

    def children(self, path: str) -> list[str]:
        rec = self.folder_sums.get(path)
        return rec.sorted_names() if rec is not None else []


class LayerView(FileView):
    """One layer's own changes (added, modified, removed, unmodified), with the folders above them."""

    layer_view = True

    def __init__(self, tree: ImageTree, layer: int) -> None:
        self.tree = tree
        self.top = layer
        changes = tree.changes[layer]  # path -> kind, as tree.layer_view(layer) lists them
        gone = tree.removed[layer]
        entries = tree.layer_entries(layer)
        held = tree.held[layer] if layer < len(tree.held) else {}
        own: dict[str, int] = {}
        file_t, removed, unmodified = EntryType.FILE, ChangeKind.REMOVED, ChangeKind.UNMODIFIED
        for p, k in changes.items():
            e = entries.get(p) if k is not removed else None
            own[p] = e.size if e is not None and e.type is file_t else 0
        # folders above the changed paths that the layer does not list itself
        for p in changes:
            for q in ancestors_of(p):
                if q in own:
                    break
                own[q] = 0
        kids, totals = _children_and_sizes(own)

        def row(path: str) -> Row:
            k = changes.get(path)
            if k is None:  # a folder above unmodified paths, that the layer does not list itself
                if path not in own:
                    raise KeyError(path)
                n = kids.get(path, ())
                e, was = listed_below(path)
                return Row(
                    path,
                    basename(path),
                    EntryType.DIR,
                    totals.get(path, 0),
                    layer,
                    unmodified,
                    None,
                    e,
                    len(n),
                    was,
                )
            if k is removed:  # numbered by the layer that removed it; sized by what it held
                n_gone = gone[path]
                e = n_gone.entry
                kind = e.type if e is not None else EntryType.DIR
                bytes_held, entries_held = held.get(path, (e.size if e is not None else 0, 0))
                return Row(
                    path,
                    basename(path),
                    kind,
                    bytes_held,
                    layer,
                    removed,
                    e.link if e is not None else None,
                    e,
                    0,
                    n_gone.layer,
                    entries_held,
                )
            e = entries.get(path)
            stored_in = layer
            if e is None:  # a folder above what the layer changed, not listed by it
                e, stored_in = listed_below(path)
            kind = e.type if e is not None else EntryType.DIR
            return Row(
                path,
                basename(path),
                kind,
                totals.get(path, 0) if kind is EntryType.DIR else (e.size if e is not None else 0),
                layer,
                k,
                e.link if e is not None else None,
                e,
                len(kids.get(path, ())),
                stored_in,
            )

        later = ChainMap(*(tree.undo[j] for j in range(layer + 1, tree.upto + 1)))

        def listed_below(path: str) -> tuple[Entry | None, int]:
            """A folder the layer does not list: the entry it has once the layer is applied (a lower
            layer's, whose attributes it keeps) and that layer; (None, layer) for a folder no layer
            lists (implied by the paths under it)."""
            state = node_state(later, tree, path)
            if state is None or state[0] is None:
                return None, layer
            return state

        super().__init__(kids, row)


def node_state(later: Mapping[str, NodeState], tree: ImageTree, path: str) -> NodeState:
    """``path``'s node in the merged filesystem up to a layer: in ``later`` (the undo records of the
    layers above it laid over one another, the lowest first: its node just before the lowest later
    layer that changed it), else the top's node."""
    if path in later:
        return later[path]
    n = tree.nodes.get(path)
    return (n.entry, n.layer) if n is not None else None


def _file_size(state: NodeState) -> int:
    e = state[0] if state is not None else None
    return e.size if e is not None and e.type is EntryType.FILE else 0


def level_records(tree: ImageTree, layer: int, after: dict[str, NodeState]) -> None:
    """What LevelView needs of layer ``layer`` (>= 1) of ``tree``, kept on the tree: per folder the
    file bytes the layer added below it (negative: took away), and the paths it touched.

    ``after`` is the undo records of the layers above ``layer`` laid over one another (the nodes as
    they were right after ``layer``, where they differ from the top). One pass over the layer's
    undo records."""
    nodes = tree.nodes
    file_t = EntryType.FILE
    direct: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    for k, (p, before) in enumerate(tree.undo[layer].items()):
        if not k % PAUSE_EVERY:
            pause_point()
        i = p.rfind("/")
        folder = p[:i] if i >= 0 else ""
        here = names.get(folder)
        if here is None:
            names[folder] = [p]
        else:
            here.append(p)
        if p in after:
            now = after[p]
            e = now[0] if now is not None else None
        else:
            n = nodes.get(p)
            e = n.entry if n is not None else None
        d = e.size if e is not None and e.type is file_t else 0
        if before is not None:
            b = before[0]
            if b is not None and b.type is file_t:
                d -= b.size
        if d:
            direct[folder] = direct.get(folder, 0) + d
    tree.level_names[layer] = names
    tree.level_deltas[layer] = _add_up(direct)


CHAINED_LAYERS = 16
"""A LevelView with up to this many layers above it looks their records up one by one (made at once);
with more, it merges them first (looked up at once)."""


class _Sums:
    """The sum over several folder -> bytes mappings, asked one folder at a time."""

    def __init__(self, parts: list[dict[str, int]]) -> None:
        self._parts = parts

    def get(self, folder: str, default: int = 0) -> int:
        return sum(d.get(folder, 0) for d in self._parts) or default


def _no_row(path: str) -> Row:
    raise KeyError(path)


def prepare_levels(tree: ImageTree, cancelled: Callable[[], bool] | None = None) -> None:
    """``level_records`` of every layer above the bottom, top down (what is kept already is kept).
    Raises Cancelled (checked between layers)."""
    if all(j in tree.level_deltas for j in range(1, tree.upto + 1)):
        return
    overlay: dict[str, NodeState] = {}
    for j in range(tree.upto, 0, -1):
        check_cancelled(cancelled)
        if j not in tree.level_deltas:
            level_records(tree, j, overlay)
        update_in_turns(overlay, tree.undo[j])


class LevelView(FileView):
    """The merged filesystem up to layer ``layer``, derived from the top's MergedView: the nodes of
    the later layers' undo records (``ImageTree.undo``) replace the top's, folder sizes are the
    top's minus what the later layers added below them, and a folder's children are worked out when
    it is first asked for (only folders a later layer touched differ from the top's).

    Rows, children and search are those of ``MergedView(merge(layers, upto=layer))``; making one
    costs a few dictionary merges (the first for an image: one pass over the later layers' records)
    instead of a merge."""

    layer_view = False

    def __init__(self, top: MergedView, layer: int) -> None:
        tree = top.tree
        self.tree = tree
        self.top = layer
        self._top_view = top
        prepare_levels(tree)
        above = range(layer + 1, tree.upto + 1)
        # path -> its node at ``layer``, where not the top's: the lowest later layer's undo record;
        # folder -> the bytes the later layers added below it
        overlay: Mapping[str, NodeState]
        corrections: dict[str, int] | _Sums
        if len(above) <= CHAINED_LAYERS:  # looked up layer by layer, nothing merged
            overlay = ChainMap(*(tree.undo[j] for j in above))
            corrections = _Sums([tree.level_deltas[j] for j in above])
        else:
            merged: dict[str, NodeState] = {}
            sums: dict[str, int] = {}
            for j in reversed(above):
                update_in_turns(merged, tree.undo[j])
                for f, v in tree.level_deltas[j].items():
                    sums[f] = sums.get(f, 0) + v
            overlay, corrections = merged, sums
        self._overlay = overlay
        self._corrections = corrections
        self._groups = [tree.level_names[j] for j in range(layer + 1, tree.upto + 1)]
        self._kids_of: dict[str, list[str]] = {}  # children worked out so far
        self._top_kids = top.children
        super().__init__({}, _no_row)

    def _state(self, path: str) -> NodeState:
        return node_state(self._overlay, self.tree, path)

    def children(self, path: str) -> list[str]:
        return self._children(path)

    def _children(self, path: str) -> list[str]:
        kids = self._kids_of.get(path)
        if kids is not None:
            return kids
        top_kids = self._top_kids(path)
        touched: set[str] = set()
        cut = len(path) + 1 if path else 0
        for g in self._groups:
            paths = g.get(path)
            if paths:
                touched.update(p[cut:] for p in paths)
        if not touched:
            kids = top_kids
        else:
            overlay = self._overlay
            here = [n for n in touched if overlay[join(path, n)] is not None]
            kids = sorted([n for n in top_kids if n not in touched] + here)
        self._kids_of[path] = kids
        return kids

    def changed(self, path: str) -> bool:
        return self.tree.changes[self.top].get(path, ChangeKind.UNMODIFIED) is not ChangeKind.UNMODIFIED

    def row(self, path: str) -> Row:
        state = self._state(path) if path else None
        if state is None:
            raise KeyError(path)
        e, layer = state
        is_dir = e is None or e.type is EntryType.DIR
        if is_dir:
            size = self._top_view.total(path) - self._corrections.get(path, 0)
            children = len(self._children(path))
        else:
            size, children = _file_size(state), 0
        return Row(
            path,
            basename(path),
            e.type if e is not None else EntryType.DIR,
            size,
            layer,
            self.tree.changes[layer].get(path, ChangeKind.ADDED),
            e.link if e is not None else None,
            e,
            children,
            layer,
        )
