"""The folder sink: writes an export plan as files and folders under a root.

Nothing is written through a symlink (symlinks come last, and every parent is checked once to be
a real folder inside the root), nothing overwrites what this export already wrote, hardlinks point
only at files it wrote, and attributes are set last, deepest first, so read-only folders do not
block writing. Items this system cannot hold are skipped with a reason; a full disk aborts.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..archive.records import Archive
from ..entry import Entry
from ..kinds import EntryType
from ..limits import EXPORT_NAME_MAX, EXPORT_PATH_MAX
from ..paths import basename, parent
from ..progress import CancelCheck, CountProgress, check_cancelled
from ..tar.sparse import extents
from .plan import ExportPlan
from .result import ExportResult


class _Skip(Exception):
    """An item that cannot be written here; its message goes to the result's skipped list."""


class _Folders:
    """Creates and checks parent folders inside the export root, remembering the ones it checked.

    Symlinks are created after everything else, so a folder checked once stays a real folder. Paths
    are plain strings: building a Path parses every component, which is quadratic on deep trees."""

    def __init__(self, root: Path) -> None:
        self._root = os.fspath(root)
        self._root_bytes = len(os.fsencode(self._root))
        self.known: set[str] = {""}

    def path(self, rel: str) -> str:
        return f"{self._root}/{rel}"

    def parent_of(self, rel: str) -> str:
        """The absolute path for ``rel``, its parents created as needed. Raises _Skip when a parent is
        not a real folder, or the path or a name in it is too long."""
        if self._root_bytes + 1 + len(os.fsencode(rel)) > EXPORT_PATH_MAX:
            raise _Skip(f"/{rel[:80]}…: path too long for this filesystem")
        if len(os.fsencode(basename(rel))) > EXPORT_NAME_MAX:
            raise _Skip(f"/{rel[:80]}…: a name in the path is too long for this filesystem")
        missing = []
        p = parent(rel)
        while p not in self.known:
            missing.append(p)
            p = parent(p)
        for q in reversed(missing):
            self._make(q, rel)
        return self.path(rel)

    def _make(self, q: str, rel: str) -> None:
        if len(os.fsencode(basename(q))) > EXPORT_NAME_MAX:
            raise _Skip(f"/{rel[:80]}…: a name in the path is too long for this filesystem")
        path = self.path(q)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            os.mkdir(path, 0o755)
        else:
            if not stat.S_ISDIR(st.st_mode):
                raise _Skip(f"/{rel[:200]}: a parent is not a folder in the export; not written through it")
        self.known.add(q)


class _FolderWriter:
    def __init__(
        self,
        plan: ExportPlan,
        root: Path,
        result: ExportResult,
        keep_special: bool,
        progress: CountProgress | None,
        cancelled: CancelCheck | None,
    ) -> None:
        self.plan = plan
        self.root = root
        self.result = result
        self.keep_special = keep_special
        self.progress = progress
        self.cancelled = cancelled
        self.folders = _Folders(root)
        self.is_root = os.geteuid() == 0
        self.total = plan.file_bytes or 1
        self.done = 0

    def skip(self, reason: str) -> None:
        self.result.skipped.append(reason)

    def target(self, rel: str) -> str | None:
        """Where ``rel`` goes, its parents made; None (and the reason listed) when it cannot."""
        try:
            return self.folders.parent_of(rel)
        except _Skip as exc:
            self.skip(str(exc))
            return None

    # ---- in the plan's order ----
    def dirs(self) -> None:
        for d in self.plan.dirs:
            p = self.target(d.path)
            if p is None:
                continue
            if not os.path.isdir(p):
                os.mkdir(p, 0o700)
            self.folders.known.add(d.path)
            self.result.dirs += 1

    def files(self, archive: Archive) -> None:
        for f, chunks in self.plan.contents(archive):
            check_cancelled(self.cancelled)
            assert f.entry is not None
            target = self.target(f.path)
            if target is None:
                continue
            if os.path.lexists(target):
                self.skip(f"/{f.path}: a folder of the same name is already there")
                continue
            self.write_file(target, f.entry, chunks)
            self.result.files += 1
            self.result.bytes += f.entry.size

    def write_file(self, target: str, e: Entry, chunks: Iterator[bytes]) -> None:
        smap = e.sparse  # its map was checked by the plan
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            if smap is None:
                for c in chunks:
                    out.write(c)
                    self.count(len(c))
                return
            for off, c in extents(chunks, smap):  # holes stay holes
                out.seek(off)
                out.write(c)
                self.count(len(c))
            out.truncate(e.size)

    def count(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)
        check_cancelled(self.cancelled)

    def create(self, rel: str, what: str, make: Callable[[str], None]) -> bool:
        """Create one non-file item: parents checked, nothing overwritten, failures skipped and listed
        (a full disk still aborts the export)."""
        target = self.target(rel)
        if target is None:
            return False
        if os.path.lexists(target):
            self.skip(f"/{rel}: {what} over an existing path")
            return False
        try:
            make(target)
        except OSError as exc:  # e.g. EMLINK: more links to one file than the filesystem allows
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.skip(f"/{rel}: {what} not created ({exc.strerror})")
            return False
        return True

    def hardlinks(self) -> None:
        for h in self.plan.hardlinks:
            src = self.folders.path(h.link)
            try:
                st = os.lstat(src)
            except (FileNotFoundError, NotADirectoryError):  # the target was skipped
                self.skip(f"/{h.path}: hardlink target missing")
                continue
            if not stat.S_ISREG(st.st_mode):
                self.skip(f"/{h.path}: hardlink target is not a regular file in the export")
                continue
            if self.create(h.path, "hardlink", functools.partial(os.link, src, follow_symlinks=False)):
                self.result.links += 1

    def others(self) -> None:
        for o in self.plan.others:
            e = o.entry
            assert e is not None
            if e.type is EntryType.FIFO:
                if self.create(o.path, "fifo", lambda t: os.mkfifo(t, 0o600)):
                    self.result.files += 1
            elif e.type.is_device and self.is_root:
                self.device(o.path, e)
            elif e.type.is_device:
                self.skip(f"/{o.path}: {e.type} device (needs root)")
            else:
                self.skip(f"/{o.path}: {e.type}")

    def device(self, rel: str, e: Entry) -> None:
        try:
            dev = os.makedev(*e.device)
        except (OverflowError, ValueError):
            self.skip(f"/{rel}: {e.type} device with impossible device numbers")
            return
        kind = stat.S_IFCHR if e.type is EntryType.CHAR else stat.S_IFBLK
        if self.create(rel, f"{e.type} device", lambda t: os.mknod(t, kind | 0o600, dev)):
            self.result.files += 1

    def symlinks(self) -> None:
        for s in self.plan.symlinks:
            link = (s.entry.link if s.entry is not None else None) or ""
            if self.create(s.path, "symlink", functools.partial(os.symlink, link)):
                self.result.links += 1

    def deletions(self) -> None:
        """The list of deletions at the top, never over (or through) what the image put there."""
        d = self.plan.deletions
        if d is None:
            return
        try:
            fd = os.open(self.root / d.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            self.skip(f"/{d.name}: the list of deletions not written over an existing path")
            return
        with os.fdopen(fd, "wb") as out:
            out.write(d.data)

    def attributes(self) -> None:
        """Owners, modes, xattrs and times, deepest first (a hardlink shares its target's)."""
        written = [*self.plan.dirs, *self.plan.files, *self.plan.others, *self.plan.symlinks]
        for p in sorted(written, key=lambda p: p.path.count("/"), reverse=True):
            path = self.folders.path(p.path)
            if not os.path.lexists(path):
                continue
            try:
                self.set_attributes(path, p.entry)
            except OSError as exc:
                self.result.warnings.append(f"/{p.path}: attributes not kept ({exc.strerror})")
            except (OverflowError, ValueError):  # an owner or a time no system can hold
                self.result.warnings.append(f"/{p.path}: attributes not kept (owner or time out of range)")

    def set_attributes(self, path: str, e: Entry | None) -> None:
        if e is None:
            os.chmod(path, 0o755)
            return
        if self.is_root:
            os.lchown(path, e.uid, e.gid)
        if e.type is not EntryType.SYMLINK:
            os.chmod(path, e.mode if self.keep_special else e.mode & 0o1777)
            if e.xattrs:
                self.set_xattrs(path, e.xattrs)
        os.utime(path, (e.mtime, e.mtime), follow_symlinks=False)

    def set_xattrs(self, path: str, xattrs: Mapping[str, bytes]) -> None:
        name = os.path.basename(path)
        for k, v in xattrs.items():
            if not self.is_root and not k.startswith("user."):
                self.skip(f"/{name}: xattr {k} (needs root)")
                continue
            try:
                os.setxattr(path, k, v, follow_symlinks=False)
            except OSError as exc:
                self.result.warnings.append(f"{name}: xattr {k} not kept ({exc.strerror})")
            except ValueError:
                self.result.warnings.append(f"{name}: xattr {k!r} not kept (invalid name)")


def write_folder(
    archive: Archive,
    plan: ExportPlan,
    root: Path,
    result: ExportResult,
    *,
    keep_special_bits: bool = False,
    progress: CountProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> None:
    """Write ``plan`` under the (empty, private) folder ``root``, counting into ``result``.

    Raises OSError (a full disk: the caller reports it), Cancelled, what reading a layer raises."""
    w = _FolderWriter(plan, root, result, keep_special_bits, progress, cancelled)
    w.dirs()
    w.files(archive)
    w.hardlinks()
    w.others()
    w.symlinks()  # last: nothing is ever written through one
    w.deletions()
    w.attributes()
