"""The cache folder: files read only when they are ours, written atomically, evicted least recently used.

A file is used only when it is a regular file owned by the current user and writable by no one else;
reading one marks it used (its mtime). Writes go to a temporary file in the same folder, then
``os.replace``, so a reader sees a whole file or none. A folder that cannot be made or written turns
the cache off for the process, with one warning.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .fileformat import HEADER, CacheKind, key_digest, seal, unseal
from .settings import warn

SUFFIX = ".lsc"
TEMP_PREFIX = ".tmp-"
TEMP_AGE = 600
"""Seconds after which a temporary file is a leftover of a process that died, not a write under way."""
MAX_FILE = 1 << 32
"""No cache file is read past this size."""


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What ``layerscope cache info`` shows."""

    folder: Path
    entries: int
    total_bytes: int
    limit: int
    oldest_use: float | None
    newest_use: float | None


class CacheFolder:
    """One cache folder with a size limit. Never raises OSError: a failing folder is a missing cache."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.usable = True
        self._checked = False

    def _fail(self, what: str, exc: OSError | None = None) -> None:
        if self.usable:
            detail = f" ({exc.strerror or exc})" if exc is not None else ""
            warn(
                "layerscope: cannot use the cache folder %s: %s%s; working without it",
                self.path,
                what,
                detail,
            )
        self.usable = False

    def _ready(self) -> bool:
        """Make the folder (mode 0700) once; it must be ours and writable by no one else."""
        if self._checked:
            return self.usable
        self._checked = True
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = os.stat(self.path)
        except OSError as exc:
            self._fail("it cannot be created", exc)
            return False
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            self._fail("it belongs to another user or others may write to it")
        elif not os.access(self.path, os.W_OK | os.X_OK):
            self._fail("it is not writable")
        return self.usable

    def file(self, kind: CacheKind, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.path / f"{kind.prefix}-{key_digest(key).hex()}{SUFFIX}"

    def read(self, kind: CacheKind, key: str, code: bytes) -> memoryview | None:
        """The payload stored for ``key``, or None when absent, not ours, or invalid in any way."""
        whole = self.read_file(kind, key, code)
        return None if whole is None else memoryview(whole)[HEADER.size :]

    def read_file(self, kind: CacheKind, key: str, code: bytes) -> bytes | None:
        """The whole file stored for ``key`` (its payload from ``HEADER.size`` on), checked as ``read``
        checks it, or None."""
        if not self._ready():
            return None
        p = self.file(kind, key)
        data = _read_own(p)
        if data is None:
            return None
        try:
            unseal(data, kind, code, key)
        except Exception:
            return None
        try:
            os.utime(p)  # used now: the last to be evicted
        except OSError:
            pass
        return data

    def write(self, kind: CacheKind, key: str, code: bytes, payload: bytes) -> bool:
        """Store ``payload`` for ``key`` (atomically), then evict past the limit. False when not written."""
        if not self._ready():
            return False
        data = seal(kind, code, key, payload)
        if len(data) > self.limit:
            return False
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=SUFFIX, dir=self.path)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.file(kind, key))
            tmp = None
        except OSError as exc:
            self._fail("a file cannot be written", exc)
            return False
        finally:
            if tmp is not None:
                _unlink(Path(tmp))
        self.evict()
        return True

    def _scan(self) -> list[tuple[float, int, Path]]:
        """(last use, size, path) of every entry; leftover temporary files are removed on the way."""
        out: list[tuple[float, int, Path]] = []
        now = time.time()
        try:
            it = list(os.scandir(self.path))
        except OSError:
            return out
        for e in it:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if e.name.startswith(TEMP_PREFIX):
                if now - st.st_mtime > TEMP_AGE:
                    _unlink(Path(e.path))
            elif e.name.endswith(SUFFIX) and stat.S_ISREG(st.st_mode):
                out.append((st.st_mtime, st.st_size, Path(e.path)))
        return out

    def evict(self, limit: int | None = None) -> None:
        """Remove the least recently used entries until the total is at most ``limit`` (default: ours)."""
        limit = self.limit if limit is None else limit
        entries = self._scan()
        total = sum(s for _t, s, _p in entries)
        for _t, size, p in sorted(entries):
            if total <= limit:
                break
            if _unlink(p):
                total -= size

    def info(self) -> CacheInfo:
        """The folder, its entries, their total size, the limit, the oldest and newest use."""
        entries = self._scan() if self.path.is_dir() else []
        uses = [t for t, _s, _p in entries]
        return CacheInfo(
            self.path,
            len(entries),
            sum(s for _t, s, _p in entries),
            self.limit,
            min(uses) if uses else None,
            max(uses) if uses else None,
        )

    def clear(self) -> int:
        """Remove every entry and temporary file; returns how many entries were removed."""
        n = 0
        if not self.path.is_dir():
            return 0
        for _t, _s, p in self._scan():
            n += _unlink(p)
        try:
            for e in os.scandir(self.path):
                if e.name.startswith(TEMP_PREFIX):
                    _unlink(Path(e.path))
        except OSError:
            pass
        return n


def _read_own(p: Path) -> bytes | None:
    """The bytes of ``p`` when it is a regular file of ours that no one else may write; else None."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None
        if not HEADER.size <= st.st_size <= MAX_FILE:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(st.st_size + 1)
        return data if len(data) == st.st_size else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _unlink(p: Path) -> bool:
    try:
        p.unlink()
    except OSError:
        return False
    return True
