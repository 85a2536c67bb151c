"""Which gzip layers can be read at any offset: their checkpoints, in this process and in the cache.

Checkpoints are made by the first pass over a gzip layer (``IndexingGzipReader``) and kept here by
blob; ``save_checkpoints`` puts them in the persistent cache under the layer's key once the cache
has checked the blob's bytes against its digest, and ``seekable_source`` finds them there in a
later process. Without checkpoints (or without rapidgzip) a layer is read as a stream.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..archive import gzip_index
from ..archive.gzip_index import GzipCheckpoints, GzipSeeker, SeekingSource
from ..archive.records import Archive, LayerDesc
from ..kinds import Compression

if TYPE_CHECKING:
    from ..cache.store import Store

_KEY_PREFIX = "gzip-index "
_MAX_KEPT = 64
"""Checkpoint sets kept in this process (about 1.5% of a layer's uncompressed size each)."""

_lock = threading.Lock()
_kept: dict[tuple[str, str, int], GzipCheckpoints] = {}


def _where(archive: Archive, desc: LayerDesc, stored_size: int) -> tuple[str, str, int]:
    return str(archive.path), desc.key, stored_size


def keep(archive: Archive, desc: LayerDesc, cp: GzipCheckpoints) -> None:
    """Keep ``cp`` for the blob ``desc`` reads in ``archive``, for this process."""
    with _lock:
        if len(_kept) >= _MAX_KEPT:
            _kept.pop(next(iter(_kept)))
        _kept[_where(archive, desc, cp.stored_size)] = cp


def kept(archive: Archive, desc: LayerDesc, stored_size: int) -> GzipCheckpoints | None:
    """The checkpoints kept in this process for the blob ``desc`` reads, or None."""
    with _lock:
        return _kept.get(_where(archive, desc, stored_size))


def forget_all() -> None:
    """Drop every checkpoint set kept in this process (tests)."""
    with _lock:
        _kept.clear()


def save_checkpoints(store: Store, archive: Archive, desc: LayerDesc, verified: str) -> bool:
    """Put this process's checkpoints of the layer in ``store`` under ``verified``, the layer's cache
    key checked against its bytes. False when there are none or they were not written."""
    from ..cache.fileformat import CacheKind
    from ..cache.version import code_version

    if desc.compression is not Compression.GZIP:
        return False
    cp = kept(archive, desc, desc.size)
    if cp is None:
        return False
    payload = gzip_index.export_index(cp)
    return store.folder.write(CacheKind.LAYER, _KEY_PREFIX + verified, code_version(), payload)


def _from_store(archive: Archive, desc: LayerDesc, stored_size: int) -> GzipCheckpoints | None:
    """The checkpoints the persistent cache holds for the layer's key, or None."""
    from ..cache.fileformat import CacheKind
    from ..cache.keys import layer_key
    from ..cache.store import default_store
    from ..cache.version import code_version

    store = default_store()
    key = layer_key(desc)
    if store is None or key is None:
        return None
    payload = store.folder.read(CacheKind.LAYER, _KEY_PREFIX + key, code_version())
    if payload is None:
        return None
    cp = gzip_index.import_index(payload, stored_size)
    if cp is not None:
        keep(archive, desc, cp)
    return cp


def seekable_source(archive: Archive, desc: LayerDesc) -> SeekingSource | None:
    """A source over a gzip layer that seeks to its checkpoints, or None (not gzip, no checkpoints,
    or rapidgzip refuses them: read the stream then). Raises MissingBlob."""
    if desc.compression is not Compression.GZIP or not gzip_index.available():
        return None
    from .source import layer_blob

    blob = layer_blob(archive, desc)
    cp = kept(archive, desc, blob.size) or _from_store(archive, desc, blob.size)
    if cp is None:
        return None
    try:
        return SeekingSource(GzipSeeker(blob, cp, f"layer {desc.index}", archive.label))
    except ValueError:
        return None
