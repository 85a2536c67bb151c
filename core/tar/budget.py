"""The memory an index may take: entries and estimated bytes, counted across an archive's layers."""

from __future__ import annotations

from .. import limits
from ..errors import UnsupportedFormat

ENTRY_COST = 330
"""Estimated bytes the index keeps per entry besides its name and link (the record, list slots)."""
EXTRA_COST = 200
"""Estimated bytes of an entry's extras (``EntryExtra``)."""
XATTR_COST = 100
"""Estimated bytes per extended attribute besides its name and value."""
FOLDER_COST = 500
"""Estimated bytes of a folder the merge creates for a name's parents."""


class IndexBudget:
    """Entries and estimated bytes indexed so far for one archive; refuses past ``max_entries`` and
    ``max_bytes`` (by default MAX_ENTRIES and MAX_INDEX_BYTES) with a one-line error. Shared by the
    layers of an archive (a lost update between two indexing threads only makes the estimate
    slightly low)."""

    def __init__(self, max_entries: int | None = None, max_bytes: int | None = None) -> None:
        self.entries = 0
        self.bytes = 0
        self.max_entries = limits.MAX_ENTRIES if max_entries is None else max_entries
        self.max_bytes = limits.MAX_INDEX_BYTES if max_bytes is None else max_bytes

    def charge(self, entries: int, nbytes: int, label: str) -> None:
        """Count ``entries`` more entries and ``nbytes`` more bytes. Raises UnsupportedFormat past a
        limit (naming ``label``)."""
        self.entries += entries
        self.bytes += nbytes
        if self.entries > self.max_entries:
            raise UnsupportedFormat(
                f"{label}: the archive holds more than {self.max_entries:,} entries; LayerScope stops "
                "there to bound memory"
            )
        if self.bytes > self.max_bytes:
            raise UnsupportedFormat(
                f"{label}: indexing would need more than {self.max_bytes >> 20:,} MB of memory "
                f"({self.entries:,} entries so far, long or deeply nested names); LayerScope stops there"
            )


def folders_cost(previous: str, parent: str) -> int:
    """Estimated bytes of the folders ``parent`` adds to those of ``previous`` (the previous entry's
    parent): exact in tar order, where a new folder's children follow it; an overestimate else."""
    n = len(previous)
    if parent.startswith(previous) and parent[n : n + 1] == "/":
        return parent.count("/", n) * (len(parent) + FOLDER_COST)
    return (parent.count("/") + 1) * (len(parent) // 2 + FOLDER_COST)
