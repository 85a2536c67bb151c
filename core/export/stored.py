"""A layer as stored: its tar byte for byte, decompressed or as the blob the archive holds."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..archive.records import Archive
from ..errors import ExportError
from ..layers.index import LayerIndex
from ..layers.source import layer_source
from ..progress import CancelCheck, CountProgress, check_cancelled
from .destination import check_destination, replacing
from .result import ExportResult

_STEP = 1 << 20


class _Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


def export_as_stored(
    archive: Archive,
    layer: LayerIndex,
    dest: Path,
    *,
    decompress: bool = True,
    force: bool = False,
    progress: CountProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> ExportResult:
    """Write a layer's tar byte for byte to the file ``dest``: the uncompressed stream, or the blob as
    stored. Raises ExportError (destination exists or is a folder, disk full, ...), Cancelled,
    CorruptArchive; the destination is left as it was on any error."""
    dest = Path(dest).absolute()
    check_destination(dest, force)
    if dest.is_dir():
        raise ExportError("a layer as stored is one file; give a file name, not a folder", dest)
    result = ExportResult(dest)
    with replacing(dest, folder=False) as tmp, open(tmp, "wb") as f:
        src, total = _source(archive, layer, decompress)
        while b := src.read(_STEP):
            f.write(b)
            result.bytes += len(b)
            if progress is not None:
                progress(result.bytes, total)
            check_cancelled(cancelled)
    result.files = 1
    return result


def _source(archive: Archive, layer: LayerIndex, decompress: bool) -> tuple[_Readable, int]:
    """What to copy, and its size for progress: the layer's tar stream, or its blob as stored."""
    desc = layer.desc
    if decompress or desc.compression.is_plain:
        return layer_source(archive, desc), layer.uncompressed_size or 1
    assert desc.blob_name is not None
    blob = archive.container.blob(desc.blob_name)
    return blob.open(), blob.size
