"""One file of an image by its path, for ``cat``: found in the merged tree (symlinks followed) or
among one layer's own files, and its bytes read in order.

With every layer of the image in the persistent cache, a path is looked up in the cached path
tables of the fewest layers (``LayerPaths``: a byte search, no entry decoded but the few asked
for): with ``--layer`` only that layer's, in the merged view the layers top-down until one decides
the path. Only a rare case (a path a layer deletes and brings back, a folder that exists only
because paths under it do) merges, and then only the entries on the path's way from the root.
Without the cache, every layer is indexed and merged. Both give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

from ..archive.records import Archive, ImageRecord, LayerDesc
from ..entry import Entry
from ..errors import LayerScopeError
from ..kinds import EntryType
from ..paths import ancestors
from ..resolve import Follow, hardlink_target, resolve_path

if TYPE_CHECKING:
    from ..cache.lookup import LayerPaths
    from ..cache.store import Store
    from ..layers.index import LayerIndex
    from ..merge import ImageTree, Node


class FoundFile(NamedTuple):
    """A regular file's entry and the layer whose blob holds its bytes."""

    entry: Entry
    layer: int


def image_file(archive: Archive, image: ImageRecord, path: str, layer: int | None = None) -> FoundFile:
    """The file ``path`` names in the merged filesystem of ``image``, or as layer ``layer`` stored it
    (see ``find_file``): from the persistent cache's path tables when it holds every layer, else by
    indexing and merging the layers. Raises LayerScopeError (MissingBlob, CorruptArchive, LinkLoop,
    no such file, not a file)."""
    from ..cache.store import blobs_present, default_store
    from .image import check_layer

    blobs_present(archive, image)  # as indexing would, before anything else
    store = default_store()
    if store is not None:
        try:
            cached = _CachedLayers(archive, image, store)
        except _NoShortcut:
            pass
        else:
            if layer is not None:
                check_layer(archive, image, layer)
            try:
                return _found(archive, cached, path, layer)
            except _NoShortcut:
                pass
    from ..layers.index import load_image

    layers = load_image(archive, image)
    if layer is not None:
        check_layer(archive, image, layer)
    return find_file(archive, layers, path, layer)


def find_file(archive: Archive, layers: list[LayerIndex], path: str, layer: int | None = None) -> FoundFile:
    """The file ``path`` names in the merged filesystem, or as layer ``layer`` stored it.

    Symlinks are followed in the merged filesystem; a hardlink leads to its target. Raises
    LayerScopeError when the path names nothing, a folder or anything but a regular file; LinkLoop.
    """
    from ..merge import merge

    want = path.strip("/")
    if layer is None:
        found = _merged_file(archive, merge(layers), want)
    else:
        found = _layer_file(archive, merge(layers, upto=layer), want, layer)
    if found.entry.type != EntryType.FILE:
        raise LayerScopeError(f"/{want} is a {found.entry.type}, not a file", archive.label)
    return found


def _merged_file(archive: Archive, tree: ImageTree | _LazyTree, want: str) -> FoundFile:
    node = tree.nodes.get(hardlink_target(tree, resolve_path(tree, want, Follow.ALL)))
    if node is None:
        raise LayerScopeError(f"/{want}: no such file in the image", archive.label)
    if node.entry is None or node.entry.type == EntryType.DIR:
        raise LayerScopeError(f"/{want} is a directory", archive.label)
    return FoundFile(node.entry, node.layer)


def _layer_file(archive: Archive, tree: ImageTree | _LazyTree, want: str, layer: int) -> FoundFile:
    e = tree.layer_entries(layer).get(want)
    if e is None:
        raise LayerScopeError(f"/{want} is not among layer {layer}'s own files", archive.label)
    if e.type != EntryType.HARDLINK:
        return FoundFile(e, layer)
    node = tree.nodes.get(hardlink_target(tree, want))
    if node is None or node.entry is None:
        raise LayerScopeError(f"/{want}: hardlink to a missing file", archive.label)
    return FoundFile(node.entry, node.layer)


def file_bytes(archive: Archive, desc: LayerDesc, found: FoundFile) -> Iterator[bytes]:
    """The bytes of ``found`` (an entry of the layer ``desc``) in order, in chunks (sparse holes as
    zeros). Raises LayerScopeError."""
    from ..layers.content import iter_contents, read_content

    if found.entry.sparse is not None:
        yield read_content(archive, desc, found.entry)
        return
    for _e, chunks in iter_contents(archive, desc, [found.entry]):
        yield from chunks


# ---- the cached path tables -------------------------------------------------------------------
class _NoShortcut(Exception):
    """The cache cannot answer (a layer is not in it, or its entry is unusable): index the layers."""


def _found(archive: Archive, layers: _CachedLayers, path: str, layer: int | None) -> FoundFile:
    want = path.strip("/")
    if layer is None:
        found = _merged_file(archive, _LazyTree(layers, len(layers.descs) - 1), want)
    else:
        found = _layer_file(archive, _LazyTree(layers, layer), want, layer)
    if found.entry.type != EntryType.FILE:
        raise LayerScopeError(f"/{want} is a {found.entry.type}, not a file", archive.label)
    return found


class _CachedLayers:
    """The path tables of an image's layers, each read from the cache when first asked for.

    Made only when the cache holds an entry for every layer (a layer that could not be indexed
    never has one: the long way then says why)."""

    def __init__(self, archive: Archive, image: ImageRecord, store: Store) -> None:
        from ..cache.fileformat import CacheKind
        from ..cache.keys import layer_key

        self.archive = archive
        self.descs = image.layers
        self.store = store
        self._paths: dict[int, LayerPaths] = {}
        for d in self.descs:
            key = layer_key(d)
            if key is None or not store.folder.file(CacheKind.LAYER, key).is_file():
                raise _NoShortcut

    def get(self, i: int) -> LayerPaths:
        """Layer ``i``'s path table. Raises _NoShortcut."""
        lp = self._paths.get(i)
        if lp is None:
            from ..layers.source import layer_blob

            desc = self.descs[i]
            lp = self.store.layer_paths(desc)
            if lp is None:
                raise _NoShortcut
            if desc.compression.is_plain and lp.uncompressed_size != layer_blob(self.archive, desc).size:
                raise _NoShortcut  # the archive's digest is not its bytes' (as LayerCache does)
            self._paths[i] = lp
        return lp


class _LazyNodes(Mapping[str, "Node"]):
    """The merged tree's nodes of layers 0..``top``, each worked out when asked for."""

    def __init__(self, layers: _CachedLayers, top: int) -> None:
        self._layers = layers
        self._top = top
        self._known: dict[str, Node | None] = {}

    def get(self, path: str, default: object = None) -> Node | None:  # type: ignore[override]
        """The node at ``path`` (None when the merged filesystem has nothing there)."""
        if path not in self._known:
            self._known[path] = _node(self._layers, self._top, path) if path else None
        return self._known[path]

    def __getitem__(self, path: str) -> Node:
        node = self.get(path)
        if node is None:
            raise KeyError(path)
        return node

    def __iter__(self) -> Iterator[str]:
        raise TypeError("the nodes of a lazy tree are looked up, not listed")

    def __len__(self) -> int:
        raise TypeError("the nodes of a lazy tree are looked up, not counted")


class _LazyTree:
    """What the resolver and ``_layer_file`` ask of an ImageTree, answered from the path tables."""

    def __init__(self, layers: _CachedLayers, top: int) -> None:
        self._layers = layers
        self.nodes = _LazyNodes(layers, top)

    def layer_entries(self, layer: int) -> Mapping[str, Entry]:
        return _OwnEntries(self._layers.get(layer))


class _OwnEntries(Mapping[str, Entry]):
    """A layer's own (last) entry per path, whiteouts and opaque markers left out, looked up."""

    def __init__(self, lp: LayerPaths) -> None:
        self._lp = lp

    def __getitem__(self, path: str) -> Entry:
        own = [k for k in self._lp.find(path) if self._lp.is_own(k)]
        if not own:
            raise KeyError(path)
        return self._lp.entry(own[-1], path)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("a layer's entries are looked up here, not listed")

    def __len__(self) -> int:
        raise TypeError("a layer's entries are looked up here, not counted")


def _node(layers: _CachedLayers, top: int, q: str) -> Node | None:
    """The merged node at ``q``: from the topmost layer that decides it, walking down.

    A layer decides when it lists ``q`` as a file of its own (the last such entry) and nothing after
    it there, nor anything in a layer above, changes ``q`` or a folder above it: no other entry of
    ``q``, no whiteout or non-folder entry of a folder above, and for a non-folder no path under
    ``q`` (which would turn it into a folder). Anything else is worked out by ``_merged_node``."""
    from ..merge import Node

    above = list(ancestors(q))
    under_above = False  # paths under q in the layers above
    for i in range(top, -1, -1):
        lp = layers.get(i)
        own = lp.find(q)
        if any(lp.type_of(k) is not EntryType.DIR for a in above for k in lp.find(a)):
            return _merged_node(layers, top, q)  # a folder above deleted, opaque, or replaced
        if not own:
            under_above = under_above or lp.last_under(q) is not None
            continue
        files = [k for k in own if lp.is_own(k)]
        if not files:
            return _merged_node(layers, top, q)  # deleted here, perhaps implied again
        k = files[-1]
        e = lp.entry(k, q)
        if e.type is not EntryType.DIR and (under_above or lp.has_under(q, after=k)):
            return _merged_node(layers, top, q)  # a path under it: it became a folder
        return Node(e, i)
    if under_above:
        return _merged_node(layers, top, q)  # a folder only the paths under it imply
    return None


def _merged_node(layers: _CachedLayers, top: int, q: str) -> Node | None:
    """The node at ``q`` by the merge itself, over the entries that can change it: those of ``q``
    and of the folders above it, and per layer the last path under each of them."""
    from ..layers.index import LayerIndex
    from ..merge import merge

    chain = [q, *ancestors(q)]
    restricted = []
    for i in range(top + 1):
        lp = layers.get(i)
        picked: dict[int, str] = {}
        for a in chain:
            for k in lp.find(a):
                picked[k] = a
            last = lp.last_under(a)
            if last is not None:
                picked[last[0]] = last[1]
        entries = [lp.entry(k, picked[k]) for k in sorted(picked)]
        restricted.append(LayerIndex(layers.descs[i], entries, len(entries), [], 0, []))
    return merge(restricted, upto=top).nodes.get(q)
