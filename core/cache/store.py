"""The cache as the engine uses it: layer indexes and image figures by key, or nothing.

``default_store()`` is this process's store (None after ``--no-cache``, with a limit of 0, or when
the folder is unusable). Every method returns None or False rather than raise: the cache can only
make a load faster, never change or stop it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..archive.records import Archive, ImageRecord, LayerDesc
from ..tar.budget import IndexBudget
from . import settings
from .columns import Unencodable
from .fileformat import CacheKind
from .folder import CacheFolder
from .keys import figures_key, layer_key
from .layers import StoredLayer, decode_layer, encode_layer
from .version import code_version

T = TypeVar("T")

if TYPE_CHECKING:
    from ..dive_figures import DiveFigures
    from ..folders import FolderSums
    from ..layers.index import LayerIndex
    from ..merge import ImageTree
    from ..progress import CancelCheck
    from ..waste import LayerScopeFigures
    from .ci import CiParts
    from .lookup import LayerPaths


class Store:
    """A cache folder read and written with the running code's version."""

    def __init__(self, folder: CacheFolder) -> None:
        self.folder = folder

    def load_layer(self, desc: LayerDesc, budget: IndexBudget) -> StoredLayer | None:
        """The stored index of the layer ``desc`` describes, its budget charged; None when absent,
        invalid, or when charging it would pass the budget (indexing it again says why)."""
        key = layer_key(desc)
        if key is None:
            return None
        payload = self.folder.read(CacheKind.LAYER, key, code_version())
        if payload is None:
            return None
        try:
            stored = decode_layer(payload)
        except Exception:
            return None
        n, nbytes = stored.charged
        if budget.entries + n > budget.max_entries or budget.bytes + nbytes > budget.max_bytes:
            return None
        budget.charge(n, nbytes, f"layer {desc.index}")
        return stored

    def layer_paths(self, desc: LayerDesc) -> LayerPaths | None:
        """The stored index of the layer ``desc`` describes, searchable without decoding (``lookup``),
        or None when absent or invalid. Nothing is charged: no entry is kept."""
        from .fileformat import HEADER
        from .lookup import LayerPaths

        key = layer_key(desc)
        if key is None:
            return None
        data = self.folder.read_file(CacheKind.LAYER, key, code_version())
        if data is None:
            return None
        try:
            return LayerPaths(data, HEADER.size)
        except Exception:
            return None

    def save_layer(self, key: str, stored: StoredLayer) -> bool:
        """Keep ``stored`` under ``key`` (a key verified against the layer's bytes)."""
        try:
            payload = encode_layer(stored)
        except Unencodable:
            return False
        return self.folder.write(CacheKind.LAYER, key, code_version(), payload)

    def load_figures(
        self, image: ImageRecord, base_layers: int
    ) -> tuple[DiveFigures, LayerScopeFigures] | None:
        """Both figure sets of ``image`` stored earlier, or None."""
        from .figures import decode_figures

        return self._load_for_image(CacheKind.FIGURES, image, base_layers, decode_figures)

    def save_figures(
        self,
        image: ImageRecord,
        layer_keys: list[str | None],
        base_layers: int,
        dive: DiveFigures,
        ours: LayerScopeFigures,
    ) -> bool:
        """Keep both figure sets of ``image`` whose layers were verified as ``layer_keys``."""
        from .figures import encode_figures

        return self._save_for_image(
            CacheKind.FIGURES, image, layer_keys, base_layers, lambda: encode_figures(dive, ours), ()
        )

    def load_merge(self, image: ImageRecord, layers: list[LayerIndex]) -> ImageTree | None:
        """The merged tree of ``image`` stored earlier, over ``layers`` (its layers' indexes), or None."""
        from .merged import decode_tree

        return self._load_for_image(CacheKind.MERGE, image, 0, lambda payload: decode_tree(payload, layers))

    def save_merge(
        self,
        image: ImageRecord,
        layer_keys: list[str | None],
        tree: ImageTree,
        cancelled: CancelCheck | None = None,
    ) -> bool:
        """Keep the merged tree of ``image`` whose layers were verified as ``layer_keys``. Raises
        Cancelled."""
        from .merged import encode_tree

        # refused: Unencodable, an entry of none of the layers (KeyError), any other mistake
        return self._save_for_image(
            CacheKind.MERGE, image, layer_keys, 0, lambda: encode_tree(tree, cancelled), (Exception,)
        )

    def load_sums(self, image: ImageRecord) -> dict[str, FolderSums] | None:
        """What each folder of ``image``'s merged tree holds, stored earlier, or None."""
        from .sums import decode_sums

        return self._load_for_image(CacheKind.FOLDERS, image, 0, decode_sums)

    def save_sums(
        self, image: ImageRecord, layer_keys: list[str | None], sums: dict[str, FolderSums]
    ) -> bool:
        """Keep the folder records of ``image``'s merged tree (layers verified as ``layer_keys``)."""
        from .sums import encode_sums

        return self._save_for_image(
            CacheKind.FOLDERS, image, layer_keys, 0, lambda: encode_sums(sums), (Exception,)
        )

    def load_ci(self, image: ImageRecord, base_layers: int) -> CiParts | None:
        """What ``ci --json`` printed of ``image``'s figures earlier (``CiParts``), or None."""
        from .ci import decode_ci

        return self._load_for_image(CacheKind.CI, image, base_layers, decode_ci)

    def save_ci(
        self, image: ImageRecord, layer_keys: list[str | None], base_layers: int, parts: CiParts
    ) -> bool:
        """Keep ``parts`` of ``image`` whose layers were verified as ``layer_keys``."""
        from .ci import encode_ci

        return self._save_for_image(
            CacheKind.CI, image, layer_keys, base_layers, lambda: encode_ci(parts), (Unencodable,)
        )

    def _save_for_image(
        self,
        kind: CacheKind,
        image: ImageRecord,
        layer_keys: list[str | None],
        base_layers: int,
        encode: Callable[[], bytes],
        refused: tuple[type[Exception], ...],
    ) -> bool:
        """Keep ``encode()`` as ``kind`` for ``image``, when its layers were verified as ``layer_keys``;
        False when they were not, or when encoding raised one of ``refused`` (the cache only speeds a
        load up). Cancelled is raised, whatever ``refused`` says."""
        from ..errors import Cancelled

        key = _verified_key(image, layer_keys, base_layers)
        if key is None:
            return False
        try:
            payload = encode()
        except Cancelled:
            raise
        except refused:
            return False
        return self.folder.write(kind, key, code_version(), payload)

    def _load_for_image(
        self, kind: CacheKind, image: ImageRecord, base_layers: int, decode: Callable[[memoryview], T]
    ) -> T | None:
        """What was kept of ``kind`` for ``image`` (keyed by its layers' keys), decoded; None when
        absent or unreadable."""
        key = figures_key(image, [layer_key(d) for d in image.layers], base_layers)
        if key is None:
            return None
        payload = self.folder.read(kind, key, code_version())
        if payload is None:
            return None
        try:
            return decode(payload)
        except Exception:
            return None


def _verified_key(image: ImageRecord, layer_keys: list[str | None], base_layers: int) -> str | None:
    """The key to keep ``image``'s results under, when its layers were verified as ``layer_keys``
    (they are still its layers' keys); None otherwise."""
    if layer_keys != [layer_key(d) for d in image.layers]:
        return None
    return figures_key(image, layer_keys, base_layers)


_lock = threading.Lock()
_stores: dict[tuple[str, int], Store] = {}


def default_store() -> Store | None:
    """This process's store for the current settings, or None when the cache is off or unusable."""
    if not settings.enabled():
        return None
    where = settings.cache_dir()
    limit = settings.max_size()
    with _lock:
        store = _stores.get((str(where), limit))
        if store is None:
            store = _stores[(str(where), limit)] = Store(CacheFolder(where, limit))
    return store if store.folder.usable else None


def blobs_present(archive: Archive, image: ImageRecord) -> None:
    """Raise MissingBlob, as indexing would, when the archive lacks one of the image's layers."""
    from ..layers.source import layer_blob

    for d in image.layers:
        layer_blob(archive, d)
