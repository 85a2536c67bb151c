"""Random access into a gzip blob: checkpoints recorded while it is first decompressed, kept as bytes.

The library is rapidgzip (PyPI, wheels for the common platforms; C++ with ISA-L's inflate). Its
reader records a checkpoint (a compressed position and the 32 KiB window before it) every few MB of
output while it streams, so the index costs nothing beyond the first pass; a later read at any
offset starts at the nearest checkpoint. indexed_gzip was measured too (issue 14): its zlib-based
first pass took 1.6x the CPU of plain zlib, where rapidgzip's took 0.8x.

Without rapidgzip installed, ``available()`` is False and callers keep the plain zlib stream.
Everything rapidgzip reads here is either the blob itself or checkpoints sealed by ``export_index``
(sizes, length and crc32 checked before import); a failure of the fast path never changes a result: the
first pass falls back to ``GzipReader``, which gives the bytes or the one-line error it always gave.
"""

from __future__ import annotations

import atexit
import importlib
import io
import os
import struct
import threading
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import limits
from ..errors import CorruptArchive
from ..tar.source import StreamSource
from .compression import GzipReader, Read
from .container import Blob

_rapidgzip: Any
try:  # imported by name: rapidgzip ships no type information
    _rapidgzip = importlib.import_module("rapidgzip")
except ImportError:  # pragma: no cover - the dependency is optional on exotic platforms
    _rapidgzip = None

CHUNK = 2 << 20
"""rapidgzip's chunk size, about one checkpoint per 2 MB of input. Measured on a 277 MB layer (issue
14): 4 MB chunks take 230 MB of memory per reader and 35-60 ms per random read (import included);
2 MB chunks 166 MB and 50-65 ms; 1 MB chunks 115 MB and ~100 ms (more windows to import)."""
SEEK_OVER = 8 << 20
"""A gap between wanted members longer than this is crossed by a seek, not by decompressing it."""

_MAGIC = b"LYSGZIDX"
_VERSION = 1
_HEAD = struct.Struct("<8sHQQQI")
"""magic, version, stored size, uncompressed size, index length, crc32 of the index."""


MIN_BLOB = 8 << 20
"""Smaller blobs get no checkpoints: decompressing one from its start costs well under 0.1 s."""
MAX_RATIO = 16
"""rapidgzip decodes a whole chunk in memory: blobs that claim more than this expansion (a 2 GiB
file of zeros is 2 MB of gzip) are read by the bounded zlib stream instead."""


def available() -> bool:
    """Whether random access into gzip blobs is possible here (rapidgzip imports)."""
    return _rapidgzip is not None


def worth_indexing(blob: Blob) -> bool:
    """Whether a first pass over ``blob`` should record checkpoints: rapidgzip is here, the blob is
    large, and its gzip trailer claims an ordinary expansion (the size mod 4 GiB of the last member:
    a multi-member blob or one past 4 GiB usually fails this, and is streamed)."""
    if _rapidgzip is None or blob.size < MIN_BLOB:
        return False
    isize = int.from_bytes(blob.buf[blob.size - 4 : blob.size], "little")
    return blob.size <= isize <= blob.size * MAX_RATIO


@dataclass(frozen=True, slots=True)
class GzipCheckpoints:
    """The checkpoints of one gzip blob: rapidgzip's index bytes, for a blob of ``stored_size`` bytes
    that decompresses to ``size``."""

    index: bytes
    stored_size: int
    size: int


def export_index(cp: GzipCheckpoints) -> bytes:
    """``cp`` as bytes for a cache file (sealed: sizes, length and crc32 of the index; the cache file
    around it has its own sha256)."""
    crc = zlib.crc32(cp.index)
    return _HEAD.pack(_MAGIC, _VERSION, cp.stored_size, cp.size, len(cp.index), crc) + cp.index


def import_index(data: bytes | memoryview, stored_size: int) -> GzipCheckpoints | None:
    """The checkpoints ``export_index`` sealed, for a blob of ``stored_size`` bytes; None when ``data``
    is truncated, corrupt, of another version or for a blob of another size."""
    if len(data) < _HEAD.size:
        return None
    magic, version, stored, size, length, crc = _HEAD.unpack_from(data)
    if magic != _MAGIC or version != _VERSION or stored != stored_size or length != len(data) - _HEAD.size:
        return None
    index = bytes(data[_HEAD.size :])
    if zlib.crc32(index) != crc:
        return None
    return GzipCheckpoints(index, stored, size)


# ---- rapidgzip readers: always closed (a reader left open at exit aborts the interpreter) --------
_live: weakref.WeakSet[_Reader] = weakref.WeakSet()
_live_lock = threading.Lock()


class _BlobFile(io.RawIOBase):
    """A seekable file object over a blob's mapped bytes; pages read in order are let go as it goes."""

    RELEASE_EVERY = 32 << 20

    def __init__(self, blob: Blob) -> None:
        self._blob = blob
        self._mv = memoryview(blob.buf)
        self._pos = 0
        self._released = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any, /) -> int:
        view = memoryview(b).cast("B")
        end = min(len(self._mv), self._pos + len(view))
        n = end - self._pos
        view[:n] = self._mv[self._pos : end]
        self._pos = end
        if end - self._released >= self.RELEASE_EVERY:
            self._blob.release(self._released, end)
            self._released = end
        return n

    def read(self, n: int | None = -1, /) -> bytes:
        end = len(self._mv) if n is None or n < 0 else min(len(self._mv), self._pos + n)
        buf = bytearray(end - self._pos)
        self.readinto(buf)
        return bytes(buf)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._mv)}[whence]
        self._pos = max(0, base + pos)
        if self._pos < self._released:
            self._released = self._pos
        return self._pos

    def tell(self) -> int:
        return self._pos


class _Reader:
    """One rapidgzip reader over a blob, registered so that it is closed at exit at the latest."""

    def __init__(self, blob: Blob) -> None:
        assert _rapidgzip is not None
        self.f: Any = _rapidgzip.RapidgzipFile(_BlobFile(blob), parallelization=1, chunk_size=CHUNK)
        with _live_lock:
            _live.add(self)

    def close(self) -> None:
        f, self.f = self.f, None
        if f is not None:
            try:
                f.close()
            except Exception:
                pass

    def __del__(self) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    with _live_lock:
        readers = list(_live)
    for r in readers:
        r.close()


class IndexingGzipReader:
    """``read(n)`` over a gzip blob's decompressed bytes that records checkpoints on the way.

    At a clean end, ``on_done`` receives the checkpoints. Whenever rapidgzip fails or disagrees
    (truncated data, zero padding, garbage after the data), the bytes are read again from the start
    with ``GzipReader`` past what was already given out, so the result (bytes or CorruptArchive) is
    exactly the plain stream's; no checkpoints then.
    """

    def __init__(
        self,
        blob: Blob,
        name: str,
        path: str | os.PathLike[str] | None,
        on_done: Callable[[GzipCheckpoints], None],
    ) -> None:
        self._blob = blob
        self._name = name
        self._path = path
        self._on_done = on_done
        self._pos = 0
        self._fallback: Read | None = None
        self._r: _Reader | None = _Reader(blob)

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` decompressed bytes (all of them when n < 0). Raises CorruptArchive."""
        if n < 0:
            parts = []
            while b := self.read(limits.MAX_DECOMPRESS_STEP):
                parts.append(b)
            return b"".join(parts)
        if self._fallback is not None:
            return self._fallback(n)
        r = self._r
        assert r is not None
        try:
            out: bytes = r.f.read(min(n, limits.MAX_DECOMPRESS_STEP))
        except Exception:
            return self._fall_back(n)
        if out:
            self._pos += len(out)
            return out
        return self._finish(n)

    def _finish(self, n: int) -> bytes:
        """At rapidgzip's end: keep the checkpoints if it read the whole blob cleanly, else fall back."""
        r = self._r
        assert r is not None
        try:
            whole = (r.f.tell_compressed() + 7) // 8 == self._blob.size  # rapidgzip counts bits
            bio = io.BytesIO()
            r.f.export_index(bio, _rapidgzip.IndexFormat.GZTOOL)  # compressed windows: 1/13 the size
        except Exception:
            whole = False
        r.close()
        self._r = None
        if not whole:
            return self._fall_back(n)
        self._fallback = _at_end
        self._on_done(GzipCheckpoints(bio.getvalue(), self._blob.size, self._pos))
        return b""

    def _fall_back(self, n: int) -> bytes:
        """Continue with the plain zlib stream from where rapidgzip stopped."""
        if self._r is not None:
            self._r.close()
            self._r = None
        g = GzipReader(self._blob.open(), self._name, self._path)
        left = self._pos
        while left > 0:
            got = g.read(min(left, limits.MAX_DECOMPRESS_STEP))
            if not got:
                break
            left -= len(got)
        self._fallback = g.read
        return g.read(n)

    def close(self) -> None:
        """Let go of the decompressor early (it is also closed at its end and at exit)."""
        if self._r is not None:
            self._r.close()
            self._r = None


def _at_end(_n: int) -> bytes:
    return b""


class GzipSeeker:
    """Reads of a gzip blob's decompressed bytes at any offset, each starting at the nearest checkpoint.

    Raises ValueError when rapidgzip does not accept the checkpoints (callers then read the stream).
    """

    def __init__(
        self, blob: Blob, cp: GzipCheckpoints, name: str = "blob", path: str | os.PathLike[str] | None = None
    ) -> None:
        self._name = name
        self._path = path
        if blob.size != cp.stored_size:
            raise ValueError("the checkpoints are for a blob of another size")
        self._r = _Reader(blob)
        try:
            self._r.f.import_index(io.BytesIO(cp.index))
        except Exception as exc:
            self._r.close()
            raise ValueError(f"checkpoints not accepted ({exc})") from exc
        self.size = cp.size

    def seek(self, pos: int) -> None:
        """Go to ``pos`` in the decompressed bytes."""
        self._r.f.seek(pos)

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes from the current position (b"" at the end). Raises CorruptArchive."""
        try:
            out: bytes = self._r.f.read(min(n, limits.MAX_DECOMPRESS_STEP))
        except Exception as exc:
            what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CorruptArchive(f"{self._name}: corrupt gzip data ({what})", self._path) from exc
        return out

    def close(self) -> None:
        """Let go of the decompressor (also done at exit)."""
        self._r.close()


class SeekingSource(StreamSource):
    """A stream source over a gzip blob that crosses long gaps by seeking to a checkpoint.

    Used to read chosen members: skips shorter than SEEK_OVER are read through, as a stream would.
    """

    def __init__(self, seeker: GzipSeeker) -> None:
        super().__init__(seeker.read)
        self._seeker = seeker

    def skip(self, n: int) -> int:
        """Skip ``n`` bytes (a seek past SEEK_OVER); return how many were there. ValueError when n < 0."""
        avail = len(self._buf) - self._i
        if n < 0 or n - avail < SEEK_OVER:
            return super().skip(n)
        target = min(self.pos + n, self._seeker.size)
        self._seeker.seek(target)
        self._buf = b""
        self._i = 0
        self._eof = False
        done = target - self.pos
        self.pos = target
        return done

    def close(self) -> None:
        """Let go of the decompressor."""
        self._seeker.close()
