"""Sizes by folder: the file bytes under each folder of the merged tree (or of one layer's own
changes), their count, and the bytes each owning layer contributes.

Counted as ``du --apparent-size`` counts a filesystem: the size of each regular file, a hardlinked
file once (its hardlinks carry no bytes of their own), sparse files at their full size. Everything
is added up in one pass over the tree (core/folders.py), which the top's merged view has made
already; questions about a folder are then dictionary look-ups. A folder's children sorted by size
are worked out the first time they are asked for (a treemap asks only for the folders it shows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ..folders import FolderSums, sum_folders
from ..kinds import ChangeKind, EntryType
from ..merge import ImageTree, Node
from ..paths import ancestors, basename
from ..progress import CancelCheck
from ..views import MergedView

_FILE = EntryType.FILE
_DIR = EntryType.DIR


@dataclass(frozen=True, slots=True)
class FolderUsage:
    """One folder's share: ``bytes`` of the regular files below it, ``files`` their count, and
    ``layers`` the bytes by owning layer index (in index order). ``path`` is "" for the root."""

    path: str
    bytes: int
    files: int
    layers: Mapping[int, int]

    def as_json(self) -> dict[str, object]:
        """``{path, bytes, files, layers}`` as ``du --json`` prints it (layer indexes as keys)."""
        return {
            "path": "/" + self.path,
            "bytes": self.bytes,
            "files": self.files,
            "layers": {str(k): v for k, v in self.layers.items()},
        }


@dataclass(frozen=True, slots=True)
class Child:
    """One child of a folder as a treemap shows it.

    ``layer`` is the layer that owns a file (or any other non-folder); for a folder, the layer
    owning most of its bytes (the folder's own layer when it holds none). ``files`` is 1 for a
    regular file, 0 for another non-folder, a folder's count of files below it.
    """

    path: str
    name: str
    bytes: int
    files: int
    layer: int
    folder: bool


class Children(NamedTuple):
    """A folder's children that hold bytes, biggest first, as parallel lists (a treemap's input)."""

    paths: list[str]
    sizes: list[int]
    layers: list[int]
    folders: list[bool]


class SpaceUsage:
    """Sizes by folder of one tree: the merged filesystem up to ``top``, or (``layer_view``) the
    own changes of layer ``top``. Made by ``usage_of_tree`` or ``usage_of_layer``; read-only
    afterwards, so any thread may ask it (the sorted children it caches are made whole before
    they are kept). Paths are normalised (core/paths.py), "" is the root; asked about a path the
    tree does not hold, a method raises KeyError."""

    def __init__(
        self, top: int, layer_view: bool, nodes: Mapping[str, Node], folders: Mapping[str, FolderSums]
    ) -> None:
        self.top = top
        self.layer_view = layer_view
        self._nodes = nodes
        self._recs = folders  # one record per folder that holds anything (core/folders.py)
        self._sorted: dict[str, Children] = {}

    # ---- one path ---------------------------------------------------------------------------
    def is_folder(self, path: str) -> bool:
        """True for the root and the folders of the tree."""
        if path in self._recs:
            return True
        e = self._nodes[path].entry
        return e is None or e.type is _DIR

    def bytes(self, path: str) -> int:
        """The file bytes below a folder, or a regular file's size (0 for other kinds)."""
        rec = self._recs.get(path)
        if rec is not None:
            return rec.bytes
        e = self._nodes[path].entry
        return e.size if e is not None and e.type is _FILE else 0

    def files(self, path: str) -> int:
        """Regular files below a folder (1 for a regular file itself)."""
        rec = self._recs.get(path)
        if rec is not None:
            return rec.files
        e = self._nodes[path].entry
        return 1 if e is not None and e.type is _FILE else 0

    def layers(self, path: str) -> dict[int, int]:
        """Bytes below ``path`` by owning layer index, in index order (a file: its one layer)."""
        rec = self._recs.get(path)
        if rec is not None:
            return dict(sorted(rec.layers.items())) if rec.layers else {}
        size = self.bytes(path)
        return {self._nodes[path].layer: size} if size else {}

    def main_layer(self, path: str) -> int:
        """The layer owning most of the bytes below ``path`` (the lowest index among equals); a
        file's owner; the path's own layer when it holds no bytes (``top`` for the root)."""
        rec = self._recs.get(path)
        d = rec.layers if rec is not None else None
        if d:
            if len(d) == 1:
                return next(iter(d))
            return min(d.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        return self._nodes[path].layer if path else self.top

    def folder(self, path: str) -> FolderUsage:
        """The usage of one folder (or file)."""
        return FolderUsage(path, self.bytes(path), self.files(path), self.layers(path))

    # ---- a folder's children ----------------------------------------------------------------
    def child_paths(self, path: str) -> list[str]:
        """The paths directly in folder ``path`` ("" is the root), in the tree's order."""
        rec = self._recs.get(path)
        if rec is None:
            self._nodes[path]  # KeyError for a path not in the tree
            return []
        if not path:
            return list(rec.names)
        return [f"{path}/{name}" for name in rec.names]

    def sized_children(self, path: str) -> Children:
        """The children of folder ``path`` that hold bytes, biggest first (by path among equals),
        with their sizes, layers (a file's owner, a folder's ``main_layer``) and whether each is a
        folder: the input of a treemap. Worked out once per folder, then kept."""
        got = self._sorted.get(path)
        if got is not None:
            return got
        rec = self._recs.get(path)
        if rec is None:
            self._nodes[path]  # KeyError for a path not in the tree
            got = Children([], [], [], [])
        else:
            names, sizes, owners, recs = rec.names, rec.sizes, rec.owners, self._recs
            order = sorted((i for i, s in enumerate(sizes) if s), key=names.__getitem__)
            order.sort(key=sizes.__getitem__, reverse=True)  # stable: equal sizes stay in name order
            chosen = [f"{path}/{names[i]}" if path else names[i] for i in order]
            is_folder = [p in recs for p in chosen]  # a folder holding bytes has a record
            main = self.main_layer
            got = Children(
                chosen,
                [sizes[i] for i in order],
                [main(p) if f else owners[i] for p, f, i in zip(chosen, is_folder, order, strict=True)],
                is_folder,
            )
        self._sorted[path] = got
        return got

    def child(self, path: str) -> Child:
        """One path as a treemap tile shows it."""
        folder = self.is_folder(path)
        return Child(
            path,
            basename(path),
            self.bytes(path),
            self.files(path),
            self.main_layer(path) if folder else self._nodes[path].layer,
            folder,
        )

    def children(self, path: str, limit: int | None = None) -> list[Child]:
        """The children of folder ``path`` that hold bytes, biggest first; the first ``limit``."""
        order = self.sized_children(path).paths
        return [self.child(p) for p in (order if limit is None else order[:limit])]

    # ---- rows down to a depth ---------------------------------------------------------------
    def folders(self, depth: int | None = 2) -> list[FolderUsage]:
        """The root and every folder down to ``depth`` levels below it (None: all), parents before
        their children, children by path."""
        out: list[FolderUsage] = []
        stack: list[tuple[str, int]] = [("", 0)]
        while stack:
            p, level = stack.pop()
            out.append(self.folder(p))
            if depth is not None and level >= depth:
                continue
            below = [q for q in self.child_paths(p) if self.is_folder(q)]
            below.sort(reverse=True)  # popped in path order
            stack.extend((q, level + 1) for q in below)
        return out


def usage_of_tree(tree: ImageTree, cancelled: CancelCheck | None = None) -> SpaceUsage:
    """Sizes by folder of the merged filesystem ``tree`` holds (layers 0..``tree.upto``): one pass
    over its nodes. Raises Cancelled."""
    return SpaceUsage(tree.upto, False, tree.nodes, sum_folders(tree.nodes, cancelled))


def usage_of_view(view: MergedView) -> SpaceUsage:
    """Sizes by folder of the merged filesystem a merged view shows, from the folder records the
    view was made with: a walk over nothing (the treemap's first picture waits for no pass)."""
    return SpaceUsage(view.top, False, view.tree.nodes, view.folder_sums)


def usage_of_layer(tree: ImageTree, layer: int, cancelled: CancelCheck | None = None) -> SpaceUsage:
    """Sizes by folder of layer ``layer``'s own changes: the files it stored (added, modified or
    unmodified), under the folders above them; what it removed holds nothing of its own and is left
    out. Raises Cancelled, IndexError for a layer ``tree`` does not hold."""
    entries = tree.layer_entries(layer)
    removed = ChangeKind.REMOVED
    nodes = {p: Node(entries.get(p), layer) for p, k in tree.changes[layer].items() if k is not removed}
    for p in list(nodes):  # the folders above unmodified paths, which the layer may not list
        for q in ancestors(p):
            if q in nodes:
                break
            nodes[q] = Node(None, layer)
    return SpaceUsage(layer, True, nodes, sum_folders(nodes, cancelled))
