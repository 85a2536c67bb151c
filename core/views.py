"""What a file browser shows: the merged filesystem up to a layer, or one layer's own changes.

Both views answer the same questions (children of a folder, a row for a path, search) so that the
GUI's tree model and the CLI can walk either without caring which it is. Directory sizes are the
sum of the file bytes below them, computed once per view.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .merge import ADDED, REMOVED, UNMODIFIED, ImageTree
from .tarindex import Entry
from .tarindex import ancestors as ancestors_of


@dataclass(frozen=True, slots=True)
class Row:
    path: str
    name: str
    type: str
    size: int  # a file's bytes; a folder's total below it
    layer: int  # the owning layer (for removals: the layer whose entry was removed)
    change: str
    link: str | None
    entry: Entry | None
    children: int  # number of children (0 for non-folders)


class FileView:
    """Base: a tree of paths with a row for each."""

    top: int
    layer_view: bool

    def __init__(self, kids: dict[str, list[str]], rows: Callable[[str], Row]) -> None:
        self._kids = kids
        self._row = rows

    def children(self, path: str) -> list[str]:
        """Child names of folder ``path`` ("" is the root), sorted by name."""
        return self._kids.get(path, [])

    def row(self, path: str) -> Row:
        return self._row(path)

    def paths(self) -> list[str]:
        out: list[str] = []
        stack = [""]
        while stack:
            p = stack.pop()
            for name in self._kids.get(p, ()):
                q = f"{p}/{name}" if p else name
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
    """From path -> own size: sorted child names and folder totals."""
    kids: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    for p, size in paths.items():
        j = p.rfind("/")
        parent = p[:j] if j >= 0 else ""
        kids.setdefault(parent, []).append(p[j + 1 :])
        if size:
            for q in ancestors_of(p):
                totals[q] = totals.get(q, 0) + size
    for v in kids.values():
        v.sort()
    return kids, totals


class MergedView(FileView):
    """The merged filesystem as ``tree`` holds it (merged up to ``tree.upto``)."""

    layer_view = False

    def __init__(self, tree: ImageTree) -> None:
        self.tree = tree
        self.top = tree.upto
        nodes = tree.nodes
        own = {
            p: (n.entry.size if n.entry is not None and n.entry.type == "file" else 0)
            for p, n in nodes.items()
        }
        kids, totals = _children_and_sizes(own)

        def row(path: str) -> Row:
            n = nodes[path]
            e = n.entry
            is_dir = e is None or e.type == "dir"
            return Row(
                path,
                path.rsplit("/", 1)[-1],
                n.type,
                totals.get(path, 0) if is_dir else own[path],
                n.layer,
                tree.change_of(path),
                e.link if e is not None else None,
                e,
                len(kids.get(path, ())),
            )

        super().__init__(kids, row)


class LayerView(FileView):
    """One layer's own changes (added, modified, removed, unmodified), with the folders above them."""

    layer_view = True

    def __init__(self, tree: ImageTree, layer: int) -> None:
        self.tree = tree
        self.top = layer
        changes = {c.path: c for c in tree.layer_view(layer)}
        own: dict[str, int] = {}
        for p, c in changes.items():
            e = c.entry
            own[p] = e.size if e is not None and e.type == "file" and c.kind != REMOVED else 0
        # folders above the changed paths that the layer does not list itself
        for p in list(changes):
            for q in ancestors_of(p):
                if q in own:
                    break
                own[q] = 0
        kids, totals = _children_and_sizes(own)

        def row(path: str) -> Row:
            c = changes.get(path)
            if c is None:  # a folder only implied by the paths under it
                n = tree.nodes.get(path)
                return Row(
                    path,
                    path.rsplit("/", 1)[-1],
                    "dir",
                    totals.get(path, 0),
                    n.layer if n else layer,
                    UNMODIFIED,
                    None,
                    n.entry if n else None,
                    len(kids.get(path, ())),
                )
            e = c.entry
            kind = e.type if e is not None else "dir"
            is_dir = kind == "dir"
            return Row(
                path,
                path.rsplit("/", 1)[-1],
                kind,
                totals.get(path, 0) if is_dir else (e.size if e is not None else 0),
                c.owner,
                c.kind,
                e.link if e is not None else None,
                e,
                len(kids.get(path, ())),
            )

        super().__init__(kids, row)


__all__ = ["ADDED", "FileView", "LayerView", "MergedView", "Row"]
