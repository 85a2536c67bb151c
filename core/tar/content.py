"""The stored bytes of chosen members, read in one pass over the tar."""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..entry import Entry
from ..errors import CorruptArchive
from .source import Source


def iter_member_data(
    src: Source,
    wanted: list[Entry],
    chunk: int = 1 << 20,
    label: str = "layer",
    path: str | os.PathLike[str] | None = None,
) -> Iterator[tuple[Entry, Iterator[bytes]]]:
    """For entries sorted by offset, yield each with an iterator over its stored bytes (one pass).

    An entry may appear once only (ValueError otherwise). The chunks of one entry must be read before
    the next entry is asked for. Raises CorruptArchive (naming ``label`` and ``path``) when the data is
    cut short."""
    for e in wanted:
        if e.offset < src.pos:
            raise ValueError("entries must be sorted by offset, each once")
        src.skip(e.offset - src.pos)
        yield e, _chunks(src, e.stored_size, chunk, label, path)


def _chunks(
    src: Source, n: int, chunk: int, label: str, path: str | os.PathLike[str] | None
) -> Iterator[bytes]:
    """The next ``n`` bytes of ``src`` in chunks of at most ``chunk``."""
    left = n
    while left > 0:
        b = src.read(min(chunk, left))
        if not b:
            raise CorruptArchive(f"{label}: unexpected end of layer data", path)
        left -= len(b)
        yield b
