"""Where blobs live: a (possibly decompressed) tar file, or a folder.

A container answers "is there a member called X" and "give me its bytes", following symlinks and
hardlinks inside the archive (podman's ``<v1id>/layer.tar -> ../<digest>.tar``), and never reading
outside the archive or the folder.
"""

from __future__ import annotations

import io
import mmap
import os
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..errors import CorruptArchive, MissingBlob, NotAnImage, UnsupportedFormat
from ..kinds import EntryType
from ..progress import BytesProgress, CancelCheck
from ..tar.index import read_entries
from ..tar.source import BufferSource

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_EMPTY = b""


class ByteStream(Protocol):
    """A file object read front to back: ``read(n)`` gives up to n bytes, b"" at the end."""

    def read(self, n: int = -1, /) -> bytes: ...


class Member(NamedTuple):
    """One member of a tar container: where its bytes are, or what it links to."""

    name: str
    type: str  # an EntryType word, or a reason the member cannot be read
    offset: int
    size: int
    link: str | None


class Blob:
    """One member's bytes: random access through a buffer, or sequential through a file object."""

    def __init__(
        self,
        container: Container,
        name: str,
        buf: memoryview | bytes,
        size: int,
        mm: mmap.mmap | None = None,
        base: int = 0,
    ) -> None:
        self.container = container
        self.name = name
        self.buf = buf
        self.size = size
        self._mm = mm
        self._base = base

    def release(self, start: int, end: int) -> None:
        """Drop the mapped pages of ``[start, end)`` from this process (they stay in the page cache)."""
        if self._mm is None:
            return
        a = (self._base + start) // mmap.PAGESIZE * mmap.PAGESIZE
        length = (self._base + end - a) // mmap.PAGESIZE * mmap.PAGESIZE
        if length > 0:
            try:
                self._mm.madvise(mmap.MADV_DONTNEED, a, length)
            except (OSError, ValueError):
                pass

    def head(self, n: int = 512) -> bytes:
        """The first ``n`` bytes (enough to sniff the compression)."""
        return bytes(self.buf[:n])

    def open(self) -> ByteStream:
        """A file object over the blob's stored bytes (no copy for mmap-backed blobs).

        Pages it has read are dropped from the process as it goes, so streaming a large blob does
        not grow resident memory."""
        if isinstance(self.buf, bytes):
            return io.BytesIO(self.buf)
        return _MemReader(self.buf, self.release if self._mm is not None else None)

    def read_all(self, limit: int = 64 << 20) -> bytes:
        """All the bytes, for small documents. Raises CorruptArchive past ``limit``."""
        if self.size > limit:
            raise CorruptArchive(
                f"{self.name} is {self.size} bytes; too large for a JSON document", self.container.path
            )
        return bytes(self.buf)


class _MemReader(io.RawIOBase):
    """A read-only file object over a memoryview, without copying the whole view."""

    RELEASE_EVERY = 32 << 20

    def __init__(self, mv: memoryview, release: Callable[[int, int], None] | None = None) -> None:
        self._mv = mv
        self._pos = 0
        self._release = release
        self._released = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int | None = -1, /) -> bytes:
        end = len(self._mv) if n is None or n < 0 else min(len(self._mv), self._pos + n)
        out = bytes(self._mv[self._pos : end])
        self._pos = end
        if self._release is not None and end - self._released >= self.RELEASE_EVERY:
            self._release(self._released, end)
            self._released = end
        return out

    def readinto(self, b: WriteableBuffer, /) -> int:
        view = memoryview(b).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._mv)}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _map(path: Path) -> tuple[mmap.mmap | None, memoryview | bytes]:
    """Memory-map a file read-only (empty files map to b"")."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return None, _EMPTY
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return mm, memoryview(mm)


class Container:
    """The files of an archive by name: a tar's members, or a folder's files."""

    path: Path
    kind: str  # "tar" or "dir"
    warnings: list[str]

    def exists(self, name: str) -> bool:
        """Whether ``name`` is a readable file (after following links inside the archive)."""
        raise NotImplementedError

    def blob(self, name: str) -> Blob:
        """The bytes of ``name``. Raises MissingBlob when there is no such file."""
        raise NotImplementedError

    def names(self) -> list[str]:
        """Every file name (for messages about what the archive holds instead of an image)."""
        raise NotImplementedError

    def symlinked(self) -> list[str]:
        """The names that are symlinks."""
        return []

    def close(self) -> None:
        """Release the mapped file."""


class TarContainer(Container):
    """An uncompressed tar file, memory-mapped; members are located by our own header reader."""

    kind = "tar"

    def __init__(
        self,
        path: Path,
        display: Path | None = None,
        progress: BytesProgress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> None:
        self.path = display or path
        self._mm, self._buf = _map(path)
        whole = Blob(self, "", self._buf, len(self._buf), self._mm, 0)
        try:
            res = read_entries(
                BufferSource(self._buf, release=whole.release),
                overlay=False,
                progress=progress,
                cancelled=cancelled,
                label=str(self.path),
            )
        except CorruptArchive as exc:
            raise NotAnImage(
                f"not a readable tar archive ({exc.message.split(': ', 1)[-1]})", self.path
            ) from exc
        except UnsupportedFormat as exc:  # past the index limits
            raise UnsupportedFormat(exc.message.split(": ", 1)[-1], self.path) from exc
        self.warnings = res.warnings
        self.members: dict[str, Member] = {}
        for e in res.entries:
            if e.sparse is not None:
                # a sparse member's stored bytes are not its content; no image tool writes one
                self.members[e.path] = Member(e.path, "sparse file (not supported here)", e.offset, 0, None)
                continue
            self.members[e.path] = Member(e.path, e.type, e.offset, e.size, e.link)

    def names(self) -> list[str]:
        return list(self.members)

    def symlinked(self) -> list[str]:
        return [m.name for m in self.members.values() if m.type == EntryType.SYMLINK]

    def _resolve(self, name: str) -> Member:
        name = posixpath.normpath(name.lstrip("/")) if name else name
        seen = 0
        while True:
            m = self.members.get(name)
            if m is None:
                raise MissingBlob(f"the archive has no member {name[:200]!r}", self.path)
            if m.type == EntryType.SYMLINK and m.link is not None:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.link))
                if target.startswith("../") or target == ".." or m.link.startswith("/"):
                    raise MissingBlob(
                        f"member {name[:200]!r} links outside the archive ({m.link[:200]!r})", self.path
                    )
                name = target
            elif m.type == EntryType.HARDLINK and m.link is not None:
                name = m.link
            else:
                return m
            seen += 1
            if seen > 40:
                raise MissingBlob(f"member {name[:200]!r} is a link loop", self.path)

    def exists(self, name: str) -> bool:
        try:
            self._resolve(name)
        except MissingBlob:
            return False
        return True

    def blob(self, name: str) -> Blob:
        m = self._resolve(name)
        if m.type != EntryType.FILE:
            raise MissingBlob(f"member {name[:200]!r} is a {m.type}, not a file", self.path)
        buf = self._buf[m.offset : m.offset + m.size] if m.size else _EMPTY
        return Blob(self, name, buf, m.size, self._mm, m.offset)


class DirContainer(Container):
    """A folder (an OCI layout, or an unpacked ``docker save``). Nothing outside it is read."""

    kind = "dir"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings = []
        self._root = path.resolve()

    def _file(self, name: str) -> Path:
        rel = posixpath.normpath(name.lstrip("/"))
        if rel.startswith("../") or rel == "..":
            raise MissingBlob(f"{name[:200]!r} points outside the folder", self.path)
        if "\x00" in rel:
            raise MissingBlob(f"{name[:200]!r} is not a valid file name", self.path)
        try:
            p = (self._root / rel).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            raise MissingBlob(f"cannot follow {name[:200]!r} in the folder", self.path) from exc
        if p != self._root and self._root not in p.parents:
            raise MissingBlob(f"{name[:200]!r} points outside the folder", self.path)
        return p

    def _is_file(self, name: str) -> Path | None:
        p = self._file(name)
        try:
            return p if p.is_file() else None
        except OSError:  # a name too long, a permission problem
            return None

    def exists(self, name: str) -> bool:
        try:
            return self._is_file(name) is not None
        except MissingBlob:
            return False

    def names(self) -> list[str]:
        out = []
        for dirpath, _dirs, files in os.walk(self._root):
            for f in files:
                out.append(os.path.relpath(os.path.join(dirpath, f), self._root).replace(os.sep, "/"))
            if len(out) > 1_000_000:
                break
        return out

    def blob(self, name: str) -> Blob:
        p = self._is_file(name)
        if p is None:
            raise MissingBlob(f"the folder has no file {name[:200]!r}", self.path)
        try:
            mm, buf = _map(p)
        except OSError as exc:
            raise MissingBlob(f"cannot read {name!r}: {exc.strerror}", self.path) from exc
        return Blob(self, name, buf, len(buf), mm, 0)
