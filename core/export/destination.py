"""Where an export lands: checked first, built in a temporary sibling, renamed into place at the end.

A cancel or an error (a full disk included) leaves the destination as it was and removes the
temporary output; ``force`` allows replacing an existing destination.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import ExportError


def check_destination(dest: Path, force: bool) -> None:
    """Refuse a destination that is a symlink, exists (unless ``force``) or has no parent folder.

    Raises ExportError."""
    if dest.is_symlink():
        raise ExportError("the destination is a symlink; choose a real path", dest)
    if dest.exists():
        if dest.is_dir() and any(dest.iterdir()) and not force:
            raise ExportError("the destination folder is not empty (use --force to replace it)", dest)
        if dest.is_file() and not force:
            raise ExportError("the destination file exists (use --force to replace it)", dest)
    if not dest.parent.is_dir():
        raise ExportError("the destination's parent folder does not exist", dest)


@contextlib.contextmanager
def replacing(dest: Path, *, folder: bool) -> Iterator[Path]:
    """A temporary folder (or file) next to ``dest``, moved into place when the block ends.

    The output gets the mode the user's umask gives new files and folders. Raises ExportError when
    writing fails (disk full, quota, ...); then, as on Cancelled, nothing is left behind."""
    try:
        with _temporary_sibling(dest, folder) as tmp:
            yield tmp
            os.chmod(tmp, (0o777 if folder else 0o666) & ~_umask())  # it was private while written
            _place(tmp, dest)
    except OSError as exc:
        raise _disk_error(exc, dest) from exc


def remove_tree(root: Path) -> None:
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


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _place(tmp: Path, dest: Path) -> None:
    """Move the finished temporary output into place (replacing what --force allowed)."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = dest.with_name(f".{dest.name}.layerscope-old-{os.getpid()}")
        os.rename(dest, old)
    os.rename(tmp, dest)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            remove_tree(old)
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
            remove_tree(tmp)
        elif tmp.exists() or tmp.is_symlink():
            tmp.unlink()


def _disk_error(exc: OSError, dest: Path) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError("disk full; nothing was written", dest)
    if exc.errno == errno.EDQUOT:
        return ExportError("disk quota exceeded; nothing was written", dest)
    return ExportError(f"cannot write ({exc.strerror or exc})", dest)
