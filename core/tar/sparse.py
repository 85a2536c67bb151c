"""Sparse files: their maps as tars spell them, and their content rebuilt from the stored extents.

A sparse member stores only its extents; ``SparseMap`` says where each goes in the file, holes
between them. Three spellings of the map are read: old GNU (in the header and extension blocks),
PAX 0.1 (a ``GNU.sparse.map`` record) and PAX 1.0 (decimal lines at the start of the data).
PAX 0.0 repeats ``offset``/``numbytes`` records, of which a dict keeps only the last: no usable map.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..entry import SparseMap
from ..errors import CorruptArchive
from ..limits import MAX_SPARSE_EXTENSIONS, MAX_SPARSE_MAP_BYTES, MAX_UNSPARSE_BYTES
from .header import BLOCK, number
from .source import Source

_ZEROS = bytes(1 << 20)


class SparseMapError(ValueError):
    """A sparse map whose extents are out of order or reach outside the file."""


# ---- reading the map ------------------------------------------------------------------------------
def gnu_map(hdr: bytes, src: Source, name: str) -> tuple[SparseMap, int]:
    """Old GNU sparse: (map, the file's full size) from the header's 4 slots and the extension blocks
    that follow it in ``src``. Raises CorruptArchive naming ``name``."""
    smap: list[tuple[int, int]] = []

    def slots(area: bytes, count: int) -> None:
        for k in range(count):
            off = number(area[k * 24 : k * 24 + 12])
            ln = number(area[k * 24 + 12 : k * 24 + 24])
            if off < 0 or ln < 0:
                raise ValueError("negative sparse map entry")
            if off or ln:
                smap.append((off, ln))

    try:
        slots(hdr[386:482], 4)
        extended = hdr[482]
        realsize = number(hdr[483:495])
        guard = 0
        while extended:
            ext = src.block()
            if len(ext) < BLOCK:
                raise CorruptArchive(f"truncated sparse header of {name!r}")
            slots(ext[:504], 21)
            extended = ext[504]
            guard += 1
            if guard > MAX_SPARSE_EXTENSIONS:
                raise CorruptArchive(f"sparse map of {name!r} never ends")
    except ValueError as exc:
        raise CorruptArchive(f"bad sparse map of {name!r}") from exc
    if realsize < 0:
        raise CorruptArchive(f"bad sparse map of {name!r}")
    return tuple(smap), realsize


def pax_map_10(src: Source, name: str, limit: int, size: int) -> tuple[SparseMap, int]:
    """PAX sparse 1.0: (map, bytes it used) from the decimal lines at the start of the member's data
    (``size`` bytes), padded to a block. At most ``limit`` extents. Raises CorruptArchive."""
    buf = b""
    used = 0
    while True:
        blk = src.block()
        if len(blk) < BLOCK:
            raise CorruptArchive(f"truncated sparse map of {name!r}")
        buf += blk
        used += BLOCK
        nums = buf.split(b"\n")
        if len(nums) > 1:
            try:
                count = int(nums[0])
                if count < 0 or count > limit:
                    raise ValueError("bad count")
                if len(nums) - 1 > 2 * count:
                    vals = [int(x) for x in nums[1 : 1 + 2 * count]]
                    if any(v < 0 for v in vals):
                        raise ValueError("negative sparse map entry")
                    return tuple((vals[2 * k], vals[2 * k + 1]) for k in range(count)), used
            except ValueError as exc:
                raise CorruptArchive(f"bad sparse map of {name!r}") from exc
        if used > MAX_SPARSE_MAP_BYTES or used > size:
            raise CorruptArchive(f"sparse map of {name!r} is too large")


def pax_map_01(text: str, name: str) -> SparseMap:
    """PAX sparse 0.1: the map from ``GNU.sparse.map`` ("offset,length,offset,length...").
    Raises CorruptArchive naming ``name``."""
    try:
        vals = [int(x) for x in text.split(",")] if text else []
    except ValueError as exc:
        raise CorruptArchive(f"bad sparse map of {name!r}") from exc
    if len(vals) % 2 or any(v < 0 for v in vals):
        raise CorruptArchive(f"bad sparse map of {name!r}")
    return tuple((vals[k], vals[k + 1]) for k in range(0, len(vals), 2))


# ---- using the map --------------------------------------------------------------------------------
def check_map(smap: SparseMap, size: int) -> SparseMap:
    """``smap`` itself when it can rebuild a file of ``size`` bytes: extents in order, inside the file.
    Raises SparseMapError otherwise."""
    pos = 0
    for off, ln in smap:
        if off < pos or ln < 0 or off + ln > size:
            raise SparseMapError("sparse map points outside the file")
        pos = off + ln
    return smap


def extents(chunks: Iterable[bytes], smap: SparseMap) -> Iterator[tuple[int, bytes]]:
    """(offset in the file, bytes) of each stored extent, cut from the member's stored data
    (zeros where the data runs short). ``smap`` should have passed ``check_map``."""
    it = iter(chunks)
    buf = b""
    i = 0  # bytes of buf already handed out
    for off, ln in smap:
        left = ln
        while left > 0:
            if i >= len(buf):
                buf = next(it, b"") or bytes(min(left, len(_ZEROS)))
                i = 0
            piece = buf[i : i + left]
            i += len(piece)
            yield off + ln - left, piece
            left -= len(piece)


def content(chunks: Iterable[bytes], smap: SparseMap, size: int) -> Iterator[bytes]:
    """The whole file of ``size`` bytes, in pieces: its extents with zeros between and after them.
    ``smap`` should have passed ``check_map``."""
    pos = 0
    for off, piece in extents(chunks, smap):
        while pos < off:
            n = min(off - pos, len(_ZEROS))
            yield _ZEROS[:n]
            pos += n
        yield piece
        pos += len(piece)
    while pos < size:
        n = min(size - pos, len(_ZEROS))
        yield _ZEROS[:n]
        pos += n


def unsparse(stored: bytes, smap: SparseMap, size: int, want: int | None = None) -> bytes:
    """The first ``want`` bytes (default: all ``size``) of a sparse file, from its stored data.

    Raises CorruptArchive for a map ``check_map`` refuses, or past MAX_UNSPARSE_BYTES."""
    want = size if want is None else min(want, size)
    if want > MAX_UNSPARSE_BYTES:
        raise CorruptArchive(f"sparse file of {size} bytes is too large to read into memory")
    try:
        check_map(smap, size)
    except SparseMapError as exc:
        raise CorruptArchive(str(exc)) from exc
    out = bytearray(want)
    for off, piece in extents((stored,), smap):
        if off >= want:
            break
        n = min(len(piece), want - off)
        out[off : off + n] = piece[:n]
    return bytes(out)
