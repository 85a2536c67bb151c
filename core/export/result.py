"""What an export did: counts, the items it skipped with a reason each, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
        s = f"wrote {self.files} files, {self.dirs} folders, {self.links} links ({self.bytes} bytes)"
        s += f" to {self.dest}"
        if self.deletions_file:
            many = "s" if self.deletions != 1 else ""
            s += f"; listed {self.deletions} deletion{many} in /{self.deletions_file}"
        if self.skipped:
            s += f"; skipped {len(self.skipped)}"
        return s
