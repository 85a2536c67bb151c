"""Where a tar's bytes come from: a buffer (sliced, data skipped by arithmetic) or a stream.

A buffer is the ``mmap`` of an uncompressed layer or archive: headers are sliced out and member data
is skipped without reading it, which is what makes plain layers cheap. A stream is a decompressor:
its data is read and dropped. Positions are offsets in the uncompressed tar stream either way.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import CorruptArchive
from .header import BLOCK, HEADER, HeaderFields


class Source:
    """The bytes of one tar stream, read forward; ``pos`` is the offset of the next byte."""

    pos: int

    def header(self) -> HeaderFields | None:
        """The next header's fields, or None at the end of the stream. Raises CorruptArchive when the
        stream ends inside a header that is not all zeros."""
        raise NotImplementedError

    def raw(self, pos: int) -> bytes:
        """The 512 header bytes at ``pos`` (only the last header read). Raises ValueError otherwise."""
        raise NotImplementedError

    def is_zero(self, pos: int) -> bool:
        """True when the header at ``pos`` is all zeros (an end-of-archive block)."""
        return not any(self.raw(pos))

    def block(self) -> bytes:
        """The next 512 bytes (fewer at the end of the stream); advances."""
        raise NotImplementedError

    def read(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer at the end of the stream); advances."""
        raise NotImplementedError

    def skip(self, n: int) -> int:
        """Skip ``n`` bytes; return how many were really there. Raises ValueError when ``n < 0``."""
        raise NotImplementedError

    def drain(self, limit: int | None = None) -> tuple[int, bool]:
        """Skip to the end, or ``limit`` bytes at most; return (position, whether the end was reached)."""
        raise NotImplementedError

    def release_read(self) -> None:
        """Let go of what has been read so far (memory-mapped pages); a no-op for streams."""


class BufferSource(Source):
    """A memory buffer (bytes, or a memory map's view) region ``[start, end)``.

    ``release(a, b)`` is called now and then for the region already read, so that a memory-mapped
    source can drop pages it will not touch again (they would otherwise count as resident memory).
    """

    RELEASE_EVERY = 64 << 20

    def __init__(
        self,
        buf: bytes | memoryview,
        start: int = 0,
        end: int | None = None,
        release: Callable[[int, int], None] | None = None,
    ) -> None:
        self.buf = buf
        self.base = start
        self.end = len(buf) if end is None else end
        self.pos = 0
        self._release = release
        self._released = 0

    def _maybe_release(self) -> None:
        if self._release is not None and self.pos - self._released >= self.RELEASE_EVERY:
            self._release(self.base + self._released, self.base + self.pos)
            self._released = self.pos

    def block(self) -> bytes:
        a = self.base + self.pos
        b = a + BLOCK
        if b > self.end:
            b = max(a, self.end)
        self.pos += b - a
        return bytes(self.buf[a:b])

    def header(self) -> HeaderFields | None:
        a = self.base + self.pos
        if a + BLOCK > self.end:
            rest = self.buf[a : self.end]
            if any(rest):
                raise CorruptArchive(f"truncated tar header at byte {self.pos}")
            self.pos = self.end - self.base
            return None
        self.pos += BLOCK
        return HEADER.unpack_from(self.buf, a)

    def raw(self, pos: int) -> bytes:
        a = self.base + pos
        return bytes(self.buf[a : a + BLOCK])

    def read(self, n: int) -> bytes:
        a = self.base + self.pos
        b = min(a + n, self.end)
        self.pos += b - a
        return bytes(self.buf[a:b])

    def skip(self, n: int) -> int:
        if n < 0:
            raise ValueError("cannot skip backwards")
        a = self.base + self.pos
        b = a + n
        if b > self.end:
            b = max(a, self.end)
        self.pos += b - a
        if self._release is not None and self.pos - self._released >= self.RELEASE_EVERY:
            self._maybe_release()
        return b - a

    def release_read(self) -> None:
        self._maybe_release()

    def drain(self, limit: int | None = None) -> tuple[int, bool]:
        self.pos = self.end - self.base
        if self._release is not None:
            self._release(self.base + self._released, self.end)
        return self.pos, True


class StreamSource(Source):
    """A file-like object with ``read(n)`` (e.g. a decompressor), read in large chunks."""

    CHUNK = 1 << 20

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._buf = b""
        self._i = 0
        self.pos = 0
        self._eof = False
        self._last: tuple[int, bytes] = (-1, b"")

    def _fill(self, need: int) -> None:
        if len(self._buf) - self._i >= need or self._eof:
            return
        parts = [self._buf[self._i :]]
        have = len(parts[0])
        while have < need:
            chunk = self._read(max(self.CHUNK, need - have))
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)
        self._i = 0

    def block(self) -> bytes:
        return self.read(BLOCK)

    def header(self) -> HeaderFields | None:
        b = self.read(BLOCK)
        if len(b) < BLOCK:
            if any(b):
                raise CorruptArchive(f"truncated tar header at byte {self.pos - len(b)}")
            return None
        self._last = (self.pos - BLOCK, b)
        return HEADER.unpack_from(b)

    def raw(self, pos: int) -> bytes:
        last_pos, b = self._last
        if last_pos != pos:
            raise ValueError("only the last header is kept")
        return b

    def read(self, n: int) -> bytes:
        self._fill(n)
        out = self._buf[self._i : self._i + n]
        self._i += len(out)
        self.pos += len(out)
        return out

    def skip(self, n: int) -> int:
        if n < 0:
            raise ValueError("cannot skip backwards")
        avail = len(self._buf) - self._i
        if n <= avail:
            self._i += n
            self.pos += n
            return n
        done = avail
        self._buf = b""
        self._i = 0
        while done < n:
            chunk = self._read(min(self.CHUNK * 4, max(self.CHUNK, n - done)))
            if not chunk:
                self._eof = True
                break
            if done + len(chunk) > n:
                self._buf = chunk
                self._i = n - done
                done = n
                break
            done += len(chunk)
        self.pos += done
        return done

    def drain(self, limit: int | None = None) -> tuple[int, bool]:
        left = len(self._buf) - self._i
        self.pos += left
        self._buf = b""
        self._i = 0
        if self._eof:
            return self.pos, True
        budget = None if limit is None else limit - left
        while budget is None or budget > 0:
            chunk = self._read(self.CHUNK * 4 if budget is None else min(self.CHUNK * 4, max(budget, 1)))
            if not chunk:
                self._eof = True
                return self.pos, True
            self.pos += len(chunk)
            if budget is not None:
                budget -= len(chunk)
        if not self._read(1):
            self._eof = True
            return self.pos, True
        self.pos += 1
        return self.pos, False
