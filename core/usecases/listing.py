"""The rows ``ls`` shows: the merged filesystem up to a layer, or one layer's own changes."""

from __future__ import annotations

from typing import Any

from ..entry import Entry
from ..kinds import EntryType, View
from ..merge import ImageTree

Row = dict[str, Any]
"""One ``ls --json`` row: path, type, size, mode, uid, gid, link, layer, change."""


def _row(path: str, e: Entry | None, layer: int, change: str) -> Row:
    """The row of ``path``; ``e`` is None for a folder implied by its children."""
    if e is None:
        return {
            "path": "/" + path,
            "type": EntryType.DIR,
            "size": 0,
            "mode": 0o755,
            "uid": 0,
            "gid": 0,
            "link": None,
            "layer": layer,
            "change": change,
        }
    link = "/" + e.link if e.type == EntryType.HARDLINK and e.link else e.link
    return {
        "path": "/" + path,
        "type": e.type,
        "size": e.size,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "link": link,
        "layer": layer,
        "change": change,
    }


def listing(tree: ImageTree, layer: int | None, view: View) -> list[Row]:
    """The rows of ``tree`` (merged up to ``layer``): every path in path order for View.MERGED, the
    layer's own changes (removed entries only there) for View.LAYER. Raises ValueError for View.LAYER
    without a layer."""
    if view == View.MERGED:
        nodes = tree.nodes
        return [_row(p, nodes[p].entry, nodes[p].layer, tree.change_of(p)) for p in sorted(nodes)]
    if layer is None:
        raise ValueError("the layer view needs a layer")
    return [_row(c.path, c.entry, layer, c.kind) for c in tree.layer_view(layer)]
