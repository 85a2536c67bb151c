"""The bytes of files in a layer, read back from the archive by the offsets the index recorded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..archive.records import Archive, LayerDesc
from ..entry import Entry
from ..errors import CorruptArchive, LayerScopeError
from ..kinds import EntryType
from ..tar.content import iter_member_data
from ..tar.sparse import unsparse
from .seekable import seekable_source
from .source import layer_source


def iter_contents(
    archive: Archive, desc: LayerDesc, entries: Iterable[Entry]
) -> Iterator[tuple[Entry, Iterator[bytes]]]:
    """Yield (entry, chunks) for regular-file entries of one layer, in one pass (a gzip layer whose
    checkpoints are known seeks across long gaps instead of decompressing them).

    Raises MissingBlob, CorruptArchive while iterating.
    """
    wanted = sorted({e.offset: e for e in entries}.values(), key=lambda e: e.offset)
    seeking = seekable_source(archive, desc)  # a gzip layer with checkpoints: long gaps are seeks
    if seeking is None:
        src = layer_source(archive, desc)
        yield from iter_member_data(src, wanted, label=f"layer {desc.index}", path=archive.label)
        return
    try:
        yield from iter_member_data(seeking, wanted, label=f"layer {desc.index}", path=archive.label)
    finally:
        seeking.close()


def first_bytes(chunks: Iterable[bytes], n: int) -> bytes:
    """The first ``n`` bytes of ``chunks`` (fewer when they end first), reading no further chunk."""
    parts: list[bytes] = []
    got = 0
    for c in chunks:
        parts.append(c)
        got += len(c)
        if got >= n:
            break
    return b"".join(parts)[:n]


def read_content(archive: Archive, desc: LayerDesc, entry: Entry, limit: int | None = None) -> bytes:
    """The bytes of one file entry (at most ``limit`` of them). Sparse holes are filled with zeros.

    Raises LayerScopeError when the entry is not a file; MissingBlob, CorruptArchive.
    """
    if entry.type != EntryType.FILE:
        raise LayerScopeError(f"/{entry.path} is a {entry.type}, not a file", archive.label)
    want = entry.size if limit is None else min(limit, entry.size)
    parts: list[bytes] = []
    got = 0
    for _e, chunks in iter_contents(archive, desc, [entry]):
        for c in chunks:
            parts.append(c)
            got += len(c)
            if got >= want and entry.sparse is None:
                break
    data = b"".join(parts)
    if entry.sparse is not None:
        try:
            data = unsparse(data, entry.sparse, entry.size, want)
        except CorruptArchive as exc:
            raise CorruptArchive(f"layer {desc.index}: /{entry.path}: {exc.message}", archive.label) from exc
    return data[:want]
