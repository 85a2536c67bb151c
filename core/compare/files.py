"""Two merged filesystems side by side: the paths added, removed and changed, what changed about
each, and how many bytes each folder gained or lost.

Content is compared by digest only where both sides are regular files of the same size, and read
only where the layers do not already say they are the same member (``content.same_member``).
mtime is ignored unless ``strict``: rebuilding the same thing changes every mtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ..entry import Entry
from ..kinds import ChangeKind, EntryType
from ..merge import Node
from ..paths import ancestors
from ..progress import CancelCheck, check_cancelled
from .content import content_digests, same_member
from .side import Side


class Aspect(StrEnum):
    """What about a path differs between the two sides (the words of ``what`` in ``diff --json``)."""

    TYPE = "type"
    SIZE = "size"
    CONTENT = "content"
    LINK = "link"
    DEVICE = "device"
    MODE = "mode"
    UID = "uid"
    GID = "gid"
    XATTRS = "xattrs"
    MTIME = "mtime"

    @property
    def is_content(self) -> bool:
        """True for what a program reading the file would see (type, bytes, link target, device);
        False for metadata (mode, owner, xattrs, mtime)."""
        return self in _CONTENT


_CONTENT = frozenset({Aspect.TYPE, Aspect.SIZE, Aspect.CONTENT, Aspect.LINK, Aspect.DEVICE})
_CHECK_EVERY = 4096
"""Paths compared between two cancel checks."""


@dataclass(frozen=True, slots=True)
class FileDifference:
    """One path that differs: ``change`` is ADDED (only in B), REMOVED (only in A) or MODIFIED
    (``what`` says how). ``path`` is normalised (no leading ``/``). ``type_*``, ``size_*`` and
    ``layer_*`` (the layer each side's entry comes from) are None on the side without the path;
    a folder's size is 0 here (its total is in ``FilesDiff.folder_delta``)."""

    path: str
    change: ChangeKind
    type_a: EntryType | None
    type_b: EntryType | None
    size_a: int | None
    size_b: int | None
    what: tuple[Aspect, ...]
    layer_a: int | None
    layer_b: int | None

    @property
    def type(self) -> EntryType:
        """The path's type where it is now: B's, or A's for a removed path."""
        t = self.type_b if self.type_b is not None else self.type_a
        assert t is not None
        return t

    @property
    def content_differs(self) -> bool:
        """True unless only metadata differs (mode, owner, xattrs, mtime)."""
        return self.change is not ChangeKind.MODIFIED or any(w.is_content for w in self.what)


@dataclass(frozen=True, slots=True)
class FilesDiff:
    """Every differing path (sorted by path, in three lists), the file bytes of each side, and
    ``folder_delta``: for each folder with a change below it, the file bytes B has minus A's there
    ("" is the root: the whole difference). ``scope`` is the folder compared ("" for everything)."""

    added: tuple[FileDifference, ...]
    removed: tuple[FileDifference, ...]
    changed: tuple[FileDifference, ...]
    bytes_a: int
    bytes_b: int
    folder_delta: Mapping[str, int]
    scope: str = ""
    strict: bool = False

    @property
    def size_delta(self) -> int:
        """File bytes of B minus A's (within the scope)."""
        return self.bytes_b - self.bytes_a

    @property
    def count(self) -> int:
        """Paths that differ in any way."""
        return len(self.added) + len(self.removed) + len(self.changed)

    @property
    def content_count(self) -> int:
        """Paths that differ in more than metadata."""
        return len(self.added) + len(self.removed) + sum(1 for d in self.changed if d.content_differs)

    def differences(self) -> list[FileDifference]:
        """Every difference, sorted by path."""
        return sorted((*self.added, *self.removed, *self.changed), key=lambda d: d.path)

    def biggest_folders(self, n: int = 10) -> list[tuple[str, int]]:
        """The ``n`` folders (root left out) whose bytes changed most, largest change first."""
        items = [(f, d) for f, d in self.folder_delta.items() if f and d]
        items.sort(key=lambda fd: (-abs(fd[1]), fd[0]))
        return items[:n]


_IMPLIED = Entry("", EntryType.DIR, 0, 0o755, 0, 0, 0, None, -1, None)
"""What a folder that only exists because of paths under it looks like (as ``ls`` shows it)."""


def _entry(n: Node) -> Entry:
    return n.entry if n.entry is not None else _IMPLIED


def _file_bytes(e: Entry) -> int:
    return e.size if e.type is EntryType.FILE else 0


def _aspects(a: Entry, b: Entry, strict: bool) -> list[Aspect]:
    """What differs between two entries of one path, content left to the caller."""
    what: list[Aspect] = []
    if a.type is not b.type:
        what.append(Aspect.TYPE)
    else:
        if a.size != b.size and a.type is EntryType.FILE:
            what.append(Aspect.SIZE)
        if a.link != b.link:
            what.append(Aspect.LINK)
        if a.type.is_device and a.device != b.device:
            what.append(Aspect.DEVICE)
    if a.mode != b.mode:
        what.append(Aspect.MODE)
    if a.uid != b.uid:
        what.append(Aspect.UID)
    if a.gid != b.gid:
        what.append(Aspect.GID)
    if a.extra is not b.extra and a.xattrs != b.xattrs:
        what.append(Aspect.XATTRS)
    if strict and a.mtime != b.mtime:
        what.append(Aspect.MTIME)
    return what


def _in_scope(path: str, scope: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")


def compare_files(
    a: Side, b: Side, strict: bool = False, scope: str = "", cancelled: CancelCheck | None = None
) -> FilesDiff:
    """The paths of A's and B's merged filesystems that differ (under folder ``scope``, a normalised
    path, when given). Raises Cancelled; MissingBlob, CorruptArchive when file bytes must be read."""
    na, nb = a.tree.nodes, b.tree.nodes
    added: list[FileDifference] = []
    removed: list[FileDifference] = []
    changed: list[tuple[str, Entry, int, Entry, int, list[Aspect]]] = []
    unsure: list[tuple[str, Entry, int, Entry, int, list[Aspect]]] = []  # same size: read the bytes
    delta: dict[str, int] = {}
    bytes_a = bytes_b = 0

    def grow(path: str, by: int) -> None:
        if by:
            for f in (*ancestors(path), ""):
                delta[f] = delta.get(f, 0) + by

    for n, (p, node) in enumerate(na.items()):
        if n % _CHECK_EVERY == 0:
            check_cancelled(cancelled)
        if scope and not _in_scope(p, scope):
            continue
        ea = _entry(node)
        bytes_a += _file_bytes(ea)
        other = nb.get(p)
        if other is None:
            removed.append(
                FileDifference(p, ChangeKind.REMOVED, ea.type, None, ea.size, None, (), node.layer, None)
            )
            grow(p, -_file_bytes(ea))
            continue
        eb = _entry(other)
        if ea is eb or (
            node.entry is not None
            and other.entry is not None
            and same_member(a, node.layer, ea, b, other.layer, eb)
        ):
            continue
        what = _aspects(ea, eb, strict)
        grow(p, _file_bytes(eb) - _file_bytes(ea))
        row = (p, ea, node.layer, eb, other.layer, what)
        if ea.type is EntryType.FILE and eb.type is EntryType.FILE and ea.size == eb.size and ea.size:
            unsure.append(row)
        elif what:
            changed.append(row)
    for n, (p, node) in enumerate(nb.items()):
        if n % _CHECK_EVERY == 0:
            check_cancelled(cancelled)
        if scope and not _in_scope(p, scope):
            continue
        eb = _entry(node)
        bytes_b += _file_bytes(eb)
        if p not in na:
            added.append(
                FileDifference(p, ChangeKind.ADDED, None, eb.type, None, eb.size, (), None, node.layer)
            )
            grow(p, _file_bytes(eb))
    if unsure:
        digests_a = content_digests(a, ((la, ea) for _p, ea, la, _eb, _lb, _w in unsure), cancelled)
        digests_b = content_digests(b, ((lb, eb) for _p, _ea, _la, eb, lb, _w in unsure), cancelled)
        for row in unsure:
            _p, ea, la, eb, lb, what = row
            if digests_a[(la, ea.offset)] != digests_b[(lb, eb.offset)]:
                what.insert(0, Aspect.CONTENT)
            if what:
                changed.append(row)
    changes = [
        FileDifference(p, ChangeKind.MODIFIED, ea.type, eb.type, ea.size, eb.size, tuple(what), la, lb)
        for p, ea, la, eb, lb, what in changed
    ]
    return FilesDiff(
        tuple(sorted(added, key=_by_path)),
        tuple(sorted(removed, key=_by_path)),
        tuple(sorted(changes, key=_by_path)),
        bytes_a,
        bytes_b,
        {f: d for f, d in delta.items() if d},
        scope,
        strict,
    )


def _by_path(d: FileDifference) -> str:
    return d.path
