"""A layer's uncompressed tar stream, read from its blob in the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..archive.compression import decompressed_reader
from ..archive.container import Blob
from ..archive.records import Archive, LayerDesc
from ..errors import CorruptArchive, MissingBlob, UnsupportedFormat
from ..kinds import Compression
from ..tar.source import BufferSource, StreamSource

if TYPE_CHECKING:
    from ..archive.gzip_index import GzipCheckpoints


def layer_blob(archive: Archive, desc: LayerDesc) -> Blob:
    """The stored blob of a layer. Raises MissingBlob when the archive does not ship it."""
    if desc.blob_name is None:
        raise MissingBlob(
            f"layer {desc.index} ({(desc.digest or '?')[:19]}) is not in the archive", archive.label
        )
    return archive.container.blob(desc.blob_name)


def layer_source(archive: Archive, desc: LayerDesc) -> BufferSource | StreamSource:
    """A source over the layer's uncompressed tar stream: the mapped bytes, or a decompressing stream.

    Raises MissingBlob; CorruptArchive when the blob is neither tar nor gzip/zstd; UnsupportedFormat.
    """
    blob = layer_blob(archive, desc)
    comp = desc.compression
    if comp.is_plain:
        return BufferSource(blob.buf, release=blob.release)
    # gzip_index (and rapidgzip) imported for gzip layers only: ``layer_blob`` is all a warm ``ci`` needs
    from ..archive.gzip_index import IndexingGzipReader, worth_indexing
    from . import seekable

    if comp is Compression.GZIP and worth_indexing(blob):
        # the first pass records checkpoints, so that a file near the end is read without it later
        def keep(cp: GzipCheckpoints) -> None:
            seekable.keep(archive, desc, cp)

        return StreamSource(IndexingGzipReader(blob, f"layer {desc.index}", archive.label, keep).read)
    if comp.is_supported:
        return StreamSource(decompressed_reader(blob.open(), comp, f"layer {desc.index}", archive.label))
    if comp is Compression.UNKNOWN:
        raise CorruptArchive(
            f"layer {desc.index} ({(desc.digest or '?')[:19]}) is neither a tar nor gzip/zstd data",
            archive.label,
        )
    raise UnsupportedFormat(
        f"layer {desc.index} is {comp}-compressed; only gzip and zstd are supported", archive.label
    )
