"""The differences of a comparison as a tree the compare view can browse: for each folder the
children to show (only what differs and the folders above it, or every path of both sides), and
what one path looks like on each side.

``DiffIndex.build`` is proportional to the differences (and makes both sides' merged views, which
are proportional to the images): it runs in the compare job, never on the GUI thread. What the model
asks afterwards (``children``, ``info``) costs one folder's children, or one path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from layerscope.core.compare.diff import ImageDiff
from layerscope.core.compare.files import FileDifference
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.progress import CancelCheck, check_cancelled
from layerscope.core.session import LoadedImage
from layerscope.core.views import FileView

_CHECK_EVERY = 4096


@dataclass(frozen=True, slots=True)
class PathInfo:
    """One path of the tree on both sides. ``change`` is None for a folder that is the same itself
    but holds differences below, UNMODIFIED for a path the same on both sides; sizes are a file's
    bytes or a folder's total below it (None where the side lacks the path); ``delta`` is B minus
    A in file bytes (a folder's from ``FilesDiff.folder_delta``)."""

    path: str
    name: str
    type: EntryType
    change: ChangeKind | None
    size_a: int | None
    size_b: int | None
    delta: int
    what: tuple[str, ...]
    layer_a: int | None
    layer_b: int | None
    has_children: bool

    @property
    def is_dir(self) -> bool:
        return self.type is EntryType.DIR


def child_path(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


class DiffIndex:
    """See the module docstring. ``views`` are A's and B's merged views (children and folder
    totals); ``diff`` the comparison they belong to."""

    def __init__(
        self, diff: ImageDiff, view_a: FileView, view_b: FileView, changed_kids: dict[str, list[str]]
    ) -> None:
        self.diff = diff
        self.view_a, self.view_b = view_a, view_b
        f = diff.files
        self.by_path: dict[str, FileDifference] = {d.path: d for d in (*f.added, *f.removed, *f.changed)}
        self._changed_kids = changed_kids
        self._nodes_a, self._nodes_b = diff.a.tree.nodes, diff.b.tree.nodes

    @classmethod
    def build(
        cls,
        diff: ImageDiff,
        a: LoadedImage,
        b: LoadedImage,
        cancelled: CancelCheck | None = None,
    ) -> DiffIndex:
        """Off the GUI thread: the folders holding differences, and both merged views. Raises Cancelled."""
        kids: dict[str, set[str]] = {}
        f = diff.files
        for n, d in enumerate((*f.added, *f.removed, *f.changed)):
            if n % _CHECK_EVERY == 0:
                check_cancelled(cancelled)
            p = d.path
            while p:
                i = p.rfind("/")
                folder, name = (p[:i], p[i + 1 :]) if i >= 0 else ("", p)
                here = kids.get(folder)
                if here is None:
                    kids[folder] = {name}
                elif name in here:
                    break  # the folders above were added with it
                else:
                    here.add(name)
                p = folder
        changed = {folder: sorted(names) for folder, names in kids.items()}
        check_cancelled(cancelled)
        view_a = a.view(diff.a.top, own_changes=False, cancelled=cancelled)
        view_b = b.view(diff.b.top, own_changes=False, cancelled=cancelled)
        return cls(diff, view_a, view_b, changed)

    @property
    def count(self) -> int:
        return len(self.by_path)

    def children(self, folder: str, only_changed: bool) -> list[str]:
        """The paths of ``folder``'s children ("" is the root), by name: with ``only_changed`` the
        ones that differ or hold differences, else every child either side has."""
        if only_changed:
            return [child_path(folder, n) for n in self._changed_kids.get(folder, ())]
        names = set(self._names(self.view_a, self._nodes_a, folder))
        names.update(self._names(self.view_b, self._nodes_b, folder))
        return [child_path(folder, n) for n in sorted(names)]

    @staticmethod
    def _names(view: FileView, nodes: Mapping[str, object], folder: str) -> list[str]:
        if folder and folder not in nodes:
            return []
        try:
            return view.children(folder)
        except KeyError:
            return []

    def _has_children(self, path: str, only_changed: bool, is_dir: bool) -> bool:
        if only_changed:
            return path in self._changed_kids
        if not is_dir:
            return False
        return any(
            path in nodes and view.row(path).children > 0
            for view, nodes in ((self.view_a, self._nodes_a), (self.view_b, self._nodes_b))
        )

    def info(self, path: str, only_changed: bool) -> PathInfo:
        """What the tree shows for ``path`` (a path of either side)."""
        name = path.rsplit("/", 1)[-1]
        d = self.by_path.get(path)
        na, nb = self._nodes_a.get(path), self._nodes_b.get(path)
        node = nb if nb is not None else na
        typ = d.type if d is not None else (node.type if node is not None else EntryType.DIR)
        is_dir = typ is EntryType.DIR or (na is not None and na.is_dir) or (nb is not None and nb.is_dir)
        size_a = self._size(self.view_a, na, path)
        size_b = self._size(self.view_b, nb, path)
        has = self._has_children(path, only_changed, is_dir)
        folder_delta = self.diff.files.folder_delta.get(path)
        if d is not None:
            delta = (
                folder_delta
                if folder_delta is not None
                else (d.size_b or 0) * (d.type_b is EntryType.FILE)
                - (d.size_a or 0) * (d.type_a is EntryType.FILE)
            )
            return PathInfo(
                path,
                name,
                typ,
                d.change,
                size_a,
                size_b,
                delta,
                tuple(str(w) for w in d.what),
                d.layer_a,
                d.layer_b,
                has,
            )
        change = None if path in self._changed_kids else ChangeKind.UNMODIFIED
        return PathInfo(
            path,
            name,
            EntryType.DIR if is_dir else typ,
            change,
            size_a,
            size_b,
            folder_delta or 0,
            (),
            na.layer if na is not None else None,
            nb.layer if nb is not None else None,
            has,
        )

    @staticmethod
    def _size(view: FileView, node: object, path: str) -> int | None:
        if node is None:
            return None
        return view.row(path).size
