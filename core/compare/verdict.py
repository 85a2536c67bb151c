"""The one line that answers "are they the same?": identical; same content, metadata differs; or
N files differ with the change in bytes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..display import human_size, plural
from .config import ConfigDiff
from .files import FilesDiff
from .layers import LayersDiff


class Outcome(StrEnum):
    """How two sides compare, from the closest to the farthest."""

    IDENTICAL = "identical"
    """Same files (mtime aside unless strict), same layers in the same order, same config."""
    SAME_CONTENT = "same content"
    """Every file has the same type and bytes; metadata (mode, owner, xattrs, mtime), layers,
    config or history differ."""
    DIFFERENT = "different"
    """Files were added, removed, or differ in type, bytes or link target."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome, the line that says it, and the counts behind it."""

    outcome: Outcome
    text: str
    files: int
    size_delta: int

    @property
    def identical(self) -> bool:
        """True for IDENTICAL (what ``diff`` exits 0 for)."""
        return self.outcome is Outcome.IDENTICAL


def signed_size(n: int) -> str:
    """``+1.2 MB``, ``-116 bytes``, ``+0 bytes``."""
    return ("-" if n < 0 else "+") + human_size(abs(n))


def judge(files: FilesDiff, layers: LayersDiff | None = None, config: ConfigDiff | None = None) -> Verdict:
    """The verdict on a comparison; without ``layers`` and ``config`` (a comparison of one folder),
    on the files alone."""
    delta = files.size_delta
    if files.content_count:
        parts = [
            plural(len(files.added), "added", "added"),
            plural(len(files.removed), "removed", "removed"),
            plural(len(files.changed), "changed", "changed"),
        ]
        counts = ", ".join(p for p in parts if not p.startswith("0 "))
        verb = "differs" if files.count == 1 else "differ"
        text = f"{plural(files.count, 'file')} {verb} ({counts}), {signed_size(delta)}"
        return Verdict(Outcome.DIFFERENT, text, files.count, delta)
    why: list[str] = []
    if files.changed:
        aspects = sorted({str(w) for d in files.changed for w in d.what})
        why.append(f"{plural(len(files.changed), 'file')} ({', '.join(aspects)})")
    if layers is not None and not layers.same:
        why.append("layers")
    if config is not None and not config.same:
        why.append(f"config ({', '.join(config.keys)})")
    if not why:
        return Verdict(Outcome.IDENTICAL, "identical", 0, delta)
    return Verdict(
        Outcome.SAME_CONTENT, "same content, metadata differs: " + "; ".join(why), files.count, delta
    )
