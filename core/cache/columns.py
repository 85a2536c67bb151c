"""The payload encoding: integer columns as little-endian arrays, string tables, JSON sections.

Reading 186,000 entries is a handful of C-level calls (``array.frombytes``, ``bytes.decode``,
``str.split``) instead of one Python step per field. Any inconsistency raises CacheInvalid.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate, islice
from typing import TypeVar

from ..progress import pause_point

_INT_CODES = ("b", "h", "i", "q")
_COUNT = struct.Struct("<Q")
_COLUMN = struct.Struct("<cQ")
_BIG_ENDIAN = sys.byteorder == "big"
_TEXT = ("utf-8", "surrogatepass")  # round-trips every str, lone surrogates included
_ITEM_SIZES = {c: array(c).itemsize for c in _INT_CODES}
_BITS = {c: 8 * size - 1 for c, size in _ITEM_SIZES.items()}
_LIMITS = {c: (-(1 << b), (1 << b) - 1) for c, b in _BITS.items()}
T = TypeVar("T")


SLICE = 4096
"""Items built by one C-level call when a column becomes Python objects: a few milliseconds, then
the loop goes round in Python, where another thread (the GUI's) can take the GIL."""

_TEXT_SLICE = 1 << 18
"""Bytes of a string table decoded and split at once (a few thousand names)."""


def in_slices(items: Iterator[T]) -> list[T]:
    """``list(items)``, built ``SLICE`` items at a time (never one long hold of the GIL)."""
    out: list[T] = []
    while True:
        before = len(out)
        out.extend(islice(items, SLICE))
        if len(out) - before < SLICE:
            return out
        pause_point()


def slices_of(lengths: Sequence[int]) -> Iterator[slice]:
    """Consecutive slices of the given lengths: a flat column cut into its records' parts."""
    ends = list(accumulate(lengths))
    return map(slice, [0, *ends[:-1]], ends)


def _split_text(data: bytes) -> list[str]:
    """The table's bytes decoded and split at each NUL, a slice of the bytes at a time (cut at a NUL,
    which UTF-8 never holds inside a character, so the strings are the same as in one call)."""
    out: list[str] = []
    start, end = 0, len(data)
    while True:
        cut = data.find(b"\0", start + _TEXT_SLICE) if start + _TEXT_SLICE < end else -1
        if cut < 0:
            out.extend(data[start:].decode(*_TEXT).split("\0"))
            return out
        out.extend(data[start:cut].decode(*_TEXT).split("\0"))
        start = cut + 1
        pause_point()


class CacheInvalid(Exception):
    """The bytes are not a payload this version wrote: ignore the file."""


class Unencodable(Exception):
    """A value the format cannot hold (an integer past 64 bits, a NUL in a name): do not cache it."""


def _int_code(values: Sequence[int]) -> str:
    if not values:
        return "b"
    lo, hi = min(values), max(values)
    for code in _INT_CODES:
        a, b = _LIMITS[code]
        if a <= lo and hi <= b:
            return code
    raise Unencodable(f"integer {lo if lo < _LIMITS['q'][0] else hi} does not fit in 64 bits")


class PayloadWriter:
    """Sections appended in order; ``getvalue`` gives the payload. Raises Unencodable."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def count(self, n: int) -> None:
        """One unsigned count."""
        self._parts.append(_COUNT.pack(n))

    def raw(self, data: bytes) -> None:
        """Bytes, with their length."""
        self._parts += (_COUNT.pack(len(data)), data)

    def ints(self, values: Sequence[int]) -> None:
        """A column of integers in the smallest of 8, 16, 32 or 64 bits that holds them all."""
        try:
            code = _int_code(values)
            arr = array(code, values)
        except (TypeError, OverflowError) as exc:
            raise Unencodable(str(exc)) from exc
        if _BIG_ENDIAN:
            arr.byteswap()
        data = arr.tobytes()
        self._parts += (_COLUMN.pack(code.encode(), len(data)), data)

    def strings(self, values: Sequence[str]) -> None:
        """A table of strings, none holding a NUL."""
        text = "\0".join(values)
        if text.count("\0") != max(len(values) - 1, 0):
            raise Unencodable("a string holds a NUL character")
        self.count(len(values))
        self.raw(text.encode(*_TEXT))

    def json(self, value: object) -> None:
        """A small JSON document (ASCII, so that any str survives)."""
        self.raw(json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii"))

    def getvalue(self) -> bytes:
        """The payload so far."""
        return b"".join(self._parts)


class PayloadReader:
    """Reads back what PayloadWriter wrote, in the same order. Raises CacheInvalid."""

    def __init__(self, data: bytes | memoryview) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def _take(self, n: int) -> memoryview:
        a = self._pos
        if n < 0 or a + n > len(self._data):
            raise CacheInvalid("payload cut short")
        self._pos = a + n
        return self._data[a : a + n]

    def count(self) -> int:
        """One unsigned count."""
        return int(_COUNT.unpack(self._take(_COUNT.size))[0])

    def skip(self, n: int) -> None:
        """Pass over ``n`` bytes."""
        self._take(n)

    @property
    def pos(self) -> int:
        """Bytes read so far."""
        return self._pos

    def raw(self) -> memoryview:
        """Bytes written by ``raw``."""
        return self._take(self.count())

    def ints(self, n: int | None = None) -> array[int]:
        """A column written by ``ints``; with ``n``, it must hold exactly ``n`` values."""
        code_b, size = _COLUMN.unpack(self._take(_COLUMN.size))
        code = code_b.decode("latin-1")
        if code not in _INT_CODES:
            raise CacheInvalid(f"unknown column type {code!r}")
        arr = array(code)
        if size % arr.itemsize:
            raise CacheInvalid("column length is not a whole number of values")
        arr.frombytes(self._take(size))
        if _BIG_ENDIAN:
            arr.byteswap()
        if n is not None and len(arr) != n:
            raise CacheInvalid(f"column of {len(arr)} values where {n} were expected")
        return arr

    def column(self, n: int) -> tuple[str, memoryview]:
        """A column written by ``ints`` left as bytes: its array type code and its ``n`` values' bytes
        (little-endian), for reading a few values by position without converting them all."""
        code_b, size = _COLUMN.unpack(self._take(_COLUMN.size))
        code = code_b.decode("latin-1")
        if code not in _INT_CODES:
            raise CacheInvalid(f"unknown column type {code!r}")
        if size != n * _ITEM_SIZES[code]:
            raise CacheInvalid(f"column of {size} bytes where {n} values were expected")
        return code, self._take(size)

    def strings_raw(self, n: int) -> memoryview:
        """A table written by ``strings`` of ``n`` strings, left as its NUL-separated UTF-8 bytes."""
        if self.count() != n:
            raise CacheInvalid(f"a table of another count than {n} strings")
        return self.raw()

    def strings(self, n: int | None = None) -> list[str]:
        """A table written by ``strings``; with ``n``, it must hold exactly ``n`` strings."""
        count = self.count()
        data = self.raw()
        if n is not None and count != n:
            raise CacheInvalid(f"table of {count} strings where {n} were expected")
        if count == 0:
            if len(data):
                raise CacheInvalid("bytes in an empty string table")
            return []
        try:
            out = _split_text(bytes(data))
        except UnicodeDecodeError as exc:
            raise CacheInvalid("string table is not UTF-8") from exc
        if len(out) != count:
            raise CacheInvalid("string table does not hold its count")
        return out

    def json(self) -> object:
        """A document written by ``json``."""
        try:
            return json.loads(bytes(self.raw()).decode("ascii"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CacheInvalid("JSON section is not valid") from exc

    def end(self) -> None:
        """Check that every byte was read."""
        if self._pos != len(self._data):
            raise CacheInvalid("bytes after the last section")
