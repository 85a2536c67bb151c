"""What an export did: counts, the items it skipped with a reason each, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..display import plural


@dataclass(slots=True)
class ExportResult:
    """The outcome of one export, for the CLI's report and the window's status line."""

    dest: Path
    files: int = 0
    dirs: int = 0
    links: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    deletions: int = 0  # paths a layer export listed as deleted (whiteouts)
    deletions_file: str = ""  # the file at the export's top that lists them

    def summary(self) -> str:
        """One line: what was written where, and how many items were skipped."""
        counts = ", ".join(
            plural(n, w) for n, w in ((self.files, "file"), (self.dirs, "folder"), (self.links, "link"))
        )
        s = f"wrote {counts} ({plural(self.bytes, 'byte')}) to {self.dest}"
        if self.deletions_file:
            s += f"; listed {plural(self.deletions, 'deletion')} in /{self.deletions_file}"
        if self.skipped:
            s += f"; skipped {len(self.skipped)}"
        return s
