"""The warnings of one layer: each kind bounded, the rest counted in one line."""

from __future__ import annotations

from ..limits import MAX_WARNINGS


class LayerWarnings:
    """Warnings about one tar, each line prefixed with its ``label``; at most MAX_WARNINGS of each kind
    are kept and the rest counted."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lines: list[str] = []
        self._count: dict[str, int] = {}
        self._outside = 0

    def add(self, kind: str, text: str) -> None:
        """A warning of ``kind`` (in the user's words: it ends the summary line)."""
        n = self._count.get(kind, 0) + 1
        self._count[kind] = n
        if n <= MAX_WARNINGS:
            self.lines.append(f"{self.label}: {text}")

    def note(self, text: str) -> None:
        """A warning said once per tar, always kept."""
        self.lines.append(f"{self.label}: {text}")

    def outside(self, text: str) -> None:
        """A member that points outside the image root; counted by ``summarise_outside``."""
        self._outside += 1
        if self._outside <= MAX_WARNINGS:
            self.lines.append(f"{self.label}: {text}")

    def summarise_outside(self) -> None:
        """One line counting the members outside the root, when some were not listed."""
        if self._outside > MAX_WARNINGS:
            self.note(f"{self._outside} members in all point outside the image root; ignored")

    def finish(self) -> list[str]:
        """Every line kept, then one line per kind that had more than MAX_WARNINGS."""
        for kind, n in self._count.items():
            if n > MAX_WARNINGS:
                self.lines.append(f"{self.label}: {n - MAX_WARNINGS} more warnings like the above ({kind})")
        return self.lines
