"""A tree row's bytes: which layer entry holds them, and a temporary copy (drag out, open externally)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerscope.core.errors import LinkLoop
from layerscope.core.export.spec import ExportSpec, What, run
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.layers.content import iter_contents
from layerscope.core.resolve import hardlink_target
from layerscope.core.session import LoadedImage
from layerscope.core.views import Row


def content_source(session: LoadedImage, row: Row) -> tuple[int, Any] | None:
    """(layer, file entry) holding this row's bytes: the row's own layer, a hardlink's target, or for
    a removed file the layer that had stored it (its bytes are still in that layer).

    None for folders, links, devices and removed hardlinks."""
    e = row.entry
    if e is None:
        return None
    if row.change is ChangeKind.REMOVED:
        return (row.stored_in, e) if e.type is EntryType.FILE else None
    if e.type is EntryType.FILE:
        return row.stored_in, e
    if e.type is EntryType.HARDLINK:
        try:
            n = session.tree.nodes.get(hardlink_target(session.tree, row.path))
        except LinkLoop:
            return None
        if n is not None and n.entry is not None and n.entry.type is EntryType.FILE:
            return n.layer, n.entry
    return None


def write_copy(session: LoadedImage, row: Row, folder: Path) -> Path | None:
    """Write the bytes of ``row`` to ``folder``/its name; None when it has no content."""
    src = content_source(session, row)
    if src is None:
        return None
    layer, entry = src
    target = folder / (row.name or "file")
    with open(target, "wb") as f:
        for _e, chunks in iter_contents(session.archive, session.layers[layer].desc, [entry]):
            for c in chunks:
                f.write(c)
    return target


MAX_FOLDER_COPY_BYTES = 256_000_000
"""A folder dragged out is copied on the GUI thread when it is dropped: no bigger than this."""


def write_folder_copy(
    session: LoadedImage, row: Row, top: int, own_changes: bool, folder: Path
) -> Path | None:
    """Export folder ``row`` of the view of layer ``top`` (merged up to it, or that layer's own files)
    into ``folder``; the copy's path, None when it is removed or too big to copy here (over
    MAX_FOLDER_COPY_BYTES). Raises LayerScopeError (nothing of the layer's own below it),
    ExportError (disk full, ...), CorruptArchive."""
    if row.entry is not None and row.entry.type is not EntryType.DIR:
        return None
    if row.change is ChangeKind.REMOVED or row.size > MAX_FOLDER_COPY_BYTES:
        return None
    what = What.LAYER if own_changes else What.MERGED
    dest = folder / "export"
    run(ExportSpec(what, dest, layer=top, path=row.path), session)
    copy = dest / row.name
    return copy if copy.exists() else None
