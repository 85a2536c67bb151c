"""What each folder of a tree holds, worked out in one pass over its paths: the names directly in
it, and the regular files below it (their count, their bytes, and their bytes by owning layer).

The merged view (core/views.py) lists folders by these names and sizes them by these bytes; the
space usage (core/space/usage.py) reads the same records for the treemap and ``du``, so that the
top's usage costs a walk over the folders, not a second pass over every path. Sizes are counted as
``du --apparent-size`` counts them: a regular file's size, a hardlink nothing of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from .kinds import EntryType
from .merge import Node
from .progress import PAUSE_EVERY, CancelCheck, check_cancelled, pause_point

CHUNK = 2048
"""Paths handled between two cancel checks."""


class FolderSums:
    """One folder: ``names`` directly in it (sorted), and below it ``files`` regular files holding
    ``bytes``, ``layers`` those bytes by owning layer index (None while it holds no bytes)."""

    __slots__ = ("bytes", "files", "layers", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.files = 0
        self.bytes = 0
        self.layers: dict[int, int] | None = None


def sum_folders(nodes: Mapping[str, Node], cancelled: CancelCheck | None = None) -> dict[str, FolderSums]:
    """Folder path ("" is the root) -> its FolderSums, for every folder that holds anything (an
    empty folder has no record). Every path's parent folder must be a path of ``nodes`` too (or the
    root), as in a merged tree. Raises Cancelled."""
    recs: dict[str, FolderSums] = {"": FolderSums()}
    file_t = _FILE
    for n, (p, node) in enumerate(nodes.items()):
        if not n % CHUNK:
            check_cancelled(cancelled)
            if not n % PAUSE_EVERY:
                pause_point()
        i = p.rfind("/")
        folder = p[:i] if i >= 0 else ""
        rec = recs.get(folder)
        if rec is None:
            recs[folder] = rec = FolderSums()
        rec.names.append(p[i + 1 :])
        e = node.entry
        if e is not None and e.type is file_t:
            rec.files += 1
            size = e.size
            if size:
                rec.bytes += size
                d = rec.layers
                layer = node.layer
                if d is None:
                    rec.layers = {layer: size}
                else:
                    d[layer] = d.get(layer, 0) + size
    check_cancelled(cancelled)
    # a folder holding something is listed in its parent, which so has a record too; a parent's
    # path is shorter than its child's: longest first adds each folder up before its parent
    for folder in sorted(recs, key=len, reverse=True):
        rec = recs[folder]
        rec.names.sort()
        if not folder:
            continue
        i = folder.rfind("/")
        up = recs[folder[:i] if i >= 0 else ""]
        up.files += rec.files
        if rec.bytes:
            up.bytes += rec.bytes
            mine = rec.layers
            assert mine is not None  # bytes come with their layers
            theirs = up.layers
            if theirs is None:
                up.layers = dict(mine)
            else:
                for k, v in mine.items():
                    theirs[k] = theirs.get(k, 0) + v
    return recs


_FILE = EntryType.FILE
