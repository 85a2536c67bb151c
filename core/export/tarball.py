"""The tar sink: writes an export plan as a PAX tar, optionally gzip-compressed.

Members come in the plan's order; a sparse file is written out whole (its holes as zeros, up to
``SPARSE_TAR_HOLES`` of them), hardlinks name the export-relative path of their target.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ..archive.records import Archive
from ..entry import Entry
from ..kinds import EntryType
from ..limits import SPARSE_TAR_HOLES
from ..progress import CancelCheck, CountProgress, check_cancelled
from ..tar.sparse import content
from .plan import ExportPlan, Planned
from .result import ExportResult

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
"""Destination names written as a tar; every other name is a folder."""
GZIP_SUFFIXES = (".tar.gz", ".tgz")
"""Destination names written as a gzip-compressed tar."""

_TYPES = {
    EntryType.DIR: tarfile.DIRTYPE,
    EntryType.SYMLINK: tarfile.SYMTYPE,
    EntryType.HARDLINK: tarfile.LNKTYPE,
    EntryType.CHAR: tarfile.CHRTYPE,
    EntryType.BLOCK: tarfile.BLKTYPE,
    EntryType.FIFO: tarfile.FIFOTYPE,
}
_USTAR_DEVICE = 8**7  # a ustar device field holds 7 octal digits and PAX has no record for them


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (what tarfile.addfile reads from)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            c = next(self._it, None)
            if c is None:
                break
            self._buf += c
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _tarinfo(path: str, e: Entry | None) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(path)
    if e is None:
        ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
        return ti
    ti.mode, ti.uid, ti.gid, ti.mtime = e.mode, e.uid, e.gid, e.mtime
    ti.uname, ti.gname = e.owner_names
    ti.type = _TYPES.get(e.type, tarfile.REGTYPE)
    if e.type in (EntryType.SYMLINK, EntryType.HARDLINK):
        ti.linkname = e.link or ""
    if e.type.is_device:
        major, minor = e.device
        ti.devmajor = major if 0 <= major < _USTAR_DEVICE else 0
        ti.devminor = minor if 0 <= minor < _USTAR_DEVICE else 0
    if e.xattrs:
        ti.pax_headers = {
            f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in e.xattrs.items()
        }
    return ti


class _TarWriter:
    def __init__(
        self,
        tf: tarfile.TarFile,
        plan: ExportPlan,
        result: ExportResult,
        progress: CountProgress | None,
        cancelled: CancelCheck | None,
    ) -> None:
        self.tf = tf
        self.plan = plan
        self.result = result
        self.progress = progress
        self.cancelled = cancelled
        self.total = plan.file_bytes or 1
        self.done = 0

    def dirs(self) -> None:
        for d in self.plan.dirs:
            self.tf.addfile(_tarinfo(d.path, d.entry))
            self.result.dirs += 1

    def files(self, archive: Archive) -> None:
        for f, chunks in self.plan.contents(archive):
            check_cancelled(self.cancelled)
            self.file(f, chunks)

    def file(self, f: Planned, chunks: Iterator[bytes]) -> None:
        e = f.entry
        assert e is not None
        smap = e.sparse  # its map was checked by the plan
        if smap is not None:
            holes = e.size - sum(ln for _off, ln in smap)
            if holes > SPARSE_TAR_HOLES:
                self.result.skipped.append(
                    f"/{f.path}: sparse file of {e.size} bytes, {holes} of them holes: too large "
                    "to write out in a tar (export to a folder keeps the holes)"
                )
                return
            chunks = content(chunks, smap, e.size)
        ti = _tarinfo(f.path, e)
        ti.type, ti.size = tarfile.REGTYPE, e.size
        self.tf.addfile(ti, _ChunkReader(self.counted(chunks)))
        self.result.files += 1
        self.result.bytes += e.size

    def counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for c in chunks:
            self.done += len(c)
            if self.progress is not None:
                self.progress(self.done, self.total)
            yield c

    def links_and_others(self) -> None:
        for h in self.plan.hardlinks:
            ti = _tarinfo(h.path, h.entry)
            ti.linkname = h.link
            self.tf.addfile(ti)
            self.result.links += 1
        for o in self.plan.others:
            self.tf.addfile(_tarinfo(o.path, o.entry))
            self.result.files += 1
        for s in self.plan.symlinks:
            self.tf.addfile(_tarinfo(s.path, s.entry))
            self.result.links += 1

    def deletions(self) -> None:
        d = self.plan.deletions
        if d is None:
            return
        ti = tarfile.TarInfo(d.name)
        ti.size, ti.mode = len(d.data), 0o644
        self.tf.addfile(ti, io.BytesIO(d.data))


def _write_members(
    out: IO[bytes] | gzip.GzipFile,
    archive: Archive,
    plan: ExportPlan,
    result: ExportResult,
    progress: CountProgress | None,
    cancelled: CancelCheck | None,
) -> None:
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        w = _TarWriter(tf, plan, result, progress, cancelled)
        w.dirs()
        w.files(archive)
        w.links_and_others()
        w.deletions()


def write_tar(
    archive: Archive,
    plan: ExportPlan,
    out: Path,
    result: ExportResult,
    *,
    compressed: bool = False,
    progress: CountProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> None:
    """Write ``plan`` as a tar to the file ``out`` (gzip-compressed when ``compressed``).

    Raises OSError (a full disk: the caller reports it), Cancelled, what reading a layer raises."""
    with open(out, "wb") as raw:
        if compressed:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                _write_members(gz, archive, plan, result, progress, cancelled)
        else:
            _write_members(raw, archive, plan, result, progress, cancelled)
