"""Index one tar: every member as a lean ``Entry``, overlay deletions and eStargz metadata told apart.

This is where a member becomes an entry: its name is checked (length, NUL bytes, not above the
root) and normalised, whiteouts become WHITEOUT and OPAQUE entries, eStargz's table of contents and
landmarks become layer metadata, and the memory the index takes is charged to an ``IndexBudget``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from ..entry import Entry, EntryExtra
from ..kinds import EntryType
from ..limits import AFTER_END, MAX_PATH
from ..paths import (
    ESTARGZ_LANDMARKS,
    ESTARGZ_TOC,
    is_opaque,
    is_whiteout,
    is_whiteout_meta,
    join,
    normalize,
    parent,
    split,
    whiteout_target,
)
from ..progress import BytesProgress, CancelCheck, check_cancelled
from .budget import ENTRY_COST, EXTRA_COST, XATTR_COST, IndexBudget, folders_cost
from .members import Members
from .source import Source
from .warnings import LayerWarnings

_ESTARGZ_NAMES = ESTARGZ_LANDMARKS | {ESTARGZ_TOC}
_HARDLINK = EntryType.HARDLINK
_CHARGE_EVERY = 1024  # entries between budget charges, progress reports and cancel checks


class IndexResult(NamedTuple):
    """What indexing one tar found."""

    entries: list[Entry]
    members: int
    """Tar members read (the root and whiteout markers included; extended headers not)."""
    metadata: list[Entry]
    """eStargz table of contents and landmarks: shown as layer details, not as files."""
    size: int
    """Bytes of the uncompressed stream."""
    warnings: list[str]


def read_entries(
    src: Source,
    *,
    estargz: bool = False,
    overlay: bool = True,
    progress: BytesProgress | None = None,
    cancelled: CancelCheck | None = None,
    label: str = "layer",
    budget: IndexBudget | None = None,
) -> IndexResult:
    """Index every member of the tar in ``src``; with ``overlay``, whiteouts are deletions.

    Raises CorruptArchive for a damaged tar (bad header, data cut short); a missing end-of-archive
    marker or missing final padding (umoci 0.4.7 ``insert``) is a warning, not an error. Members
    whose name is longer than MAX_PATH, holds a NUL byte or climbs above the root are left out with a
    warning. ``budget`` (a fresh one when not given) refuses an archive past MAX_ENTRIES or
    MAX_INDEX_BYTES with UnsupportedFormat. Raises Cancelled.
    """
    budget = IndexBudget() if budget is None else budget
    warns = LayerWarnings(label)
    members = Members(src, warns, progress, cancelled)
    layer = _Layer(warns, estargz)
    append = layer.entries.append
    n_members = count = charged = cost = 0  # cost: estimated bytes since the last charge
    prev_parent = ""
    for m in members:
        n_members += 1
        name, etype, size, mode, uid, gid, mtime, link, offset, extra = m
        if extra is not None and extra.xattrs:
            cost += sum(len(k) + len(v) + XATTR_COST for k, v in extra.xattrs.items())
        # a plain name in one expression; _checked handles links and says why a member is left out
        path = normalize(name) if link is None and len(name) <= MAX_PATH and "\x00" not in name else None
        if path is None or etype is _HARDLINK:
            checked = _checked(name, link, etype, warns)
            if checked is None:
                continue
            path, link = checked
        if path != name and name.rstrip("/") not in (path, "./" + path, "/" + path):
            extra = replace(extra, raw_name=name) if extra is not None else EntryExtra(raw_name=name)
        if not path:
            continue  # the root directory itself
        folder, base = split(path)
        # what the index keeps: the record, the name, the link, and the folders a new parent implies
        cost += ENTRY_COST + len(path) + (len(link) if link else 0) + (EXTRA_COST if extra else 0)
        if folder != prev_parent and folder:
            prev_parent, cost = folder, cost + folders_cost(prev_parent, folder)
        entry = Entry(path, etype, size, mode, uid, gid, mtime, link, offset, extra)
        if overlay and (is_whiteout(base) or (not folder and base in _ESTARGZ_NAMES)):
            layer.add_special(entry, base, name)
        else:
            append(entry)
        count += 1
        if count % _CHARGE_EVERY == 0:
            budget.charge(count - charged, cost, label)
            charged, cost = count, 0
            src.release_read()
            check_cancelled(cancelled)
            if progress is not None:
                progress(src.pos)
    budget.charge(count - charged, cost, label)
    return layer.finish(src, members.clean_end, n_members, progress)


def _checked(
    name: str, link: str | None, etype: EntryType, warns: LayerWarnings
) -> tuple[str, str | None] | None:
    """(normalised path, link) of a member the index can keep; None, with a warning, when its name
    or link is too long, holds a NUL byte or points outside the image."""
    if len(name) > MAX_PATH or (link is not None and len(link) > MAX_PATH):
        longest = max(len(name), len(link or ""))
        warns.add(
            "long names",
            f"a member whose name or link target has more than {MAX_PATH} characters "
            f"({name[:60]!r}…, {longest} characters) is left out; no system could unpack it",
        )
        return None
    if "\x00" in name or (link is not None and "\x00" in link):
        warns.add("NUL names", f"{name[:200]!r} has a NUL byte in its name or link; ignored")
        return None
    path = normalize(name)
    if path is None:
        warns.outside(f"{name[:200]!r} points outside the image root; ignored")
        return None
    if etype is EntryType.HARDLINK:
        return _hardlink(path, name, link, warns)
    return path, link


def _hardlink(path: str, name: str, link: str | None, warns: LayerWarnings) -> tuple[str, str] | None:
    """(path, normalised target) of a hardlink; None, with a warning, when it has no usable target."""
    if not link:
        warns.add("hardlinks", f"hardlink {name[:200]!r} names no target; ignored")
        return None
    target = normalize(link)
    if not target:
        warns.outside(f"hardlink {name[:200]!r} -> {link[:200]!r} points outside the image; ignored")
        return None
    return path, target


class _Layer:
    """The entries and metadata of the tar being indexed, and its warnings."""

    def __init__(self, warns: LayerWarnings, estargz: bool) -> None:
        self.entries: list[Entry] = []
        self.metadata: list[Entry] = []
        self.warns = warns
        self.estargz = estargz  # the layer is known to be eStargz: its TOC is metadata even alone

    def add_special(self, e: Entry, base: str, raw_name: str) -> None:
        """An overlay name: a whiteout, the opaque marker, AUFS bookkeeping, or eStargz metadata."""
        if not is_whiteout(base):
            if base in ESTARGZ_LANDMARKS:
                self.estargz = True  # a landmark makes the TOC metadata too
            if self.estargz:
                self.metadata.append(e)
            else:
                self.entries.append(e)
            return
        folder = parent(e.path)
        if is_opaque(base):
            self.entries.append(e._replace(path=folder, type=EntryType.OPAQUE, size=0, link=None, extra=None))
        elif is_whiteout_meta(base):
            self.metadata.append(e._replace(type=EntryType.FILE, link=None))
        elif whiteout_target(base) in ("", ".", ".."):
            self.warns.add("whiteouts", f"invalid whiteout {raw_name[:200]!r}; ignored")
        else:
            path = join(folder, whiteout_target(base))
            self.entries.append(e._replace(path=path, type=EntryType.WHITEOUT, size=0, link=None, extra=None))

    def finish(
        self, src: Source, clean_end: bool, members: int, progress: BytesProgress | None
    ) -> IndexResult:
        """The result, once the last member is read: the rest of the stream drained to learn its size."""
        warns = self.warns
        warns.summarise_outside()
        if not clean_end and (self.entries or self.metadata):
            warns.note("the tar has no end-of-archive marker (read completely anyway)")
        total, complete = src.drain(AFTER_END if clean_end else None)
        if not complete:
            warns.note(
                f"more than {AFTER_END >> 20} MB of data follow the tar's end-of-archive marker; "
                f"not read, so the uncompressed size is at least {total} bytes"
            )
        if progress is not None:
            progress(total)
        return IndexResult(self.entries, members, self.metadata, total, warns.finish())
