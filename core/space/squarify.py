"""The squarified treemap layout (Bruls, Huizing and van Wijk, "Squarified Treemaps", 2000).

Rectangles are laid in rows along the shorter side of the space left; a row takes the next size
for as long as that does not make its worst aspect ratio worse, then the row is fixed and the rest
goes into the remaining space. A row of areas summing to ``s`` along a side ``w``, its biggest
``r+`` and smallest ``r-``, has the worst ratio ``max(w² r+ / s², s² / (w² r-))``. Sizes given
biggest first give the squarest tiles.

``layout`` nests it over a folder of a ``SpaceUsage``: children in their parent's tile, down to a
depth, with the children too small to see (under ``min_tile`` pixels a side, on average) merged
into one "other" tile per folder, and at most ``max_tiles`` tiles in all. Its work is bounded by
what is visible, never by the size of the image. Pure Python: coordinates are floats, in whatever
unit the caller draws in.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence
from typing import NamedTuple

from .usage import SpaceUsage

MIN_TILE = 2.0
"""The side, in pixels, below which a tile is not drawn on its own but merged into "other"."""
MAX_TILES = 8_000
"""Tiles of one layout at most: beyond that, folders are drawn without what they hold (on the 2 GB
benchmark image, 8,000 tiles in 1200 x 800 take about 0.1 s to lay out, the first time)."""
MAX_DEPTH = 12
"""Folder levels one layout goes down at most."""


class Rect(NamedTuple):
    """An axis-aligned rectangle: its top-left corner, width and height (a tuple: thousands are
    made per layout, and a tuple is made fastest)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        """``w * h``."""
        return self.w * self.h

    def inset(self, left: float, top: float, right: float, bottom: float) -> Rect:
        """The rectangle with margins taken off each side (never below zero width or height)."""
        w = max(self.w - left - right, 0.0)
        h = max(self.h - top - bottom, 0.0)
        return Rect(self.x + left, self.y + top, w, h)


def squarify(sizes: Sequence[float], rect: Rect) -> list[Rect]:
    """One rectangle per size, in the same order, together filling ``rect`` with areas in
    proportion to the sizes. Pass sizes biggest first for the squarest tiles.

    Raises ValueError for a size that is not positive and finite.
    """
    for s in sizes:
        if not (s > 0 and math.isfinite(s)):
            raise ValueError(f"treemap sizes must be positive and finite, not {s!r}")
    n = len(sizes)
    if not n:
        return []
    x, y, w, h = rect.x, rect.y, max(rect.w, 0.0), max(rect.h, 0.0)
    if w == 0 or h == 0:
        return [Rect(x, y, w, h) for _ in sizes]
    scale = w * h / math.fsum(sizes)
    areas = [s * scale for s in sizes]
    out: list[Rect] = []
    i = 0
    while i < n:
        if w <= 0 or h <= 0:  # rounding ate the space: what is left (next to nothing) gets none
            out.extend(Rect(x, y, max(w, 0.0), max(h, 0.0)) for _ in range(i, n))
            break
        side2 = min(w, h) ** 2
        total = smallest = biggest = areas[i]
        worst = max(side2 / total, total / side2)  # one square-ish tile: _worst(a, a, a, side)
        j = i + 1
        while j < n:
            a = areas[j]
            t = total + a
            lo = a if a < smallest else smallest  # sizes biggest first: usually ``a``
            hi = a if a > biggest else biggest
            t2 = t * t
            ratio = max(side2 * hi / t2, t2 / (side2 * lo))
            if ratio > worst:
                break
            total, smallest, biggest, worst = t, lo, hi, ratio
            j += 1
        last_row = j == n
        if w >= h:  # a column on the left, as wide as its areas need over the full height
            thick = w if last_row else min(total / h, w)
            pos, end = y, y + h
            for k in range(i, j - 1):
                ext = areas[k] / thick
                out.append(Rect(x, pos, thick, ext))
                pos += ext
            out.append(Rect(x, pos, thick, end - pos))
            x += thick
            w -= thick
        else:  # a row along the top, over the full width
            thick = h if last_row else min(total / w, h)
            pos, end = x, x + w
            for k in range(i, j - 1):
                ext = areas[k] / thick
                out.append(Rect(pos, y, ext, thick))
                pos += ext
            out.append(Rect(pos, y, end - pos, thick))
            y += thick
            h -= thick
        i = j
    return out


class Tile(NamedTuple):
    """One tile of a treemap layout (a tuple, as ``Rect``).

    ``path`` is None for an "other" tile: the ``items`` children of ``parent`` too small to draw,
    merged (``layer`` is then None: they may come from several layers). ``layer`` is the owner of a
    file, the layer holding most of a folder's bytes. ``depth`` is 0 for the children of the folder
    laid out. ``expanded`` says whether the tile's children follow as tiles of their own.
    """

    path: str | None
    parent: str
    rect: Rect
    bytes: int
    layer: int | None
    depth: int
    folder: bool
    items: int = 1
    expanded: bool = False


def layout(
    usage: SpaceUsage,
    folder: str,
    rect: Rect,
    *,
    max_depth: int = MAX_DEPTH,
    min_tile: float = MIN_TILE,
    max_tiles: int = MAX_TILES,
    inset: float = 1.0,
    header: float = 0.0,
) -> list[Tile]:
    """The nested treemap of ``folder`` (its children, theirs, ... down to ``max_depth`` levels)
    in ``rect``: parents before their children (the order to paint in), biggest first per folder.

    A folder's children are laid inside its tile less ``inset`` on each side and ``header`` at the
    top (room for a border and a label); a folder is opened only when that space is at least
    ``2 * min_tile`` a side. Children whose tile would have less than ``min_tile`` squared in area
    are merged into one "other" tile. Folders are opened level by level until ``max_tiles`` tiles
    are made (the last ones are then drawn closed). Raises KeyError for a folder not in ``usage``.
    """
    out: list[Tile] = []
    min_area = min_tile * min_tile
    # (folder, its space, its depth, where its own tile is in ``out``: -1 for the one laid out)
    queue: deque[tuple[str, Rect, int, int]] = deque([(folder, rect, 0, -1)])
    usage.bytes(folder)  # KeyError for a path not in the tree
    while queue:
        here, space, depth, at = queue.popleft()
        paths, sizes, layers, folders = usage.sized_children(here)
        total = usage.bytes(here)
        area = space.w * space.h
        if not sizes or total <= 0 or area <= 0:
            continue
        room = max_tiles - len(out)
        if room <= 0:
            break
        # children are biggest first: those worth a tile of their own are a prefix
        least = min_area * total / area
        keep = bisect.bisect_right(sizes, -least, hi=min(len(sizes), room - 1), key=_negative)
        if keep == 0 and depth > 0:
            continue  # all too small: the folder stays one tile
        if keep == len(sizes) - 1:
            keep += 1  # one child left: itself rather than an "other" of one
        rest = total - sum(sizes[:keep])
        parts: Sequence[float] = sizes[:keep] if rest <= 0 else [*sizes[:keep], rest]
        rects = squarify(parts, space)
        if at >= 0:
            out[at] = out[at]._replace(expanded=True)
        deeper = depth + 1 < max_depth
        room_for = 2 * min_tile
        for k in range(keep):
            p = paths[k]
            r = rects[k]
            if folders[k]:
                out.append(Tile(p, here, r, sizes[k], layers[k], depth, True))
                if deeper:
                    inner = Rect(r.x + inset, r.y + inset + header, r.w - 2 * inset, r.h - 2 * inset - header)
                    if inner.w >= room_for and inner.h >= room_for:
                        queue.append((p, inner, depth + 1, len(out) - 1))
            else:
                out.append(Tile(p, here, r, sizes[k], layers[k], depth, False))
        if rest > 0:
            out.append(Tile(None, here, rects[-1], rest, None, depth, False, len(sizes) - keep))
    return out


def _negative(size: int) -> int:
    return -size
