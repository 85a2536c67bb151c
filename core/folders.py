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
"""Paths handled between two cancel checks (and, every PAUSE_EVERY, a pause point)."""
_FILE, _DIR = EntryType.FILE, EntryType.DIR


class FolderSums:
    """One folder: ``names`` directly in it (in the tree's order), with ``sizes`` (a file's bytes, a
    folder's bytes below it, 0 for anything else) and ``owners`` (each one's layer) beside them; and
    below it ``files`` regular files holding ``bytes``, ``layers`` those bytes by owning layer index
    (None while it holds no bytes)."""

    __slots__ = ("_by_name", "bytes", "files", "layers", "names", "owners", "sizes")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.sizes: list[int] = []
        self.owners: list[int] = []
        self.files = 0
        self.bytes = 0
        self.layers: dict[int, int] | None = None
        self._by_name: list[str] | None = None

    def sorted_names(self) -> list[str]:
        """``names`` sorted (worked out when first asked: a browser asks for the folders it opens)."""
        got = self._by_name
        if got is None:
            got = self._by_name = sorted(self.names)
        return got


def sum_folders(nodes: Mapping[str, Node], cancelled: CancelCheck | None = None) -> dict[str, FolderSums]:
    """Folder path ("" is the root) -> its FolderSums, for every folder that holds anything (an
    empty folder has no record). Every path's parent folder must be a path of ``nodes`` too (or the
    root), listed as a folder, as in a merged tree. Raises Cancelled."""
    recs: dict[str, FolderSums] = {"": FolderSums()}
    slots: dict[str, tuple[FolderSums, int]] = {}  # a folder -> its parent's record, its place there
    file_t, dir_t = _FILE, _DIR
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
        names = rec.names
        e = node.entry
        layer = node.layer
        rec.owners.append(layer)
        if e is None or e.type is dir_t:
            slots[p] = (rec, len(names))
            names.append(p[i + 1 :])
            rec.sizes.append(0)  # its bytes below, once they are added up
        elif e.type is file_t:
            names.append(p[i + 1 :])
            size = e.size
            rec.sizes.append(size)
            rec.files += 1
            if size:
                rec.bytes += size
                d = rec.layers
                if d is None:
                    rec.layers = {layer: size}
                else:
                    d[layer] = d.get(layer, 0) + size
        else:
            names.append(p[i + 1 :])
            rec.sizes.append(0)
    check_cancelled(cancelled)
    # a folder holding something is listed in its parent, which so has a record too; a parent's
    # path is shorter than its child's: longest first adds each folder up before its parent
    for folder in sorted(recs, key=len, reverse=True):
        if not folder:
            continue
        rec = recs[folder]
        slot = slots.get(folder)
        if slot is None:  # listed as something else than a folder (a damaged layer): sized as one
            i = folder.rfind("/")
            up = recs[folder[:i] if i >= 0 else ""]
            name = folder[i + 1 :]
            at = up.names.index(name) if name in up.names else -1
        else:
            up, at = slot
        up.files += rec.files
        if rec.bytes:
            if at >= 0:
                up.sizes[at] = rec.bytes
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
