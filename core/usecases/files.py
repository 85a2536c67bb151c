"""One file of an image by its path, for ``cat``: found in the merged tree (symlinks followed) or
among one layer's own files, and its bytes read in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ..archive.records import Archive
from ..entry import Entry
from ..errors import LayerScopeError
from ..kinds import EntryType
from ..layers.content import iter_contents, read_content
from ..layers.index import LayerIndex
from ..merge import ImageTree, merge
from ..resolve import Follow, hardlink_target, resolve_path


class FoundFile(NamedTuple):
    """A regular file's entry and the layer whose blob holds its bytes."""

    entry: Entry
    layer: int


def find_file(archive: Archive, layers: list[LayerIndex], path: str, layer: int | None = None) -> FoundFile:
    """The file ``path`` names in the merged filesystem, or as layer ``layer`` stored it.

    Symlinks are followed in the merged filesystem; a hardlink leads to its target. Raises
    LayerScopeError when the path names nothing, a folder or anything but a regular file; LinkLoop.
    """
    want = path.strip("/")
    if layer is None:
        found = _merged_file(archive, merge(layers), want)
    else:
        found = _layer_file(archive, merge(layers, upto=layer), want, layer)
    if found.entry.type != EntryType.FILE:
        raise LayerScopeError(f"/{want} is a {found.entry.type}, not a file", archive.path)
    return found


def _merged_file(archive: Archive, tree: ImageTree, want: str) -> FoundFile:
    node = tree.nodes.get(hardlink_target(tree, resolve_path(tree, want, Follow.ALL)))
    if node is None:
        raise LayerScopeError(f"/{want}: no such file in the image", archive.path)
    if node.entry is None or node.entry.type == EntryType.DIR:
        raise LayerScopeError(f"/{want} is a directory", archive.path)
    return FoundFile(node.entry, node.layer)


def _layer_file(archive: Archive, tree: ImageTree, want: str, layer: int) -> FoundFile:
    e = tree.layer_entries(layer).get(want)
    if e is None:
        raise LayerScopeError(f"/{want} is not among layer {layer}'s own files", archive.path)
    if e.type != EntryType.HARDLINK:
        return FoundFile(e, layer)
    node = tree.nodes.get(hardlink_target(tree, want))
    if node is None or node.entry is None:
        raise LayerScopeError(f"/{want}: hardlink to a missing file", archive.path)
    return FoundFile(node.entry, node.layer)


def file_bytes(archive: Archive, layers: list[LayerIndex], found: FoundFile) -> Iterator[bytes]:
    """The bytes of ``found`` in order, in chunks (sparse holes as zeros). Raises LayerScopeError."""
    desc = layers[found.layer].desc
    if found.entry.sparse is not None:
        yield read_content(archive, desc, found.entry)
        return
    for _e, chunks in iter_contents(archive, desc, [found.entry]):
        yield from chunks
