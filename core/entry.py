"""One member of a layer, as the index keeps it: a lean record, never the file's bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .kinds import EntryType

SparseMap = tuple[tuple[int, int], ...]
"""(offset in the file, length) of each stored extent of a sparse file, in order."""


@dataclass(frozen=True, slots=True)
class EntryExtra:
    """The fields few members carry; an entry without any of them has ``extra=None``.

    ``sparse`` and ``stored_size`` go together: the extents of a sparse file and how many bytes the
    layer stores for them (``Entry.size`` is the file's full size). ``raw_name`` is the member's name
    as the tar spells it, kept only when it differs from the normalised path in more than a leading
    ``/`` or ``./`` or a trailing ``/``.
    """

    xattrs: Mapping[str, bytes] | None = None
    uname: str | None = None
    gname: str | None = None
    devmajor: int | None = None
    devminor: int | None = None
    sparse: SparseMap | None = None
    stored_size: int | None = None
    raw_name: str | None = None


class Entry(NamedTuple):
    """One member of a layer tar.

    ``path`` is normalised (see ``paths.normalize``; the root is never an entry). For ``WHITEOUT``
    entries ``path`` is the path deleted from lower layers, for ``OPAQUE`` entries the folder whose
    lower children are hidden. ``offset`` is where the member's data starts in the uncompressed
    layer stream, so content can be opened later by (layer, offset, size). ``size`` is the file's
    size (for a sparse file its full size, holes included).
    """

    path: str
    type: EntryType
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    link: str | None
    offset: int
    extra: EntryExtra | None

    @property
    def stored_size(self) -> int:
        """Bytes of data the layer stores for this member (less than ``size`` for a sparse file)."""
        x = self.extra
        return x.stored_size if x is not None and x.stored_size is not None else self.size

    @property
    def sparse(self) -> SparseMap | None:
        """The extents of a sparse file, or None for an ordinary one."""
        return self.extra.sparse if self.extra is not None else None

    @property
    def xattrs(self) -> Mapping[str, bytes]:
        """The extended attributes kept for this member (empty when none)."""
        x = self.extra
        return x.xattrs if x is not None and x.xattrs else {}

    @property
    def owner_names(self) -> tuple[str, str]:
        """(user name, group name) as the tar recorded them; empty strings when absent."""
        x = self.extra
        if x is None:
            return "", ""
        return x.uname or "", x.gname or ""

    @property
    def device(self) -> tuple[int, int]:
        """(major, minor) of a device node; (0, 0) when absent."""
        x = self.extra
        if x is None:
            return 0, 0
        return x.devmajor or 0, x.devminor or 0

    @property
    def raw_name(self) -> str | None:
        """The tar's own spelling of the name, when it was not normal."""
        return self.extra.raw_name if self.extra is not None else None
