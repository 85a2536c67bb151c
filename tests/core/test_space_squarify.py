"""The squarified treemap (core/space/squarify.py) against its properties: the tiles fill the
rectangle, each tile's area is its share within a pixel, no two overlap, the same input gives the
same output; and the nested layout stays inside its parents, merges what is too small to see and
stays within its tile budget."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerscope.core.merge import merge
from layerscope.core.space.squarify import Rect, Tile, layout, squarify
from layerscope.core.space.usage import usage_of_tree
from tests.core.test_merge_table import d, f, stack

sizes_st = st.lists(st.floats(min_value=1e-3, max_value=1e9, allow_nan=False), min_size=1, max_size=60)
rect_st = st.builds(
    Rect,
    st.floats(-1000, 1000),
    st.floats(-1000, 1000),
    st.floats(1, 3000),
    st.floats(1, 3000),
)


def overlap(a: Rect, b: Rect) -> float:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(w, 0.0) * max(h, 0.0)


@settings(max_examples=300, deadline=None)
@given(sizes_st, rect_st)
def test_tiles_fill_the_rectangle_in_proportion_without_overlap(sizes, rect):
    sizes = sorted(sizes, reverse=True)
    tiles = squarify(sizes, rect)
    assert len(tiles) == len(sizes)
    eps = 1e-6 * max(rect.w, rect.h, 1.0)
    for t in tiles:  # inside the rectangle
        assert t.w >= 0 and t.h >= 0
        assert t.x >= rect.x - eps and t.y >= rect.y - eps
        assert t.x + t.w <= rect.x + rect.w + eps and t.y + t.h <= rect.y + rect.h + eps
    assert math.isclose(sum(t.area for t in tiles), rect.area, rel_tol=1e-9)  # together: all of it
    total = math.fsum(sizes)
    for s, t in zip(sizes, tiles, strict=True):  # each its share, within a pixel
        assert abs(t.area - s / total * rect.area) <= 1.0
    for i, a in enumerate(tiles):
        for b in tiles[i + 1 :]:
            assert overlap(a, b) <= 1e-6 * rect.area
    assert squarify(sizes, rect) == tiles  # deterministic


@settings(max_examples=100, deadline=None)
@given(sizes_st, rect_st)
def test_any_order_still_fills_and_keeps_the_order(sizes, rect):
    tiles = squarify(sizes, rect)
    assert math.isclose(sum(t.area for t in tiles), rect.area, rel_tol=1e-9)
    total = math.fsum(sizes)
    assert all(abs(t.area - s / total * rect.area) <= 1.0 for s, t in zip(sizes, tiles, strict=True))


def test_squares_stay_square_and_bad_sizes_are_refused():
    tiles = squarify([1, 1, 1, 1], Rect(0, 0, 100, 100))
    assert sorted((t.x, t.y, t.w, t.h) for t in tiles) == [
        (0, 0, 50, 50),
        (0, 50, 50, 50),
        (50, 0, 50, 50),
        (50, 50, 50, 50),
    ]
    # the paper's example: 6 6 4 3 2 2 1 in a 6 x 4 rectangle, worst ratio well under 3
    tiles = squarify([6, 6, 4, 3, 2, 2, 1], Rect(0, 0, 6, 4))
    assert max(max(t.w / t.h, t.h / t.w) for t in tiles) < 3
    assert squarify([], Rect(0, 0, 1, 1)) == []
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            squarify([1, bad], Rect(0, 0, 10, 10))


def _image(files_per_folder: int, folders: int):
    entries = []
    for k in range(folders):
        entries.append(d(f"d{k}"))
        entries.append(d(f"d{k}/sub"))
        entries.extend(
            f(f"d{k}/sub/f{j}", 1 + (j * 7919) % 1000 + 10**6 * (j == 0)) for j in range(files_per_folder)
        )
    return usage_of_tree(merge(stack(entries)))


def _check_nested(tiles: list[Tile], root: Rect) -> None:
    by_path = {t.path: t for t in tiles if t.path is not None}
    groups: dict[str, list[Tile]] = {}
    for t in tiles:
        groups.setdefault(t.parent, []).append(t)
    for parent, kids in groups.items():
        outer = by_path[parent].rect if parent in by_path else root
        if parent in by_path:
            assert by_path[parent].expanded
        for t in kids:
            r = t.rect
            assert r.x >= outer.x - 1e-6 and r.x + r.w <= outer.x + outer.w + 1e-6
            assert r.y >= outer.y - 1e-6 and r.y + r.h <= outer.y + outer.h + 1e-6
        for i, a in enumerate(kids):
            for b in kids[i + 1 :]:
                assert overlap(a.rect, b.rect) <= 1e-6
    assert all(not t.expanded for t in tiles if t.path not in groups)


def test_nested_layout_nests_merges_the_tiny_and_keeps_to_its_budget():
    usage = _image(400, 4)
    root = Rect(0, 0, 1200, 800)
    tiles = layout(usage, "", root)
    _check_nested(tiles, root)
    top = [t for t in tiles if t.parent == ""]
    assert sum(t.bytes for t in top) == usage.bytes("")
    others = [t for t in tiles if t.path is None]
    assert others and all(t.layer is None and t.items > 1 for t in others)
    # every tile of its own is worth at least min_tile squared of its parent's space
    assert all(t.rect.area >= 4.0 - 1e-6 for t in tiles if t.path is not None)
    assert tiles == layout(usage, "", root)  # deterministic
    small = layout(usage, "", root, max_tiles=50)
    assert len(small) <= 50
    _check_nested(small, root)
    assert [t.path for t in layout(usage, "", root, max_depth=1)] == [t.path for t in top]
    zoomed = layout(usage, "d3/sub", root)
    assert {t.parent for t in zoomed} == {"d3/sub"}
    with pytest.raises(KeyError):
        layout(usage, "nope", root)
