"""Where downloaded blobs are kept, and the container that serves them to the OCI layout reader.

Blobs live in the persistent cache folder (``core/cache``) as ``blob-<alg>-<hex>.lsc`` beside the
layer indexes and figure sets, so they count toward the same size limit (``LAYERSCOPE_CACHE_MAX``)
and are evicted least recently used with them; a second open of the same image downloads nothing.
They are named by their digest and written there only after their bytes were verified against it
(a download in progress is ``blob-<alg>-<hex>.partial.lsc``, kept after an interruption so that the
next attempt resumes it with a Range request). With the cache off (``--no-cache``, a limit of 0, an
unusable folder) blobs go to a private temporary folder removed when the archive is closed.

Every blob is memory-mapped as soon as it is complete, so eviction (by this or another process)
never pulls one from under an open image: the mapping outlives the name.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...archive.container import Blob, Container
from ...cache.folder import SUFFIX, TEMP_PREFIX, CacheFolder
from ...cache.store import default_store
from ...digest import split_digest
from ...errors import MissingBlob

BLOB_PREFIX = "blob-"
PARTIAL = ".partial"


@dataclass(slots=True)
class BlobFile:
    """A complete, verified blob: its mapping (None when empty) and size."""

    digest: str
    size: int
    mm: mmap.mmap | None

    def data(self) -> bytes:
        """All the bytes (for small documents)."""
        return bytes(self.mm) if self.mm is not None else b""


@dataclass(slots=True)
class Partial:
    """A download under way: the open file, its name, and the bytes it already holds."""

    digest: str
    fd: int
    path: Path
    have: int
    shared: bool
    """True for the cache's ``.partial`` file (kept for a resume), False for a private one."""


def _own(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _usable_folder(path: Path) -> bool:
    """Whether ``path`` can hold blobs: made (0700) if needed, ours, writable by no one else."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022 and os.access(path, os.W_OK | os.X_OK)


class BlobStore:
    """Blobs by digest in one folder: the persistent cache's, or a private temporary one."""

    def __init__(self, folder: Path, cache: CacheFolder | None) -> None:
        self.folder = folder
        self.cache = cache

    @classmethod
    def open(cls) -> BlobStore:
        """The cache's folder when the cache is on and usable, else a new private temporary folder."""
        store = default_store()
        if store is not None and _usable_folder(store.folder.path):
            return cls(store.folder.path, store.folder)
        return cls(Path(tempfile.mkdtemp(prefix="layerscope-registry-")), None)

    @property
    def persistent(self) -> bool:
        return self.cache is not None

    def _name(self, digest: str, partial: bool = False) -> Path:
        parts = split_digest(digest)
        assert parts is not None
        return self.folder / f"{BLOB_PREFIX}{parts[0]}-{parts[1]}{PARTIAL if partial else ''}{SUFFIX}"

    def lookup(self, digest: str, size: int | None, limit: int | None = None) -> BlobFile | None:
        """The blob when it is stored (a file of ours of the expected size, or of at most ``limit``
        bytes when the size is not known), marked used; else None."""
        p = self._name(digest)
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not _own(st) or st.st_size != (st.st_size if size is None else size):
                return None
            if limit is not None and st.st_size > limit:
                return None
            n = st.st_size
            blob = BlobFile(digest, n, mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if n else None)
            with contextlib.suppress(OSError):
                os.utime(fd)
            return blob
        except OSError:
            return None
        finally:
            os.close(fd)

    def begin(self, digest: str) -> Partial:
        """A file to download ``digest`` into: the cache's partial file (with the bytes an earlier,
        interrupted download left), or a private one when another process is writing that."""
        p = self._name(digest, partial=True)
        try:
            fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                st = os.fstat(fd)
                if _own(st):
                    return Partial(digest, fd, p, st.st_size, True)
            except OSError:
                pass
            os.close(fd)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX + BLOB_PREFIX, suffix=SUFFIX, dir=self.folder)
        return Partial(digest, fd, Path(name), 0, False)

    def restart(self, part: Partial) -> None:
        """Throw away what ``part`` holds and start it from nothing."""
        os.ftruncate(part.fd, 0)
        os.lseek(part.fd, 0, os.SEEK_SET)
        part.have = 0

    def commit(self, part: Partial, size: int) -> BlobFile:
        """``part`` is complete and verified: name it by its digest, map it, evict past the limit."""
        try:
            mm = mmap.mmap(part.fd, 0, access=mmap.ACCESS_READ) if size else None
        except OSError:
            self.discard(part)
            raise
        try:
            os.chmod(part.path, 0o600)
            os.replace(part.path, self._name(part.digest))
        except OSError:  # evicted while it was written, or the folder failed: the mapping still holds it
            with contextlib.suppress(OSError):
                part.path.unlink()
        finally:
            os.close(part.fd)
        if self.cache is not None:
            self.cache.evict()
        return BlobFile(part.digest, size, mm)

    def put(self, digest: str, data: bytes) -> None:
        """Keep ``data``, already verified as ``digest`` (a manifest), when the store is persistent."""
        if not self.persistent or self.lookup(digest, len(data)) is not None:
            return
        try:
            part = self.begin(digest)
        except OSError:
            return
        try:
            self.restart(part)
            view = memoryview(data)
            while view:
                view = view[os.write(part.fd, view) :]
        except OSError:
            self.discard(part)
            return
        with contextlib.suppress(OSError):
            self.commit(part, len(data))

    def keep_for_resume(self, part: Partial) -> None:
        """The download was interrupted: keep the cache's partial file (if it holds any bytes)."""
        try:
            empty = os.fstat(part.fd).st_size == 0
        except OSError:
            empty = True
        os.close(part.fd)
        if empty or not part.shared or not self.persistent:
            with contextlib.suppress(OSError):
                part.path.unlink()

    def discard(self, part: Partial) -> None:
        """The download failed for good (its bytes are wrong): nothing of it is kept."""
        with contextlib.suppress(OSError):
            part.path.unlink()
        os.close(part.fd)

    def close(self) -> None:
        """Remove the private temporary folder (the persistent cache stays)."""
        if not self.persistent:
            shutil.rmtree(self.folder, ignore_errors=True)


class RegistryContainer(Container):
    """The blobs of one image pulled from a registry, laid out as an OCI image layout for the reader:
    ``index.json`` and ``oci-layout`` made in memory, ``blobs/<alg>/<hex>`` from the store."""

    kind = "registry"

    def __init__(self, store: BlobStore, docs: dict[str, bytes], blobs: dict[str, BlobFile]) -> None:
        self.path = store.folder
        self.warnings = []
        self._store = store
        self._docs = docs
        self._blobs = blobs

    def exists(self, name: str) -> bool:
        return name in self._docs or name in self._blobs

    def names(self) -> list[str]:
        return [*self._docs, *self._blobs]

    def blob(self, name: str) -> Blob:
        doc = self._docs.get(name)
        if doc is not None:
            return Blob(self, name, doc, len(doc))
        b = self._blobs.get(name)
        if b is None:
            raise MissingBlob(f"the image pulled has no blob {name[:200]!r}", self.path)
        if b.mm is None:
            return Blob(self, name, b"", 0)
        return Blob(self, name, memoryview(b.mm), b.size, b.mm, 0)

    def close(self) -> None:
        self._store.close()
