"""What a file's bytes are, as a digest: told by the layers when they can, read only when needed.

The same member of the same layer tar (same diff_id, same data offset) is the same bytes, so files
from shared layers are never read. Other files are hashed in one pass per layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ..entry import Entry
from ..layers.content import iter_contents, read_content
from ..progress import CancelCheck, check_cancelled
from .side import Side

ContentKey = tuple[int, int]
"""A file's bytes within one side: (layer, data offset in the layer's tar)."""


def same_member(a: Side, layer_a: int, entry_a: Entry, b: Side, layer_b: int, entry_b: Entry) -> bool:
    """True when both entries are the same member of the same layer tar (same diff_id and offset):
    then they are the same in every respect, without reading anything."""
    da = a.tree.layers[layer_a].desc.diff_id
    return da is not None and da == b.tree.layers[layer_b].desc.diff_id and entry_a.offset == entry_b.offset


def content_digests(
    side: Side, files: Iterable[tuple[int, Entry]], cancelled: CancelCheck | None = None
) -> dict[ContentKey, str]:
    """``sha256:<hex>`` of the bytes of each (layer, regular-file entry) of ``side``, by
    (layer, offset). Sparse files are hashed with their holes filled. Raises Cancelled,
    MissingBlob, CorruptArchive."""
    by_layer: dict[int, dict[int, Entry]] = {}
    for layer, e in files:
        by_layer.setdefault(layer, {})[e.offset] = e
    out: dict[ContentKey, str] = {}
    for layer, wanted in sorted(by_layer.items()):
        check_cancelled(cancelled)
        desc = side.tree.layers[layer].desc
        plain = [e for e in wanted.values() if e.sparse is None]
        for e in wanted.values():
            if e.sparse is not None:
                check_cancelled(cancelled)
                out[(layer, e.offset)] = (
                    "sha256:" + hashlib.sha256(read_content(side.archive, desc, e)).hexdigest()
                )
        for e, chunks in iter_contents(side.archive, desc, plain):
            check_cancelled(cancelled)
            h = hashlib.sha256()
            for n, c in enumerate(chunks):
                if n & 63 == 63:  # a large file: between chunks too
                    check_cancelled(cancelled)
                h.update(c)
            out[(layer, e.offset)] = "sha256:" + h.hexdigest()
    return out
