"""The kinds LayerScope tells apart, as enums: entry types, changes, layouts, compressions.

They are ``StrEnum``s: their values are the words the CLI prints and the JSON carries, so a kind
compares equal to its word and serialises as it.
"""

from __future__ import annotations

from enum import StrEnum


class EntryType(StrEnum):
    """What a layer member is. ``WHITEOUT`` and ``OPAQUE`` are overlay deletions, not files."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"
    SOCKET = "socket"
    WHITEOUT = "whiteout"
    OPAQUE = "opaque"

    @property
    def is_deletion(self) -> bool:
        """True for whiteouts and opaque markers."""
        return self in (EntryType.WHITEOUT, EntryType.OPAQUE)

    @property
    def is_device(self) -> bool:
        """True for character and block devices."""
        return self in (EntryType.CHAR, EntryType.BLOCK)


class ChangeKind(StrEnum):
    """What a layer did to a path, against the filesystem below it."""

    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    UNMODIFIED = "unmodified"

    def merge(self, other: ChangeKind) -> ChangeKind:
        """A folder's change folded with a child's: anything but Unmodified makes it Modified."""
        if other is ChangeKind.UNMODIFIED:
            return self
        return ChangeKind.MODIFIED if self is ChangeKind.UNMODIFIED else self


class Compression(StrEnum):
    """How a blob or an archive is compressed, as sniffed from its first bytes.

    ``BZIP2`` and ``XZ`` are recognised only to say they are not supported; ``UNKNOWN`` is
    anything that is neither compressed nor a tar.
    """

    GZIP = "gzip"
    ZSTD = "zstd"
    NONE = "none"
    EMPTY = "empty"
    BZIP2 = "bzip2"
    XZ = "xz"
    UNKNOWN = "unknown"

    @property
    def is_plain(self) -> bool:
        """True when the bytes are the tar itself (no compression, or no bytes at all)."""
        return self in (Compression.NONE, Compression.EMPTY)

    @property
    def is_supported(self) -> bool:
        """True for the compressions LayerScope decompresses: gzip and zstd."""
        return self in (Compression.GZIP, Compression.ZSTD)


class View(StrEnum):
    """The two views of one layer: its own changes, or the filesystem merged up to it."""

    MERGED = "merged"
    LAYER = "layer"
