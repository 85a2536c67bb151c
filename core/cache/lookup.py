"""One layer's cached index read for a few paths, without decoding its entries.

``cat`` needs the entries of a handful of paths (the file, the folders above it, a link's target);
decoding a 70,000-entry layer into Entry tuples costs ~0.1 s, searching its path table costs
microseconds. ``LayerPaths`` keeps the payload as bytes: the path table is searched with
``bytes.find``/``rfind`` (a path is the text between two NULs) and an entry is built only for the
positions asked for, field for field as ``decode_layer`` builds it. Any inconsistency raises
CacheInvalid (the caller then reads the layer the long way).
"""

from __future__ import annotations

import bisect
import struct
from typing import Any

from ..entry import Entry, EntryExtra
from ..kinds import EntryType
from .columns import CacheInvalid, PayloadReader
from .layers import _TYPES, _extra_from, _is_int

_TEXT = ("utf-8", "surrogatepass")
_NOT_OWN = frozenset(i for i, t in enumerate(_TYPES) if t in (EntryType.WHITEOUT, EntryType.OPAQUE))
"""Type codes of the entries that are deletions (whiteouts, opaque markers), not the layer's files."""


class LayerPaths:
    """The entries section of a layer payload (``encode_layer``), searchable by path.

    ``data`` holds the payload from ``start`` on (a whole cache file: no copy of it is made; the
    path table is searched where it lies)."""

    def __init__(self, data: bytes, start: int = 0) -> None:
        r = PayloadReader(memoryview(data)[start:])
        meta = r.json()
        if not isinstance(meta, dict):
            raise CacheInvalid("layer header is not an object")
        charged = meta.get("charged")
        if not (isinstance(charged, list) and len(charged) == 2 and all(map(_is_int, charged))):
            raise CacheInvalid("layer header fields of the wrong type")
        size = meta.get("size")
        if not isinstance(size, int) or not _is_int(size):
            raise CacheInvalid("layer header fields of the wrong type")
        self.uncompressed_size = size
        self.charged: tuple[int, int] = (charged[0], charged[1])
        n = self.n = r.count()
        self._types = r.raw()
        if len(self._types) != n:
            raise CacheInvalid("entry types do not match the count")
        if r.count() != n:
            raise CacheInvalid("a table of another count than the entries")
        length = r.count()
        self._data = data
        self._lo = start + r.pos  # the path table: data[lo:hi], paths joined by NULs
        self._hi = self._lo + length
        r.skip(length)
        self._cols = [r.column(n) for _ in range(6)]  # sizes, modes, uids, gids, mtimes, offsets
        self._link_at = r.ints().tolist()
        self._link_table = r.strings_raw(len(self._link_at))
        self._links: list[str] | None = None
        self._extra_at = r.ints().tolist()
        self._extras_raw = r.raw()
        self._extras: list[Any] | None = None

    def _index(self, pos: int) -> int:
        """The entry whose path starts at ``pos`` of the data (after a NUL, or the table's start)."""
        k = self._data.count(b"\0", self._lo, pos)
        if k >= self.n:
            raise CacheInvalid("string table does not hold its count")
        return k

    def find(self, path: str) -> list[int]:
        """The positions (tar order) of every entry of ``path``, deletions included."""
        if not path or not self.n:  # the root is never an entry
            return []
        enc = path.encode(*_TEXT)
        data, lo, hi = self._data, self._lo, self._hi
        starts = []
        if data.startswith(enc, lo, hi) and (lo + len(enc) == hi or data[lo + len(enc)] == 0):
            starts.append(lo)
        pat = b"\0" + enc + b"\0"
        pos = data.find(pat, lo, hi)
        while pos >= 0:
            starts.append(pos + 1)
            pos = data.find(pat, pos + 1, hi)
        tail = hi - len(enc)
        if tail > lo and data[tail - 1] == 0 and data.startswith(enc, tail, hi):
            starts.append(tail)
        out: list[int] = []
        k = last = 0
        for at in starts:
            k += data.count(b"\0", max(last, lo), at)  # counted on from the previous match
            last = at
            if k >= self.n:
                raise CacheInvalid("string table does not hold its count")
            out.append(k)
        return out

    def last_under(self, path: str) -> tuple[int, str] | None:
        """The position and path of the last entry strictly under ``path`` that is not a deletion."""
        if not path or not self.n:
            return None
        enc = path.encode(*_TEXT) + b"/"
        data, lo, types, not_own = self._data, self._lo, self._types, _NOT_OWN
        pat = b"\0" + enc
        end = self._hi
        while True:
            pos = data.rfind(pat, lo, end)
            if pos >= 0:
                at = pos + 1
            elif data.startswith(enc, lo, self._hi):
                at = lo
            else:
                return None
            k = self._index(at)
            if types[k] not in not_own:
                return k, self._path_at(at)
            if at == lo:
                return None
            end = pos

    def has_under(self, path: str, after: int = -1) -> bool:
        """Whether an entry strictly under ``path`` that is not a deletion comes after entry ``after``."""
        found = self.last_under(path)
        return found is not None and found[0] > after

    def is_own(self, k: int) -> bool:
        """Whether entry ``k`` is one of the layer's files (not a whiteout or an opaque marker)."""
        return self._types[k] not in _NOT_OWN

    def _path_at(self, at: int) -> str:
        """The path that starts at ``at``."""
        data = self._data
        end = data.find(b"\0", at, self._hi)
        try:
            return data[at : self._hi if end < 0 else end].decode(*_TEXT)
        except UnicodeDecodeError as exc:
            raise CacheInvalid("string table is not UTF-8") from exc

    def type_of(self, k: int) -> EntryType:
        """The type of entry ``k``."""
        try:
            return _TYPES[self._types[k]]
        except IndexError as exc:
            raise CacheInvalid("unknown entry type") from exc

    def entry(self, k: int, path: str) -> Entry:
        """Entry ``k`` of ``path`` (found by ``find`` or ``last_under``): the tuple ``decode_layer``
        makes."""
        if not 0 <= k < self.n:
            raise CacheInvalid("a position past the entries")
        size, mode, uid, gid, mtime, offset = (
            struct.unpack_from("<" + code, mv, k * struct.calcsize(code))[0] for code, mv in self._cols
        )
        link = None
        j = bisect.bisect_left(self._link_at, k)
        if j < len(self._link_at) and self._link_at[j] == k:
            if self._links is None:
                self._links = _split(self._link_table, len(self._link_at))
            link = self._links[j]
        extra: EntryExtra | None = None
        j = bisect.bisect_left(self._extra_at, k)
        if j < len(self._extra_at) and self._extra_at[j] == k:
            if self._extras is None:
                self._extras = _json_list(self._extras_raw, len(self._extra_at))
            extra = _extra_from(self._extras[j])
        return Entry(path, self.type_of(k), size, mode, uid, gid, mtime, link, offset, extra)


def _split(data: memoryview, n: int) -> list[str]:
    if n == 0:
        return []
    try:
        out = bytes(data).decode(*_TEXT).split("\0")
    except UnicodeDecodeError as exc:
        raise CacheInvalid("string table is not UTF-8") from exc
    if len(out) != n:
        raise CacheInvalid("string table does not hold its count")
    return out


def _json_list(data: memoryview, n: int) -> list[Any]:
    import json

    try:
        docs = json.loads(bytes(data).decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CacheInvalid("JSON section is not valid") from exc
    if not isinstance(docs, list) or len(docs) != n:
        raise CacheInvalid("extras do not match their positions")
    return docs
