"""Export a layer's files, a file or folder, or the merged filesystem, to a folder or a tar.

Safety, whatever the archive says: names were normalised when the layer was indexed (no ``..``,
no absolute paths); here nothing is written through a symlink (symlinks are created last, and every
parent is checked to be a real directory inside the destination), hardlinks only point at files
this export wrote, and the output is built in a temporary sibling that is renamed into place at the
end, so a cancel or an error leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from . import blobs
from .archive import Archive
from .errors import Cancelled, ExportError, LayerScopeError
from .layers import LayerIndex, iter_contents, layer_source
from .merge import ImageTree
from .tarindex import Entry

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class Item:
    """One thing to write: a path relative to the export root, its entry, the layer holding its data."""

    path: str
    entry: Entry | None  # None: a directory implied by its children
    layer: int
    full: str  # the path in the image


@dataclass(slots=True)
class ExportResult:
    dest: Path
    files: int = 0
    dirs: int = 0
    links: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = f"wrote {self.files} files, {self.dirs} folders, {self.links} links ({self.bytes} bytes)"
        s += f" to {self.dest}"
        if self.skipped:
            s += f"; skipped {len(self.skipped)}"
        return s


# ---- what to export ------------------------------------------------------------------------------
def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _rebase(path: str, prefix: str) -> str:
    """Path relative to the export root: a folder export keeps the folder's own name."""
    if not prefix:
        return path
    keep = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
    return path[len(keep) + 1 :] if keep else path


def merged_items(tree: ImageTree, prefix: str = "") -> list[Item]:
    """The merged filesystem (as merged up to ``tree.upto``), or the part at/under ``prefix``."""
    prefix = prefix.strip("/")
    if prefix and prefix not in tree.nodes:
        raise LayerScopeError(f"/{prefix} is not in the merged filesystem up to layer {tree.upto}")
    return [Item(_rebase(p, prefix), n.entry, n.layer, p) for p, n in tree.nodes.items() if _under(p, prefix)]


def layer_items(tree: ImageTree, layer: int, prefix: str = "") -> tuple[list[Item], list[str]]:
    """A layer's own files (the last of duplicates; no whiteout markers) and the paths it deletes."""
    prefix = prefix.strip("/")
    own = tree.layer_entries(layer)
    items = [Item(_rebase(p, prefix), e, layer, p) for p, e in own.items() if _under(p, prefix)]
    if prefix and not items:
        raise LayerScopeError(f"/{prefix} is not among layer {layer}'s own files")
    deletes = []
    for e in tree.layers[layer].entries:
        if e.type == "whiteout" and _under(e.path, prefix):
            deletes.append(f"/{e.path}")
        elif e.type == "opaque" and _under(e.path, prefix):
            deletes.append(f"/{e.path}/* (opaque: everything below from lower layers)")
    return items, deletes


# ---- content ---------------------------------------------------------------------------------------
def _contents(
    archive: Archive, layers: list[LayerIndex], wanted: list[tuple[int, Entry]]
) -> Iterator[tuple[Entry, int, Iterator[bytes]]]:
    """(entry, layer, chunks) for every wanted file, one sequential pass per layer."""
    by_layer: dict[int, list[Entry]] = {}
    for li, e in wanted:
        by_layer.setdefault(li, []).append(e)
    index = {li.index: li for li in layers}
    for li_i in sorted(by_layer):
        for e, chunks in iter_contents(archive, index[li_i].desc, by_layer[li_i]):
            yield e, li_i, chunks


_SPARSE_TAR_HOLES = 1 << 30  # zero bytes a tar export writes for the holes of one sparse file


def _sparse_map(e: Entry) -> list[tuple[int, int]] | None:
    """The extents of a sparse file, when it is one and its map is usable (in order, inside the file)."""
    smap = e.extra.get("sparse") if e.extra else None
    if not isinstance(smap, list):
        return None
    pos = 0
    for off, ln in smap:
        if off < pos or ln < 0 or off + ln > e.size:
            raise _Skip(f"/{e.path}: sparse file with a map that points outside it")
        pos = off + ln
    return smap


def _sparse_extents(chunks: Iterator[bytes], smap: list[tuple[int, int]]) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of a sparse file's stored extents, from its stored data (zeros if it runs short)."""
    buf = b""
    for off, ln in smap:
        left = ln
        while left > 0:
            if not buf:
                buf = next(chunks, b"") or bytes(min(left, 1 << 20))
            piece, buf = buf[:left], buf[left:]
            yield off + ln - left, piece
            left -= len(piece)


def _sparse_content(chunks: Iterator[bytes], smap: list[tuple[int, int]], size: int) -> Iterator[bytes]:
    """A sparse file's whole content: its extents with zeros between them."""
    pos = 0
    zeros = bytes(1 << 20)
    for off, piece in _sparse_extents(chunks, smap):
        while pos < off:
            n = min(off - pos, len(zeros))
            yield zeros[:n]
            pos += n
        yield piece
        pos += len(piece)
    while pos < size:
        n = min(size - pos, len(zeros))
        yield zeros[:n]
        pos += n


def _hardlink_source(tree: ImageTree, item: Item) -> tuple[int, Entry] | None:
    """The (layer, file entry) a hardlink's data lives in, resolved in the merged tree."""
    e = item.entry
    assert e is not None and e.link is not None
    n = tree.resolve(e.link)
    if n is None or n.entry is None or n.entry.type != "file":
        return None
    return n.layer, n.entry


# ---- destinations ------------------------------------------------------------------------------------
def _prepare_dest(dest: Path, force: bool) -> None:
    if dest.is_symlink():
        raise ExportError("the destination is a symlink; choose a real path", dest)
    if dest.exists():
        if dest.is_dir() and any(dest.iterdir()) and not force:
            raise ExportError("the destination folder is not empty (use --force to replace it)", dest)
        if dest.is_file() and not force:
            raise ExportError("the destination file exists (use --force to replace it)", dest)
    if not dest.parent.is_dir():
        raise ExportError("the destination's parent folder does not exist", dest)


def _place(tmp: Path, dest: Path) -> None:
    """Move the finished temporary output into place (replacing what --force allowed)."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = dest.with_name(f".{dest.name}.layerscope-old-{os.getpid()}")
        os.rename(dest, old)
    os.rename(tmp, dest)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            _rmtree(old)
        else:
            old.unlink()


@contextlib.contextmanager
def _temporary_sibling(dest: Path, folder: bool) -> Iterator[Path]:
    """A temporary path next to ``dest``, removed unless it was moved into place."""
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".layerscope-tmp", dir=dest.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".layerscope-tmp", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            _rmtree(tmp)
        elif tmp.exists() or tmp.is_symlink():
            tmp.unlink()


def _disk_error(exc: OSError, dest: Path) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError("disk full; nothing was written", dest)
    if exc.errno == errno.EDQUOT:
        return ExportError("disk quota exceeded; nothing was written", dest)
    return ExportError(f"cannot write ({exc.strerror or exc})", dest)


def export(
    archive: Archive,
    tree: ImageTree,
    items: list[Item],
    dest: Path,
    *,
    deletes: list[str] | None = None,
    force: bool = False,
    keep_special_bits: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Write ``items`` to ``dest``: a folder, or a tar when the name ends in .tar, .tar.gz or .tgz.

    Raises ExportError (destination exists, disk full, ...), Cancelled; the destination is left as
    it was in both cases.
    """
    dest = Path(dest).absolute()
    _prepare_dest(dest, force)
    as_tar = dest.name.endswith((".tar", ".tar.gz", ".tgz"))
    result = ExportResult(dest)
    try:
        with _temporary_sibling(dest, folder=not as_tar) as tmp:
            if as_tar:
                _write_tar(
                    archive,
                    tree,
                    items,
                    tmp,
                    dest.name.endswith(("gz", "tgz")),
                    deletes,
                    result,
                    progress,
                    cancelled,
                )
            else:
                _write_folder(
                    archive, tree, items, tmp, deletes, keep_special_bits, result, progress, cancelled
                )
            _place(tmp, dest)
    except OSError as exc:
        raise _disk_error(exc, dest) from exc
    return result


def _check(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled()


def _plan(
    tree: ImageTree, items: list[Item], result: ExportResult
) -> tuple[list[Item], list[tuple[Item, int, Entry]], list[tuple[Item, str]], list[Item], list[Item]]:
    """Split items into dirs, files (with their data source), hardlinks (with the export-relative
    target), symlinks and the rest. A hardlink whose target is not exported becomes a file."""
    dirs: list[Item] = []
    files: list[tuple[Item, int, Entry]] = []
    hardlinks: list[tuple[Item, str]] = []
    symlinks: list[Item] = []
    others: list[Item] = []
    rel_of = {it.full: it.path for it in items if it.entry is not None and it.entry.type == "file"}
    # where each stored file's data is written: its bytes can be read once per pass, so a second
    # hardlink to the same data becomes a hardlink to the first copy
    written = {
        (it.layer, it.entry.offset): it.path
        for it in items
        if it.entry is not None and it.entry.type == "file"
    }
    for it in sorted(items, key=lambda i: i.path):
        e = it.entry
        if e is None or e.type == "dir":
            dirs.append(it)
        elif e.type == "file":
            files.append((it, it.layer, e))
        elif e.type == "symlink":
            symlinks.append(it)
        elif e.type == "hardlink":
            if e.link in rel_of:
                hardlinks.append((it, rel_of[e.link]))
                continue
            src = _hardlink_source(tree, it)
            if src is None:
                result.skipped.append(f"/{it.full}: hardlink to /{e.link}, which is not a file")
            elif (src[0], src[1].offset) in written:
                hardlinks.append((it, written[(src[0], src[1].offset)]))
            else:
                written[(src[0], src[1].offset)] = it.path
                files.append((it, src[0], src[1]))  # the data itself, as a regular file
        else:
            others.append(it)
    return dirs, files, hardlinks, symlinks, others


# ---- folder --------------------------------------------------------------------------------------
_PATH_MAX = 4000  # bytes; Linux refuses longer paths (PATH_MAX 4096), so such items are skipped
_NAME_MAX = 255  # bytes of one name (NAME_MAX)


class _Skip(Exception):
    """An item that cannot be written here; the reason goes to the result's skipped list."""


class _Folders:
    """Creates and checks parent folders inside the export root, remembering the ones it checked.

    Symlinks are created after everything else, so a folder checked once stays a real folder. Paths
    are plain strings: building a Path parses every component, which is quadratic on deep trees."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)
        self._root_bytes = len(os.fsencode(self._root))
        self.known: set[str] = {""}

    def path(self, rel: str) -> str:
        return f"{self._root}/{rel}"

    def parent_of(self, rel: str) -> str:
        """The absolute path for ``rel``, its parents created as needed; raises _Skip when a parent is not a
        real folder, or the path or a name in it is too long."""
        if self._root_bytes + 1 + len(os.fsencode(rel)) > _PATH_MAX:
            raise _Skip(f"/{rel[:80]}…: path too long for this filesystem")
        j = rel.rfind("/")
        if len(os.fsencode(rel[j + 1 :])) > _NAME_MAX:
            raise _Skip(f"/{rel[:80]}…: a name in the path is too long for this filesystem")
        target = self.path(rel)
        parent = rel[:j] if j >= 0 else ""
        if parent in self.known:
            return target
        missing = []
        p = parent
        while p not in self.known:
            missing.append(p)
            j = p.rfind("/")
            p = p[:j] if j >= 0 else ""
        for q in reversed(missing):
            if len(os.fsencode(q[q.rfind("/") + 1 :])) > _NAME_MAX:
                raise _Skip(f"/{rel[:80]}…: a name in the path is too long for this filesystem")
            path = self.path(q)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o755)
            else:
                if not stat.S_ISDIR(st.st_mode):
                    raise _Skip(
                        f"/{rel[:200]}: a parent is not a folder in the export; not written through it"
                    )
            self.known.add(q)
        return target


def _rmtree(root: Path) -> None:
    """Remove a folder tree of any depth (shutil.rmtree recurses in Python and fails on deep trees)."""
    stack = [str(root)]
    dirs: list[str] = []
    while stack:
        d = stack.pop()
        dirs.append(d)
        try:
            with os.scandir(d) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        with contextlib.suppress(OSError):
                            os.chmod(entry.path, 0o700)
                        stack.append(entry.path)
                    else:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)
        except OSError:
            continue
    for d in reversed(dirs):
        with contextlib.suppress(OSError):
            os.rmdir(d)


def _write_folder(
    archive: Archive,
    tree: ImageTree,
    items: list[Item],
    root: Path,
    deletes: list[str] | None,
    keep_special: bool,
    result: ExportResult,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    is_root = os.geteuid() == 0
    folders = _Folders(root)
    dirs, files, hardlinks, symlinks, others = _plan(tree, items, result)
    total = sum(e.size for _it, _l, e in files) or 1
    done = 0
    for it in dirs:
        try:
            p = folders.parent_of(it.path)
        except _Skip as exc:
            result.skipped.append(str(exc))
            continue
        if not os.path.isdir(p):
            os.mkdir(p, 0o700)
        folders.known.add(it.path)
        result.dirs += 1
    by_key = {(layer, e.offset): it for it, layer, e in files}
    wanted = [(layer, e) for _it, layer, e in files]
    for e, layer, chunks in _contents(archive, tree.layers, wanted):
        _check(cancelled)
        it = by_key[(layer, e.offset)]
        try:
            target = folders.parent_of(it.path)
        except _Skip as exc:
            result.skipped.append(str(exc))
            continue
        if os.path.lexists(target):
            result.skipped.append(f"/{it.path}: a folder of the same name is already there")
            continue
        try:
            smap = _sparse_map(e)
        except _Skip as exc:
            result.skipped.append(str(exc))
            continue
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            if smap is not None:  # holes stay holes
                for off, c in _sparse_extents(chunks, smap):
                    f.seek(off)
                    f.write(c)
                    done += len(c)
                    _check(cancelled)
                f.truncate(e.size)
            else:
                for c in chunks:
                    f.write(c)
                    done += len(c)
                    if progress is not None:
                        progress(done, total)
                    _check(cancelled)
        result.files += 1
        result.bytes += e.size

    def create(it: Item, what: str, make: Callable[[Path], None]) -> bool:
        """Create one non-file item: parents checked, nothing overwritten, failures skipped and listed
        (a full disk still aborts the export)."""
        try:
            target = folders.parent_of(it.path)
        except _Skip as exc:
            result.skipped.append(str(exc))
            return False
        if os.path.lexists(target):
            result.skipped.append(f"/{it.path}: {what} over an existing path")
            return False
        try:
            make(target)
        except OSError as exc:  # e.g. EMLINK: more links to one file than the filesystem allows
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            result.skipped.append(f"/{it.path}: {what} not created ({exc.strerror})")
            return False
        return True

    for it, target_rel in hardlinks:
        src = folders.path(target_rel)
        try:
            st = os.lstat(src)
        except (FileNotFoundError, NotADirectoryError):  # the target was skipped
            result.skipped.append(f"/{it.path}: hardlink target missing")
            continue
        if not stat.S_ISREG(st.st_mode):
            result.skipped.append(f"/{it.path}: hardlink target is not a regular file in the export")
            continue
        if create(it, "hardlink", lambda t, s=src: os.link(s, t, follow_symlinks=False)):
            result.links += 1
    for it in others:
        e = it.entry
        assert e is not None
        if e.type == "fifo":
            if create(it, "fifo", lambda t: os.mkfifo(t, 0o600)):
                result.files += 1
        elif e.type in ("char", "block") and is_root:
            extra = e.extra or {}
            try:
                dev = os.makedev(int(extra.get("devmajor", 0)), int(extra.get("devminor", 0)))  # type: ignore[call-overload]
            except (OverflowError, ValueError):
                result.skipped.append(f"/{it.path}: {e.type} device with impossible device numbers")
                continue
            kind = stat.S_IFCHR if e.type == "char" else stat.S_IFBLK
            if create(it, f"{e.type} device", lambda t, k=kind, d=dev: os.mknod(t, k | 0o600, d)):
                result.files += 1
        else:
            result.skipped.append(
                f"/{it.path}: {e.type} device (needs root)"
                if e.type in ("char", "block")
                else f"/{it.path}: {e.type}"
            )
    # symlinks last: nothing is ever written through one
    for it in symlinks:
        e = it.entry
        assert e is not None
        if create(it, "symlink", lambda t, link=e.link or "": os.symlink(link, t)):
            result.links += 1
    if deletes is not None:
        _write_new(
            root,
            "WHITEOUTS.txt",
            "".join(d + "\n" for d in deletes).encode("utf-8", "surrogateescape"),
            result,
        )
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(root, 0o777 & ~umask)  # the temporary folder was private while it was being written
    # attributes last, deepest first, so read-only folders do not block writing
    for it in sorted(items, key=lambda i: i.path.count("/"), reverse=True):
        e = it.entry
        p = folders.path(it.path)
        if not os.path.lexists(p) or (e is not None and e.type in ("hardlink",)):
            continue
        mode = e.mode if e is not None else 0o755
        if not keep_special:
            mode &= 0o1777
        try:
            if is_root and e is not None:
                os.lchown(p, e.uid, e.gid)
            if e is None or e.type != "symlink":
                os.chmod(p, mode)
                if e is not None and e.extra and e.extra.get("xattrs"):
                    _set_xattrs(p, e.extra["xattrs"], is_root, result)  # type: ignore[arg-type]
            if e is not None:
                os.utime(p, (e.mtime, e.mtime), follow_symlinks=False)
        except OSError as exc:
            result.warnings.append(f"/{it.path}: attributes not kept ({exc.strerror})")
        except (OverflowError, ValueError):  # an owner or a time no system can hold
            result.warnings.append(f"/{it.path}: attributes not kept (owner or time out of range)")


def _write_new(root: Path, name: str, data: bytes, result: ExportResult) -> None:
    """Write a file of our own at the top of the export, never over (or through) what the image put
    there: ``name``, or ``stem-1.txt``, ``stem-2.txt``... when that exists."""
    stem, dot, ext = name.rpartition(".")
    for n in range(1000):
        candidate = name if n == 0 else f"{stem}-{n}{dot}{ext}"
        try:
            fd = os.open(root / candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if n:
            result.warnings.append(f"the image has its own /{name}; the list of deletions is in /{candidate}")
        return
    result.skipped.append(f"/{name}: no free name for the list of deletions")


def _set_xattrs(p: str, xattrs: dict[str, bytes], is_root: bool, result: ExportResult) -> None:
    name = os.path.basename(p)
    for k, v in xattrs.items():
        if not is_root and not k.startswith("user."):
            result.skipped.append(f"/{name}: xattr {k} (needs root)")
            continue
        try:
            os.setxattr(p, k, v, follow_symlinks=False)
        except OSError as exc:
            result.warnings.append(f"{name}: xattr {k} not kept ({exc.strerror})")
        except ValueError:
            result.warnings.append(f"{name}: xattr {k!r} not kept (invalid name)")


# ---- tar -----------------------------------------------------------------------------------------
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
    extra = e.extra or {}
    ti.uname = str(extra.get("uname", ""))
    ti.gname = str(extra.get("gname", ""))
    ti.type = {
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
        "char": tarfile.CHRTYPE,
        "block": tarfile.BLKTYPE,
        "fifo": tarfile.FIFOTYPE,
    }.get(e.type, tarfile.REGTYPE)
    if e.type in ("symlink", "hardlink"):
        ti.linkname = e.link or ""
    if e.type in ("char", "block"):
        # a ustar field holds 7 octal digits and PAX has no record for device numbers
        major = int(extra.get("devmajor", 0))  # type: ignore[call-overload]
        minor = int(extra.get("devminor", 0))  # type: ignore[call-overload]
        ti.devmajor = major if 0 <= major < 8**7 else 0
        ti.devminor = minor if 0 <= minor < 8**7 else 0
    xattrs = extra.get("xattrs")
    if isinstance(xattrs, dict):
        ti.pax_headers = {
            f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in xattrs.items()
        }
    return ti


def _write_tar(
    archive: Archive,
    tree: ImageTree,
    items: list[Item],
    out: Path,
    gz: bool,
    deletes: list[str] | None,
    result: ExportResult,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    dirs, files, hardlinks, symlinks, others = _plan(tree, items, result)
    total = sum(e.size for _it, _l, e in files) or 1
    done = 0
    raw: BinaryIO = open(out, "wb")  # noqa: SIM115 - closed below, after the gzip wrapper
    fobj: BinaryIO = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if gz else raw  # type: ignore[assignment]
    try:
        with tarfile.open(fileobj=fobj, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for it in dirs:
                tf.addfile(_tarinfo(it.path, it.entry))
                result.dirs += 1
            by_key = {(layer, e.offset): it for it, layer, e in files}
            for e, layer, chunks in _contents(archive, tree.layers, [(layer, e) for _it, layer, e in files]):
                _check(cancelled)
                it = by_key[(layer, e.offset)]
                ti = _tarinfo(it.path, e)
                ti.type = tarfile.REGTYPE
                ti.size = e.size
                try:
                    smap = _sparse_map(e)
                except _Skip as exc:
                    result.skipped.append(str(exc))
                    continue
                if smap is not None:
                    holes = e.size - sum(ln for _off, ln in smap)
                    if holes > _SPARSE_TAR_HOLES:
                        result.skipped.append(
                            f"/{it.path}: sparse file of {e.size} bytes, {holes} of them holes: too large "
                            "to write out in a tar (export to a folder keeps the holes)"
                        )
                        continue
                    chunks = _sparse_content(chunks, smap, e.size)

                def counted(ch: Iterator[bytes] = chunks) -> Iterator[bytes]:
                    nonlocal done
                    for c in ch:
                        done += len(c)
                        if progress is not None:
                            progress(done, total)
                        yield c

                tf.addfile(ti, _ChunkReader(counted()))  # type: ignore[arg-type]
                result.files += 1
                result.bytes += e.size
            for it, target_rel in hardlinks:
                ti = _tarinfo(it.path, it.entry)
                ti.linkname = target_rel
                tf.addfile(ti)
                result.links += 1
            for it in [*others, *symlinks]:
                tf.addfile(_tarinfo(it.path, it.entry))
                result.links += it.entry is not None and it.entry.type == "symlink"
                result.files += it.entry is not None and it.entry.type != "symlink"
            if deletes is not None:
                data = "".join(d + "\n" for d in deletes).encode("utf-8", "surrogateescape")
                ti = tarfile.TarInfo("WHITEOUTS.txt")
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
    finally:
        if gz:
            fobj.close()
        raw.close()


# ---- as stored -------------------------------------------------------------------------------------
def export_as_stored(
    archive: Archive,
    layer: LayerIndex,
    dest: Path,
    *,
    decompress: bool = True,
    force: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Write a layer's tar byte for byte: the uncompressed stream, or the blob as stored."""
    dest = Path(dest).absolute()
    _prepare_dest(dest, force)
    if dest.is_dir():
        raise ExportError("a layer as stored is one file; give a file name, not a folder", dest)
    result = ExportResult(dest)
    desc = layer.desc
    try:
        with _temporary_sibling(dest, folder=False) as tmp:
            with open(tmp, "wb") as f:
                if decompress or desc.compression in (blobs.PLAIN, blobs.EMPTY):
                    src = layer_source(archive, desc)
                    total = layer.uncompressed_size or 1
                    while True:
                        b = src.read(1 << 20)
                        if not b:
                            break
                        f.write(b)
                        result.bytes += len(b)
                        if progress is not None:
                            progress(result.bytes, total)
                        _check(cancelled)
                else:
                    assert desc.blob_name is not None
                    blob = archive.container.blob(desc.blob_name)
                    r = blob.open()
                    while True:
                        b = r.read(1 << 20)
                        if not b:
                            break
                        f.write(b)
                        result.bytes += len(b)
                        if progress is not None:
                            progress(result.bytes, blob.size)
                        _check(cancelled)
            _place(tmp, dest)
    except OSError as exc:
        raise _disk_error(exc, dest) from exc
    result.files = 1
    return result
