"""Blob bytes: sniff compression by magic, open decompressed streams, hash.

Compression is decided by content, never by a media type or a file name alone.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

from .errors import CorruptArchive, UnsupportedFormat

GZIP = "gzip"
ZSTD = "zstd"
PLAIN = "none"
EMPTY = "empty"

_MAX_OUT = 4 << 20  # bound on one decompression step's output: a bomb never lands in memory whole


def sniff(head: bytes) -> str:
    """Return the compression of a blob from its first bytes: gzip, zstd, plain (tar), empty, or unknown.

    'unknown' covers anything that is not tar-like: bzip2 and xz are named so the message can say so.
    """
    if not head:
        return EMPTY
    if head[:2] == b"\x1f\x8b":
        return GZIP
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return ZSTD
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if len(head) >= 263 and head[257:262] == b"ustar":
        return PLAIN
    if len(head) >= 512 and not any(head[:512]):
        return PLAIN  # an empty tar: only end-of-archive blocks
    if len(head) >= 512 and _v7_header(head[:512]):
        return PLAIN
    return "unknown"


def _v7_header(hdr: bytes) -> bool:
    """A pre-POSIX tar header with a valid checksum."""
    from .tarindex import checksum_ok

    return checksum_ok(hdr)


class GzipReader:
    """Streaming gzip decompression over a raw file, with multi-member support (eStargz, pigz -i).

    ``read(n)`` returns up to n bytes (b"" at the end). Output per step is bounded, so a gzip bomb
    costs time, not memory. After the last member only zero bytes (padding) may follow.
    """

    def __init__(self, raw: BinaryIO, name: str = "blob", path: str | os.PathLike[str] | None = None) -> None:
        self._raw = raw
        self._name = name
        self._path = path
        self._d: Any = None  # the current member's decompressor; None between members
        self._in = b""  # compressed bytes read but not yet given to a decompressor
        self._pending = b""
        self._done = False
        self._members = 0

    def _error(self, what: str) -> CorruptArchive:
        return CorruptArchive(f"{self._name}: {what}", self._path)

    def _between_members(self) -> None:
        """Start the next member, or finish at the end (after zero padding only)."""
        while len(self._in) < 2:
            data = self._raw.read(1 << 20)
            if not data:
                break
            self._in += data
        if not self._in:
            self._done = True
        elif self._in[:2] == b"\x1f\x8b":
            self._d = zlib.decompressobj(31)
            self._members += 1
        elif self._members and not any(self._in):
            while True:
                data = self._raw.read(1 << 20)
                if not data:
                    break
                if any(data):
                    raise self._error("garbage after gzip data")
            self._in = b""
            self._done = True
        else:
            raise self._error("garbage after gzip data" if self._members else "not gzip data")

    def _step(self) -> bytes:
        if self._d is None:
            self._between_members()
            if self._done:
                return b""
        d = self._d
        if d.unconsumed_tail:
            data = d.unconsumed_tail
        elif self._in:
            data, self._in = self._in, b""
        else:
            data = self._raw.read(1 << 20)
            if not data:
                raise self._error("gzip stream is truncated")
        try:
            out: bytes = d.decompress(data, _MAX_OUT)
        except zlib.error as exc:
            raise self._error(f"corrupt gzip data ({exc})") from exc
        if d.eof:
            self._in = d.unused_data
            self._d = None
        return out

    def read(self, n: int = -1) -> bytes:
        parts = [self._pending] if self._pending else []
        have = len(self._pending)
        self._pending = b""
        while (n < 0 or have < n) and not self._done:
            out = self._step()
            if out:
                parts.append(out)
                have += len(out)
        data = b"".join(parts)
        if n >= 0 and len(data) > n:
            self._pending = data[n:]
            data = data[:n]
        return data


class ZstdReader:
    """Streaming zstd decompression (all frames; zstd:chunked skippable frames are skipped)."""

    def __init__(self, raw: BinaryIO, name: str = "blob", path: str | os.PathLike[str] | None = None) -> None:
        import zstandard

        self._name = name
        self._path = path
        self._r = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, read_size=1 << 20)
        self._err = zstandard.ZstdError

    def read(self, n: int = -1) -> bytes:
        try:
            if n < 0:
                parts = []
                while True:
                    b = self._r.read(_MAX_OUT)
                    if not b:
                        return b"".join(parts)
                    parts.append(b)
            out: bytes = self._r.read(min(n, _MAX_OUT))
            return out
        except self._err as exc:
            raise CorruptArchive(f"{self._name}: corrupt zstd data ({exc})", self._path) from exc


def decompressed_reader(
    raw: BinaryIO, compression: str, name: str = "blob", path: str | os.PathLike[str] | None = None
) -> Callable[[int], bytes]:
    """Return ``read(n)`` over the uncompressed bytes of a blob opened as ``raw``; its errors name
    ``name`` and the archive ``path``."""
    if compression == GZIP:
        return GzipReader(raw, name, path).read
    if compression == ZSTD:
        return ZstdReader(raw, name, path).read
    if compression in (PLAIN, EMPTY):
        return raw.read
    raise UnsupportedFormat(f"{name}: {compression} compression is not supported (only gzip and zstd)", path)


def sha256_stream(
    read: Callable[[int], bytes],
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[str, int]:
    """Return ("sha256:<hex>", byte count) of everything ``read`` yields."""
    from .errors import Cancelled

    h = hashlib.sha256()
    n = 0
    while True:
        b = read(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
        if progress is not None:
            progress(n)
        if cancelled is not None and cancelled():
            raise Cancelled()
    return "sha256:" + h.hexdigest(), n
