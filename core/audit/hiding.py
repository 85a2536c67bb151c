"""Which later layer hid a layer's stored copy of a path, from the merge's own records.

The merge keeps, per layer, the paths that layer removed (``ImageTree.removed``: the top of each
deleted subtree, the children an opaque marker or a whiteout took away) and each layer's own entries
(``ImageTree.layer_entries``). A copy stored by layer ``i`` at ``p`` is hidden by the first later
layer that removed ``p`` or a folder above it (deleted), or that lists ``p`` itself (shadowed: a new
file there, or a folder's new attributes); a path listed twice in one layer hides its earlier copy
in that same layer.
"""

from __future__ import annotations

from ..entry import Entry
from ..merge import ImageTree
from ..paths import ancestors
from .finding import Hidden


def hidden_by(tree: ImageTree, layer: int, entry: Entry) -> tuple[int, Hidden] | None:
    """(the layer that hid ``entry``, how) for an entry layer ``layer`` stores; None when the final
    filesystem shows it."""
    path = entry.path
    own = tree.layer_entries(layer).get(path)
    if own is not None and own is not entry and own.offset != entry.offset:
        return layer, Hidden.SHADOWED
    above = list(ancestors(path))
    for j in range(layer + 1, len(tree.removed)):
        gone = tree.removed[j]
        if gone and (path in gone or any(q in gone for q in above)):
            shadowed = path in tree.layer_entries(j)
            return j, Hidden.SHADOWED if shadowed else Hidden.DELETED
        if path in tree.layer_entries(j):
            return j, Hidden.SHADOWED
    return None
