"""The package-metadata files of the merged filesystem, followed layer by layer through the merge's
records, so that a database is re-read only in the layers that changed it.

The merge (core/merge.py) records per layer the tops of the subtrees it removed (whiteouts, opaque
folders, a file put over a folder); the layer's own entries say what it wrote. Replaying both for
the paths that ``wanted`` accepts gives each layer's state of those files without merging again:
the cost is the layer's entries and changes, not the size of the image below.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from ..kinds import EntryType
from ..merge import ImageTree
from ..progress import PAUSE_EVERY, CancelCheck, check_cancelled, pause_point
from .reading import Located

CHECK_EVERY = 2048
"""Entries looked at between two cancel checks."""

_FILE = EntryType.FILE
_HARDLINK = EntryType.HARDLINK
_WHITEOUT = EntryType.WHITEOUT
_OPAQUE = EntryType.OPAQUE


class WatchedFiles:
    """The files ``wanted`` accepts, as they stand after each layer that ``advance`` has applied."""

    def __init__(self, tree: ImageTree, wanted: Callable[[str], bool]) -> None:
        self.tree = tree
        self.wanted = wanted
        self.files: dict[str, Located] = {}
        self.layer = -1

    def advance(self, cancelled: CancelCheck | None = None) -> set[str]:
        """Apply the next layer; returns the watched paths it wrote or removed. Raises Cancelled (a
        layer of 100,000 entries takes a few tenths of a second: a new image must not wait for it)."""
        self.layer += 1
        i = self.layer
        tree, files, wanted = self.tree, self.files, self.wanted
        changed: set[str] = set()
        gone = tree.removed[i] if i < len(tree.removed) else {}
        if gone and files:
            keys = sorted(files)
            for top in gone:
                if top in files:
                    del files[top]
                    changed.add(top)
                # everything below ``top``: the keys from "top/" up to (not including) "top0"
                lo = bisect_left(keys, top + "/")
                hi = bisect_left(keys, top + "0", lo)
                for k in keys[lo:hi]:
                    if files.pop(k, None) is not None:
                        changed.add(k)
        for n, e in enumerate(tree.layers[i].entries):
            if not n % CHECK_EVERY:
                check_cancelled(cancelled)
            if not n % PAUSE_EVERY:
                pause_point()
            t = e.type
            if t is _WHITEOUT or t is _OPAQUE:
                continue
            p = e.path
            if not wanted(p):
                continue
            if t is _FILE or t is _HARDLINK:
                files[p] = (e, i)
                changed.add(p)
            elif files.pop(p, None) is not None:  # a folder or symlink where a file was
                changed.add(p)
        return changed
