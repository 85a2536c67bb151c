"""Waste explained: LayerScope's hidden bytes grouped by folder and by the layer that hid them,
each item saying why in words, and the headline that puts dive's figures and LayerScope's side by
side with what each one counts.

Everything comes from the merge's waste events (one per file copy hidden), counted as
core/waste.py's ``waste_items`` counts them: the same copies, the same base-layer rule, so the
totals here are that module's ``wasted_bytes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from ..display import human_size, readable_command
from ..dive_figures import DiveFigures
from ..merge import ImageTree
from ..progress import CancelCheck, check_cancelled
from ..turns import sorted_in_turns
from ..waste import CHUNK, LayerScopeFigures

COMMAND_CHARS = 60
"""Characters of a step's command quoted in an explanation (longer ones end with "…")."""


class HiddenCopy(NamedTuple):
    """One copy of a path that the top does not show: stored by ``layer`` (``size`` bytes), hidden
    by layer ``by``, either ``deleted`` (a deletion removed it) or shadowed (a newer copy replaced
    it; ``by == layer`` when the layer itself stored the path twice)."""

    layer: int
    size: int
    by: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class Steps:
    """Each layer's build step, readable and short, for the sentences (``""`` when unknown)."""

    commands: tuple[str, ...]

    @classmethod
    def of(cls, tree: ImageTree) -> Steps:
        """The steps of the layers of ``tree``, from the image's history."""
        out = []
        for li in tree.layers:
            h = li.desc.history
            out.append(short_command(h.text) if h is not None else "")
        return cls(tuple(out))

    def name(self, layer: int) -> str:
        """``#1 (apt-get clean)``; ``#1`` alone when the step is unknown."""
        c = self.commands[layer] if 0 <= layer < len(self.commands) else ""
        return f"#{layer} ({c})" if c else f"#{layer}"


def short_command(created_by: str) -> str:
    """A history step as an explanation quotes it: readable (core/display.py), without the
    ``RUN`` word and BuildKit's mark, on one line, cut at COMMAND_CHARS."""
    c = readable_command(created_by).removesuffix("# buildkit").removeprefix("RUN ").strip()
    c = " ".join(c.split())
    return c if len(c) <= COMMAND_CHARS else c[: COMMAND_CHARS - 1].rstrip() + "…"


class ExplainedWaste(NamedTuple):
    """One path's hidden copies (all of them, or those one layer hid): ``size`` bytes in all;
    ``gone`` when the path is absent from the final filesystem. ``why`` says it in words (made
    when asked: an image may have a hundred thousand items). Tuples, as the merge's waste events
    are: made by the ten thousand, they cost a fraction of a frozen dataclass."""

    path: str
    size: int
    copies: tuple[HiddenCopy, ...]
    gone: bool
    steps: Steps

    @property
    def stored_in(self) -> int:
        """The layer that stored the biggest hidden copy (the lowest among equals): where to show it."""
        return min(self.copies, key=lambda c: (-c.size, c.layer)).layer

    @property
    def why(self) -> str:
        """``stored by #0, deleted by #1 (apt-get clean)``; one clause per copy, joined by ``; ``."""
        name = self.steps.name
        parts = []
        for c in self.copies:
            if c.by == c.layer:
                parts.append(f"stored twice by {name(c.layer)}, the later copy shadows it")
            else:
                verb = "deleted" if c.deleted else "shadowed"
                parts.append(f"stored by #{c.layer}, {verb} by {name(c.by)}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class WasteFolder:
    """A folder's share of the waste: ``bytes`` hidden below it, in ``items`` paths."""

    path: str
    bytes: int
    items: int


class WasteByFolder:
    """The explained waste as a tree of folders: totals per folder, opened one level at a time."""

    def __init__(self, items: Sequence[ExplainedWaste]) -> None:
        sizes: dict[str, int] = {"": 0}
        counts: dict[str, int] = {"": 0}
        direct: dict[str, list[ExplainedWaste]] = {}
        for w in items:  # biggest first: each folder's list stays so
            i = w.path.rfind("/")
            folder = w.path[:i] if i >= 0 else ""
            direct.setdefault(folder, []).append(w)
            sizes[folder] = sizes.get(folder, 0) + w.size
            counts[folder] = counts.get(folder, 0) + 1
        # every folder above one holding waste, each added up into its parent (longest path first)
        folders = set(sizes)
        for f in list(folders):
            while f:
                i = f.rfind("/")
                f = f[:i] if i >= 0 else ""
                if f in folders:
                    break
                folders.add(f)
        subs: dict[str, list[str]] = {}
        for f in sorted(folders, key=len, reverse=True):
            if not f:
                continue
            i = f.rfind("/")
            up = f[:i] if i >= 0 else ""
            sizes[up] = sizes.get(up, 0) + sizes.get(f, 0)
            counts[up] = counts.get(up, 0) + counts.get(f, 0)
            subs.setdefault(up, []).append(f)
        self._sizes = sizes
        self._counts = counts
        self._direct = direct
        self._subs = subs

    @property
    def total(self) -> int:
        """Every hidden byte (the root's total)."""
        return self._sizes[""]

    def folder(self, path: str) -> WasteFolder:
        """One folder's totals ("" is the root; a folder without waste has none)."""
        return WasteFolder(path, self._sizes.get(path, 0), self._counts.get(path, 0))

    def children(self, path: str) -> tuple[list[WasteFolder], list[ExplainedWaste]]:
        """What folder ``path`` holds: its subfolders with waste below them, and the wasted paths
        directly in it, each biggest first (by path among equals)."""
        subs = [self.folder(f) for f in sorted(self._subs.get(path, ()))]
        subs.sort(key=attrgetter("bytes"), reverse=True)
        return subs, list(self._direct.get(path, ()))


@dataclass(frozen=True, slots=True)
class WasteCause:
    """One layer that hid bytes stored earlier (or that stored a path twice): ``bytes`` in all,
    ``deleted`` of them by deletions, the rest shadowed; ``stored_by`` maps each layer whose copies
    it hid to their bytes; ``items`` are the paths, biggest first."""

    layer: int
    command: str
    bytes: int
    deleted: int
    stored_by: dict[int, int]
    items: tuple[ExplainedWaste, ...]

    @property
    def shadowed(self) -> int:
        """The bytes this layer hid by storing a newer copy of the path."""
        return self.bytes - self.deleted


@dataclass(frozen=True, slots=True)
class WasteExplained:
    """The waste of one image explained: ``items`` (one per path, biggest first: core/waste.py's
    ``wasted`` list), ``by_folder`` and ``by_cause`` (the layers that hid something, in layer
    order); ``total`` is LayerScope's ``wasted_bytes``."""

    total: int
    items: tuple[ExplainedWaste, ...]
    by_folder: WasteByFolder
    by_cause: tuple[WasteCause, ...]
    steps: Steps


def _by_size(items: list[ExplainedWaste]) -> list[ExplainedWaste]:
    """Biggest first, by path among equals (core/waste.py's order)."""
    return sorted_in_turns(sorted_in_turns(items, attrgetter("path")), attrgetter("size"), reverse=True)


def explain_waste(
    tree: ImageTree, base_layers: int = 0, cancelled: CancelCheck | None = None
) -> WasteExplained:
    """The waste of the merged ``tree`` explained, leaving out waste made within the first
    ``base_layers`` layers as ``waste_items`` does. One pass over the tree's waste events, then
    over the paths. Raises Cancelled."""
    steps = Steps.of(tree)
    copies: dict[str, list[HiddenCopy]] = {}
    events = tree.waste_events
    for start in range(0, len(events), CHUNK):
        check_cancelled(cancelled)
        for path, layer, size, by, deleted in events[start : start + CHUNK]:
            if layer < base_layers and by < base_layers:
                continue
            c = HiddenCopy(layer, size, by, deleted)
            got = copies.get(path)
            if got is None:
                copies[path] = [c]
            else:
                got.append(c)
    check_cancelled(cancelled)
    nodes = tree.nodes
    items = _by_size(
        [
            ExplainedWaste(
                p, cs[0].size if len(cs) == 1 else sum(c.size for c in cs), tuple(cs), p not in nodes, steps
            )
            for p, cs in copies.items()
        ]
    )
    check_cancelled(cancelled)
    per_cause: dict[int, list[ExplainedWaste]] = {}
    for w in items:
        if len(w.copies) == 1:  # most paths: one copy hidden once
            per_cause.setdefault(w.copies[0].by, []).append(w)
            continue
        bys = {c.by for c in w.copies}
        if len(bys) == 1:
            per_cause.setdefault(next(iter(bys)), []).append(w)
            continue
        for by in sorted(bys):
            mine = tuple(c for c in w.copies if c.by == by)
            part = ExplainedWaste(w.path, sum(c.size for c in mine), mine, w.gone, steps)
            per_cause.setdefault(by, []).append(part)
    causes = []
    for by in sorted(per_cause):
        its = per_cause[by]
        stored_by: dict[int, int] = {}
        removed = 0
        for w in its:
            for c in w.copies:
                stored_by[c.layer] = stored_by.get(c.layer, 0) + c.size
                if c.deleted:
                    removed += c.size
        its = _by_size(its)
        total = sum(w.size for w in its)
        command = steps.commands[by] if by < len(steps.commands) else ""
        causes.append(WasteCause(by, command, total, removed, dict(sorted(stored_by.items())), tuple(its)))
    return WasteExplained(
        sum(w.size for w in items), tuple(items), WasteByFolder(items), tuple(causes), steps
    )


@dataclass(frozen=True, slots=True)
class WasteHeadline:
    """Both sets of figures in words: ``layerscope`` and ``dive`` one clause each, ``text`` the two
    in one line, ``explanation`` what each counts (a tooltip)."""

    text: str
    layerscope: str
    dive: str
    explanation: str


EXPLANATION = (
    "LayerScope counts the bytes stored in layers that the final filesystem does not show: older "
    "copies shadowed by a later one and files deleted by a later step, files inside deleted folders "
    "included; the copy you see is never counted. dive compares, path by path, the smallest copy "
    "with all the copies stored (efficiency), and adds up every copy of each path stored more than "
    "once, the visible one included (wasted bytes). A folder deleted as a whole adds nothing to "
    "dive's figures: dive sees the deletion of the folder, not of the files it held. So an image "
    "can read 100 % efficient for dive and still have bytes hidden by later layers."
)


def waste_headline(dive: DiveFigures, figures: LayerScopeFigures) -> WasteHeadline:
    """The headline of the waste panel for one image's dive and LayerScope figures."""
    base = f", the first {figures.base_layers} layers left out" if figures.base_layers else ""
    ours = (
        f"{human_size(figures.wasted_bytes)} hidden by later layers "
        f"({figures.wasted_percent * 100:.1f} % of the bytes stored{base}; LayerScope)"
    )
    theirs = f"efficiency {dive.efficiency * 100:.1f} %, {human_size(dive.wasted_bytes)} wasted (dive)"
    return WasteHeadline(f"{ours} · {theirs}", ours, theirs, EXPLANATION)
