"""Check that each layer's bytes are what the manifest and config say: blob digest and diff_id."""

from __future__ import annotations

from ..archive.compression import decompressed_reader
from ..archive.container import Blob
from ..archive.records import Archive, ImageRecord, LayerDesc
from ..digest import sha256_stream
from ..errors import Cancelled, LayerScopeError
from ..progress import BytesProgress, CancelCheck, StageProgress
from .source import layer_blob


def verify_image(
    archive: Archive,
    image: ImageRecord,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> list[str]:
    """Check every layer's blob digest and diff_id (reads all bytes).

    Returns one line per problem (empty when everything matches); a mismatch never raises.
    Raises Cancelled.
    """
    out: list[str] = []
    total = sum(d.size for d in image.layers) or 1
    base = 0
    for d in image.layers:
        if d.blob_name is None:
            out.append(f"layer {d.index}: not in the archive; cannot verify")
            continue
        blob = layer_blob(archive, d)

        def prog(n: int, b: int = base, i: int = d.index, size: int = blob.size) -> None:
            if progress is not None:
                progress(f"verifying layer {i + 1} of {len(image.layers)}", b + min(n, size), total)

        out += _check_blob(d, blob, prog, cancelled)
        out += _check_diff_id(archive, d, blob, cancelled)
        base += d.size
    return out


def _check_blob(
    d: LayerDesc, blob: Blob, progress: BytesProgress, cancelled: CancelCheck | None
) -> list[str]:
    if not (d.digest and d.digest.startswith("sha256:")):
        return []
    got, _n = sha256_stream(blob.open().read, progress, cancelled)
    return [] if got == d.digest else [f"layer {d.index}: blob digest is {got}, manifest says {d.digest}"]


def _check_diff_id(archive: Archive, d: LayerDesc, blob: Blob, cancelled: CancelCheck | None) -> list[str]:
    if not (d.diff_id and d.diff_id.startswith("sha256:")):
        return []
    if d.compression.is_plain and d.digest == d.diff_id:
        return []  # the same bytes as the blob, checked already
    try:
        read = decompressed_reader(blob.open(), d.compression, f"layer {d.index}", archive.label)
        got, _n = sha256_stream(read, None, cancelled)
    except Cancelled:
        raise
    except LayerScopeError as exc:
        return [f"layer {d.index}: cannot verify diff_id ({exc.message})"]
    if got != d.diff_id:
        return [f"layer {d.index}: uncompressed digest is {got}, config diff_id says {d.diff_id}"]
    return []
