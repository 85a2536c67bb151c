"""What each folder of an image's merged tree holds (core/folders.py's ``sum_folders``) as a cache
payload and back, exactly.

The top's merged view lists and sizes folders by these records; making them is one pass over every
path (0.3 s on the 2 GB benchmark image), reading them back a few C-level calls per column. The
columns: the folders, each one's names with their sizes and owning layers (one flat table each, cut
by the folders' name counts), its file count and bytes, and its bytes by owning layer (flat pairs,
cut by each folder's pair count).
"""

from __future__ import annotations

from ..folders import FolderSums
from ..progress import PAUSE_EVERY, pause_point
from .columns import CacheInvalid, PayloadReader, PayloadWriter, in_slices, slices_of


def encode_sums(sums: dict[str, FolderSums]) -> bytes:
    """The payload of ``sums``. Raises Unencodable."""
    recs = list(sums.values())
    w = PayloadWriter()
    w.strings(list(sums))
    w.ints([len(r.names) for r in recs])
    w.strings([name for r in recs for name in r.names])
    w.ints([size for r in recs for size in r.sizes])
    w.ints([owner for r in recs for owner in r.owners])
    w.ints([r.files for r in recs])
    w.ints([r.bytes for r in recs])
    w.ints([len(r.layers) if r.layers is not None else -1 for r in recs])
    w.ints([k for r in recs if r.layers for k in r.layers])
    w.ints([v for r in recs if r.layers for v in r.layers.values()])
    return w.getvalue()


def decode_sums(payload: bytes | memoryview) -> dict[str, FolderSums]:
    """The records ``encode_sums`` made ``payload`` from. Raises CacheInvalid."""
    r = PayloadReader(payload)
    folders = r.strings()
    n = len(folders)
    counts = r.ints(n)
    if counts and min(counts) < 0:
        raise CacheInvalid("a folder of fewer than no names")
    total = sum(counts)
    names, sizes, owners = r.strings(total), r.ints(total).tolist(), r.ints(total).tolist()
    files, nbytes, n_layers = r.ints(n), r.ints(n), r.ints(n)
    if n_layers and min(n_layers) < -1:
        raise CacheInvalid("a folder of fewer than no layers")
    pairs = sum(k for k in n_layers if k > 0)
    layer_pairs = in_slices(zip(r.ints(pairs), r.ints(pairs), strict=True))
    r.end()
    cuts = list(slices_of(counts))
    out: dict[str, FolderSums] = {}
    at = 0
    for i, (folder, cut, f, b, k) in enumerate(zip(folders, cuts, files, nbytes, n_layers, strict=True)):
        if not i % PAUSE_EVERY:
            pause_point()
        rec = FolderSums()
        rec.names, rec.sizes, rec.owners = names[cut], sizes[cut], owners[cut]
        rec.files, rec.bytes = f, b
        if k >= 0:
            rec.layers = dict(layer_pairs[at : at + k])
            at += k
        out[folder] = rec
    if len(out) != n or "" not in out:
        raise CacheInvalid("folder records without the root, or twice the same folder")
    return out
