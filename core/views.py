"""What a file browser shows: the merged filesystem up to a layer, or one layer's own changes.

Both views answer the same questions (children of a folder, a row for a path, search) so that the
GUI's tree model and the CLI can walk either without caring which it is. Directory sizes are the
sum of the file bytes below them, computed once per view.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .entry import Entry
from .kinds import ChangeKind, EntryType
from .merge import ImageTree
from .paths import ancestors as ancestors_of
from .paths import basename, join


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
        while stack:
            p = stack.pop()
            for name in self._kids.get(p, ()):
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

    def changed(self, path: str) -> bool:
        """Whether the top layer changed ``path`` or something below it (its own kind there)."""
        return self.tree.changes[self.top].get(path, ChangeKind.UNMODIFIED) is not ChangeKind.UNMODIFIED

    def __init__(self, tree: ImageTree) -> None:
        self.tree = tree
        self.top = tree.upto
        nodes = tree.nodes
        file_t = EntryType.FILE
        own = {
            p: (n.entry.size if n.entry is not None and n.entry.type is file_t else 0)
            for p, n in nodes.items()
        }
        kids, totals = _children_and_sizes(own)

        def row(path: str) -> Row:
            n = nodes[path]
            e = n.entry
            is_dir = e is None or e.type is EntryType.DIR
            return Row(
                path,
                basename(path),
                n.type,
                totals.get(path, 0) if is_dir else own[path],
                n.layer,
                tree.change_of(path),
                e.link if e is not None else None,
                e,
                len(kids.get(path, ())),
                n.layer,
            )

        super().__init__(kids, row)


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
                return Row(
                    path,
                    basename(path),
                    EntryType.DIR,
                    totals.get(path, 0),
                    layer,
                    unmodified,
                    None,
                    None,
                    len(n),
                    layer,
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
                layer,
            )

        super().__init__(kids, row)
