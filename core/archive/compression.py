"""Compression of blobs and of whole archives: sniffed from the first bytes, decompressed as a stream.

Compression is decided by content, never by a media type or a file name alone. A whole archive
that is gzip- or zstd-compressed is decompressed once to an unlinked temporary file, since a tar
must be seekable to be read lazily.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO, cast

from .. import limits
from ..errors import CorruptArchive, LayerScopeError, NotAnImage, UnsupportedFormat
from ..kinds import Compression
from ..progress import CancelCheck, StageProgress, check_cancelled
from ..tar.header import checksum_ok
from ..tar.index import read_entries
from ..tar.source import StreamSource
from .container import ByteStream, TarContainer

Read = Callable[[int], bytes]
"""``read(n)``: up to n bytes of a stream, b"" at its end."""

_CHUNK = 1 << 20


def sniff(head: bytes) -> Compression:
    """The compression of a blob from its first bytes (512 are enough to tell a tar).

    UNKNOWN covers anything that is not tar-like; BZIP2 and XZ are named so a message can say so.
    """
    if not head:
        return Compression.EMPTY
    if head[:2] == b"\x1f\x8b":
        return Compression.GZIP
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return Compression.ZSTD
    if head[:3] == b"BZh":
        return Compression.BZIP2
    if head[:6] == b"\xfd7zXZ\x00":
        return Compression.XZ
    if len(head) >= 263 and head[257:262] == b"ustar":
        return Compression.NONE
    if len(head) >= 512 and (not any(head[:512]) or checksum_ok(head[:512])):
        return Compression.NONE  # an empty tar (only end-of-archive blocks), or a pre-POSIX header
    return Compression.UNKNOWN


class GzipReader:
    """Streaming gzip decompression over a raw file, with multi-member support (eStargz, pigz -i).

    ``read(n)`` returns up to n bytes (b"" at the end). Output per step is bounded, so a gzip bomb
    costs time, not memory. After the last member only zero bytes (padding) may follow.
    """

    def __init__(
        self, raw: ByteStream, name: str = "blob", path: str | os.PathLike[str] | None = None
    ) -> None:
        self._raw = raw
        self._name = name
        self._path = path
        self._d: zlib._Decompress | None = None  # the current member's; None between members
        self._in = b""  # compressed bytes read but not yet given to a decompressor
        self._pending = b""
        self._done = False
        self._members = 0

    def _error(self, what: str) -> CorruptArchive:
        return CorruptArchive(f"{self._name}: {what}", self._path)

    def _between_members(self) -> None:
        """Start the next member, or finish at the end (after zero padding only)."""
        while len(self._in) < 2:
            data = self._raw.read(_CHUNK)
            if not data:
                break
            self._in += data
        if not self._in:
            self._done = True
        elif self._in[:2] == b"\x1f\x8b":
            self._d = zlib.decompressobj(31)
            self._members += 1
        elif self._members and not any(self._in):
            self._skip_padding()
        else:
            raise self._error("garbage after gzip data" if self._members else "not gzip data")

    def _skip_padding(self) -> None:
        while data := self._raw.read(_CHUNK):
            if any(data):
                raise self._error("garbage after gzip data")
        self._in = b""
        self._done = True

    def _step(self) -> bytes:
        if self._d is None:
            self._between_members()
            if self._d is None:
                return b""
        d = self._d
        if d.unconsumed_tail:
            data = d.unconsumed_tail
        elif self._in:
            data, self._in = self._in, b""
        else:
            data = self._raw.read(_CHUNK)
            if not data:
                raise self._error("gzip stream is truncated")
        try:
            out = d.decompress(data, limits.MAX_DECOMPRESS_STEP)
        except zlib.error as exc:
            raise self._error(f"corrupt gzip data ({exc})") from exc
        if d.eof:
            self._in = d.unused_data
            self._d = None
        return out

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` decompressed bytes (all of them when n < 0). Raises CorruptArchive."""
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

    def __init__(
        self, raw: ByteStream, name: str = "blob", path: str | os.PathLike[str] | None = None
    ) -> None:
        import zstandard

        self._name = name
        self._path = path
        # zstandard only calls read(); its stubs ask for a whole file object
        self._r = zstandard.ZstdDecompressor().stream_reader(
            cast("IO[bytes]", raw), read_across_frames=True, read_size=_CHUNK
        )
        self._err = zstandard.ZstdError

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` decompressed bytes (all of them when n < 0). Raises CorruptArchive."""
        step = limits.MAX_DECOMPRESS_STEP
        try:
            if n >= 0:
                return self._r.read(min(n, step))
            parts: list[bytes] = []
            while b := self._r.read(step):
                parts.append(b)
            return b"".join(parts)
        except self._err as exc:
            raise CorruptArchive(f"{self._name}: corrupt zstd data ({exc})", self._path) from exc


def decompressed_reader(
    raw: ByteStream, compression: Compression, name: str = "blob", path: str | os.PathLike[str] | None = None
) -> Read:
    """``read(n)`` over the uncompressed bytes of a blob opened as ``raw``.

    Errors name ``name`` and the archive ``path``. Raises UnsupportedFormat for other than gzip/zstd.
    """
    if compression is Compression.GZIP:
        return GzipReader(raw, name, path).read
    if compression is Compression.ZSTD:
        return ZstdReader(raw, name, path).read
    if compression.is_plain:
        return raw.read
    raise UnsupportedFormat(f"{name}: {compression} compression is not supported (only gzip and zstd)", path)


# ---- a compressed whole archive ----------------------------------------------------------------
def decompress_archive(
    p: Path, kind: Compression, progress: StageProgress | None, cancelled: CancelCheck | None
) -> TarContainer:
    """A compressed whole archive is not seekable: decompress it once to an unlinked temp file.

    The tar headers are followed while decompressing, so decompression stops shortly after the
    tar's end-of-archive marker (AFTER_END bytes at most): a gzip of zeros claiming gigabytes, or
    junk appended to a real archive, is neither decompressed nor written to disk.
    Raises NotAnImage, CorruptArchive, LayerScopeError (no space for the temp file), Cancelled.
    """
    fd, tmp = tempfile.mkstemp(prefix="layerscope-", suffix=".tar")
    try:
        with open(p, "rb") as raw, os.fdopen(fd, "wb") as out:
            read = _tee(raw, out, kind, p, progress, cancelled)
            head = _read_head(read)
            if sniff(head) is not Compression.NONE:
                raise NotAnImage(f"the {kind} data inside is not a tar archive", p)
            tar_warnings = _follow_tar(StreamSource(_prepend(head, read)), p, cancelled)
        container = TarContainer(Path(tmp), display=p, cancelled=cancelled)
        # decompression stopped AFTER_END bytes past the end marker: say so
        container.warnings = [w for w in tar_warnings if "follow the tar's end-of-archive" in w] + (
            container.warnings
        )
        return container
    except CorruptArchive as exc:
        raise CorruptArchive(exc.message.split(": ", 1)[-1], p) from exc
    finally:
        try:
            os.unlink(tmp)  # the mmap keeps the data; the name is gone
        except OSError:
            pass


def _tee(
    raw: BinaryIO,
    out: BinaryIO,
    kind: Compression,
    p: Path,
    progress: StageProgress | None,
    cancelled: CancelCheck | None,
) -> Read:
    """``read(n)`` of the decompressed archive that also writes what it reads to ``out``."""
    total = os.path.getsize(p)
    read = decompressed_reader(raw, kind, f"{kind} data", p)

    def tee(n: int) -> bytes:
        b = read(n)
        if not b:
            return b
        try:
            out.write(b)
        except OSError as exc:
            raise LayerScopeError(
                f"cannot decompress to a temporary file ({exc.strerror}); free space in "
                f"{tempfile.gettempdir()} or set TMPDIR",
                p,
            ) from exc
        if progress is not None:
            progress(f"decompressing {kind} archive", raw.tell(), total)
        check_cancelled(cancelled)
        return b

    return tee


def _read_head(read: Read) -> bytes:
    head = b""
    while len(head) < 512:
        b = read(512 - len(head))
        if not b:
            break
        head += b
    return head


def _follow_tar(src: StreamSource, p: Path, cancelled: CancelCheck | None) -> list[str]:
    """Read the tar headers to its end (which drives the decompression); returns the tar's warnings."""
    try:
        return read_entries(src, overlay=False, cancelled=cancelled, label=str(p)).warnings
    except CorruptArchive as exc:
        if isinstance(exc.path, str):
            raise  # the compressed stream itself is damaged
        raise NotAnImage(f"not a readable tar archive ({exc.message.split(': ', 1)[-1]})", p) from exc


def _prepend(head: bytes, read: Read) -> Read:
    """``read`` with ``head`` given back first."""
    pending = [head]

    def again(n: int) -> bytes:
        if pending:
            return pending.pop()
        return read(n)

    return again
