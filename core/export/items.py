"""What to export: the merged filesystem or one layer's own files, whole or at/under one path."""

from __future__ import annotations

from dataclasses import dataclass

from ..entry import Entry
from ..errors import LayerScopeError
from ..kinds import EntryType
from ..merge import ImageTree
from ..paths import absolute, is_under, parent, rebase


@dataclass(slots=True)
class Item:
    """One thing to export: its path relative to the export root, its entry, the layer holding it."""

    path: str
    entry: Entry | None  # None: a folder implied by its children
    layer: int
    full: str  # the path in the image


def _relative(path: str, prefix: str) -> str:
    """Path relative to the export root: a folder export keeps the folder's own name."""
    return rebase(path, parent(prefix)) if prefix else path


def merged_items(tree: ImageTree, prefix: str = "") -> list[Item]:
    """The merged filesystem (as merged up to ``tree.upto``), or the part at/under ``prefix``.

    Raises LayerScopeError when ``prefix`` is not in it."""
    prefix = prefix.strip("/")
    if prefix and prefix not in tree.nodes:
        raise LayerScopeError(f"/{prefix} is not in the merged filesystem up to layer {tree.upto}")
    return [
        Item(_relative(p, prefix), n.entry, n.layer, p) for p, n in tree.nodes.items() if is_under(p, prefix)
    ]


def layer_items(tree: ImageTree, layer: int, prefix: str = "") -> tuple[list[Item], list[str]]:
    """A layer's own files (the last of duplicates; no whiteout markers) and the paths it deletes.

    Raises LayerScopeError when ``prefix`` is not among the layer's own files."""
    prefix = prefix.strip("/")
    own = tree.layer_entries(layer)
    items = [Item(_relative(p, prefix), e, layer, p) for p, e in own.items() if is_under(p, prefix)]
    if prefix and not items:
        raise LayerScopeError(f"/{prefix} is not among layer {layer}'s own files")
    deletes = []
    for e in tree.layers[layer].entries:
        if not is_under(e.path, prefix):
            continue
        if e.type is EntryType.WHITEOUT:
            deletes.append(absolute(e.path))
        elif e.type is EntryType.OPAQUE:
            deletes.append(f"{absolute(e.path)}/* (opaque: everything below from lower layers)")
    return items, deletes
