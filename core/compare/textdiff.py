"""One file on both sides: a unified diff when both are text, sizes and digests when either is not.

The path is looked up as ``cat`` does (symlinks followed, hardlinks to their data); a side without
the file compares as empty (``/dev/null``), as ``diff -N`` does.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass

from ..entry import Entry
from ..errors import LayerScopeError
from ..kinds import EntryType
from ..layers.content import read_content
from ..preview import decode_text
from ..progress import CancelCheck, check_cancelled
from ..resolve import Follow, hardlink_target, resolve_path
from .content import content_digests
from .side import Side

TEXT_DIFF_CAP = 8 << 20
"""Bytes of a file read for a text diff; a larger file is shown by sizes and digests."""


@dataclass(frozen=True, slots=True)
class FileVersion:
    """The file on one side: its size and ``sha256:`` digest; all None where the side lacks it."""

    size: int | None
    digest: str | None
    mode: int | None


@dataclass(frozen=True, slots=True)
class FileComparison:
    """One file compared: both versions, whether both read as text, and the unified diff lines
    (without line ends; empty when the bytes are the same or either side is not shown as text).
    ``too_large`` says a side was over TEXT_DIFF_CAP (then only sizes and digests are known)."""

    path: str
    a: FileVersion
    b: FileVersion
    text: bool
    lines: tuple[str, ...]
    too_large: bool = False

    @property
    def same(self) -> bool:
        """True when both sides hold the file with the same bytes."""
        return self.a.digest is not None and self.a.digest == self.b.digest


_ABSENT = FileVersion(None, None, None)


def _find(side: Side, want: str) -> tuple[int, Entry] | None:
    """(layer, entry) of the regular file ``want`` names on one side; None when it names nothing.
    Raises LayerScopeError for a folder or anything but a regular file; LinkLoop."""
    tree = side.tree
    node = tree.nodes.get(hardlink_target(tree, resolve_path(tree, want, Follow.ALL)))
    if node is None:
        return None
    e = node.entry
    if e is None or e.type is EntryType.DIR:
        raise LayerScopeError(f"/{want} is a directory in {side.label}", side.archive.label)
    if e.type is not EntryType.FILE:
        raise LayerScopeError(f"/{want} is a {e.type} in {side.label}, not a file", side.archive.label)
    return node.layer, e


def _read(
    side: Side, found: tuple[int, Entry] | None, cancelled: CancelCheck | None
) -> tuple[FileVersion, bytes | None]:
    """The version of the file and its bytes (None when over TEXT_DIFF_CAP)."""
    if found is None:
        return _ABSENT, b""
    layer, e = found
    if e.size > TEXT_DIFF_CAP:
        digest = content_digests(side, [found], cancelled)[(layer, e.offset)]
        return FileVersion(e.size, digest, e.mode), None
    data = read_content(side.archive, side.tree.layers[layer].desc, e)
    return FileVersion(e.size, "sha256:" + hashlib.sha256(data).hexdigest(), e.mode), data


def compare_file(
    a: Side, b: Side, path: str, context: int = 3, cancelled: CancelCheck | None = None
) -> FileComparison:
    """File ``path`` on both sides, with a unified diff (``context`` lines around each change) when
    both read as text. Raises LayerScopeError when neither side has it, or it is no regular file;
    LinkLoop, MissingBlob, CorruptArchive, Cancelled."""
    want = path.strip("/")
    fa, fb = _find(a, want), _find(b, want)
    if fa is None and fb is None:
        raise LayerScopeError(f"/{want}: no such file in either image")
    va, da = _read(a, fa, cancelled)
    check_cancelled(cancelled)
    vb, db = _read(b, fb, cancelled)
    ta = decode_text(da, False) if da is not None else None
    tb = decode_text(db, False) if db is not None else None
    if ta is None or tb is None:
        return FileComparison("/" + want, va, vb, False, (), da is None or db is None)
    if va.digest == vb.digest:
        return FileComparison("/" + want, va, vb, True, ())
    lines = difflib.unified_diff(
        ta[0].splitlines(),
        tb[0].splitlines(),
        fromfile=f"a/{want}" if fa is not None else "/dev/null",
        tofile=f"b/{want}" if fb is not None else "/dev/null",
        n=context,
        lineterm="",
    )
    return FileComparison("/" + want, va, vb, True, tuple(lines))
